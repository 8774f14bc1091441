"""Rollouts on Ray workers: a collection sharded over 2 workers writes the dataset one simulation writes
(the evaluation's 1-vs-2-workers test is in test_determinism.py), a worker that dies is replaced, a pool
keeps its workers from run to run, and a trainer's validation and DAgger run on workers.
Each collection is its own process (one simulation per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from episodes import files as dataset

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str]) -> None:
    proc = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]


def collect(root: Path, *flags: str) -> list[tuple[dict, dict]]:
    run(["tools/collect.py", "--env", "rooms", "--episodes", "2", "--camera-size", "16", "--device", "cpu",
         "--root", str(root), *flags])  # fmt: skip
    return [dataset.read_episode(path) for path in dataset.episode_files(root / "data" / "rooms" / "demos")]


def test_collected_dataset_does_not_depend_on_the_number_of_workers(tmp_path):
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    one = collect(tmp_path / "one", "--num-envs", "2")
    two = collect(tmp_path / "two", "--num-envs", "1", "--workers", "2")
    assert len(one) == len(two) == 2
    for (data_1, attrs_1), (data_2, attrs_2) in zip(one, two, strict=True):
        assert attrs_1 == attrs_2
        for key in ("actions", "executed_actions"):
            np.testing.assert_array_equal(data_1[key], data_2[key])
        np.testing.assert_array_equal(data_1["obs"]["rgb"], data_2["obs"]["rgb"])
        np.testing.assert_array_equal(data_1["labels"]["robot_pose"], data_2["labels"]["robot_pose"])
    # DART noise (the scenes' default 0.1) was applied, per episode, the same in both
    assert not np.allclose(one[0][0]["actions"], one[0][0]["executed_actions"])


def test_a_worker_that_dies_is_replaced_and_the_pool_keeps_its_workers(tmp_path, capsys):
    """The first shard kills its worker once; a new worker runs it again and nothing else is lost. The next
    run on the pool finds the surviving workers (the same processes, no new simulations) and sets them up
    for its own job; they run at normal priority."""
    from envs.registry import make_env_cfg
    from rollouts.workers import WorkerPool

    marker = tmp_path / "died"

    def work(env, state, shard):
        import os

        if shard == 0 and not marker.exists():
            marker.touch()
            os._exit(1)  # as a crash or an out-of-memory kill would
        return shard * 10 + env.unwrapped.num_envs, os.getpid()

    def next_job(env, state, shard):
        import os

        return state, os.getpid(), os.nice(0)

    import ray

    cfg = make_env_cfg("arena", 1, "cpu", cameras=False)
    try:
        with WorkerPool("arena", cfg, 2, 1) as pool:
            first, interrupted = pool.run(lambda env: None, work, range(3))
            second, _ = pool.run(lambda env: "set up", next_job, range(4))
    finally:
        ray.shutdown()
    assert {i: value for i, (value, _) in first.items()} == {0: 1, 1: 11, 2: 21}
    assert not interrupted and marker.exists()
    assert "a worker died" in capsys.readouterr().out
    survivors, reused = {pid for _, pid in first.values()}, {pid for _, pid, _ in second.values()}
    assert survivors <= reused and len(reused) == 2
    assert [state for state, _, _ in second.values()] == ["set up"] * 4
    assert [nice for _, _, nice in second.values()] == [0] * 4  # not Ray's default of 15


def test_validation_and_dagger_run_on_workers(tmp_path):
    """A trainer's rollouts on Ray workers: closed-loop validation gives the same figures on 1 and 2
    workers, and a DAgger round writes every episode the driver drove, labelled by the expert."""
    import ray
    import torch

    from envs.registry import make_env_cfg
    from episodes.sets import load_episode_set
    from rollouts.runner import WorkerRollouts
    from rollouts.workers import WorkerPool
    from tools.registry import make_labeller
    from training.validation import closed_loop

    def planner(model, num_envs):  # nested, so it is pickled by value to the workers
        from tools.registry import make_policy

        return make_policy("planner", "rooms", None, num_envs, "cpu")

    def make_driver(env):
        return planner(None, env.unwrapped.num_envs)

    cfg = make_env_cfg("rooms", 1, "cpu", camera_width=16, camera_height=16)
    episodes = load_episode_set("rooms", "test", "test")[:3]
    try:
        with WorkerPool("rooms", cfg, 1, 1) as pool:
            one = closed_loop(WorkerRollouts(pool), planner, episodes)(None)
        with WorkerPool("rooms", cfg, 2, 1) as pool:
            two = closed_loop(WorkerRollouts(pool), planner, episodes)(None)
            kept = WorkerRollouts(pool).record(make_labeller("planner", None, "rooms"), make_driver,
                                               tmp_path / "dagger", "rooms", 0, seed=7, wanted=2)  # fmt: skip
    finally:
        ray.shutdown()
    assert one == two and one["val_success"] == 1.0
    files = dataset.episode_files(tmp_path / "dagger")
    assert sorted(kept) == [0, 1] and len(files) == 2
    data, _ = dataset.read_episode(files[0])
    assert torch.from_numpy(data["actions"]).abs().sum() > 0  # the expert's labels were recorded
