"""Rollouts on Ray workers: a collection sharded over 2 workers writes the dataset one simulation writes
(the evaluation's 1-vs-2-workers test is in test_determinism.py), and a worker that dies is replaced.
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


def test_a_worker_that_dies_is_replaced_and_its_shard_reruns(tmp_path, capsys):
    """The first shard kills its worker once; a new worker runs it again and nothing else is lost."""
    from envs.registry import make_env_cfg
    from rollouts.workers import run_sharded, start_ray

    marker = tmp_path / "died"

    def work(env, state, shard):
        import os

        if shard == 0 and not marker.exists():
            marker.touch()
            os._exit(1)  # as a crash or an out-of-memory kill would
        return shard * 10 + env.unwrapped.num_envs

    import ray

    start_ray(None, 2)
    cfg = make_env_cfg("arena", 1, "cpu", cameras=False)
    try:
        results, interrupted = run_sharded("arena", cfg, lambda env: None, work, range(3), 2, 1)
    finally:
        ray.shutdown()
    assert results == {0: 1, 1: 11, 2: 21} and not interrupted and marker.exists()
    assert "a worker died" in capsys.readouterr().out


def test_validation_and_dagger_run_on_workers(tmp_path):
    """A trainer's rollouts on Ray workers: closed-loop validation gives the same figures on 1 and 2
    workers, and a DAgger round writes every episode the driver drove, labelled by the expert."""
    import ray
    import torch

    from envs.registry import make_env_cfg
    from episodes.sets import load_episode_set
    from rollouts.runner import WorkerRollouts
    from rollouts.workers import start_ray
    from tools.collect import make_expert
    from training.validation import closed_loop

    def planner(model, num_envs):  # nested, so it is pickled by value to the workers
        from tools.registry import make_policy

        return make_policy("planner", "rooms", None, num_envs, "cpu")

    def make_driver(env):
        return planner(None, env.unwrapped.num_envs)

    cfg = make_env_cfg("rooms", 1, "cpu", camera_width=16, camera_height=16)
    episodes = load_episode_set("rooms", "test", "test")[:3]
    start_ray(None, 2)
    try:
        one = closed_loop(WorkerRollouts("rooms", cfg, 1, 1), planner, episodes)(None)
        two = closed_loop(WorkerRollouts("rooms", cfg, 2, 1), planner, episodes)(None)
        kept = WorkerRollouts("rooms", cfg, 2, 1).record(make_expert("planner", None, "rooms"), make_driver,
                                                         tmp_path / "dagger", "rooms", 0, seed=7, wanted=2)  # fmt: skip
    finally:
        ray.shutdown()
    assert one == two and one["val_success"] == 1.0
    files = dataset.episode_files(tmp_path / "dagger")
    assert sorted(kept) == [0, 1] and len(files) == 2
    data, _ = dataset.read_episode(files[0])
    assert torch.from_numpy(data["actions"]).abs().sum() > 0  # the expert's labels were recorded
