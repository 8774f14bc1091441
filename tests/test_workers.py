"""Rollouts on Ray workers: a collection sharded over 2 workers writes the dataset one simulation writes
(the evaluation's 1-vs-2-workers test is in test_determinism.py), a worker that dies is replaced, a pool
keeps its workers from run to run, a trainer's validation and DAgger run on workers, and workers that
cannot start end the command in bounded time with nothing of Ray left behind.
Each collection is its own process (one simulation per process)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
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


def processes_with(marker: str) -> list[int]:
    """Pids of the processes whose environment holds `marker` (a command's, and every process Ray started
    for it: they inherit it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:  # gone, or another user's
            continue
    return pids


def test_workers_that_cannot_start_end_the_command_in_bounded_time(tmp_path):
    """As under `uv run` where uv cannot fetch the driver's Python (Ray then starts each worker with a
    Python that never runs and retries it every minute, for good), here with a runtime-env hook that gives
    the workers a Python that does not exist: the evaluation ends within the start timeout with one line,
    and no Ray process (raylet, gcs, ray:: workers) outlives it."""
    (tmp_path / "bogus_python.py").write_text(
        "def hook(runtime_env):\n    return {**(runtime_env or {}), 'py_executable': '/nonexistent/python'}\n"
    )
    marker = f"GOALNAV_TEST_{uuid.uuid4().hex}"
    ray_tmp = tempfile.mkdtemp(prefix="gnray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "RAY_TMPDIR": ray_tmp,
           "RAY_RUNTIME_ENV_HOOK": "bogus_python.hook", "GOALNAV_WORKER_START_TIMEOUT": "5", marker: "1"}  # fmt: skip
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "evaluation/run.py", "--policy", "planner", "--env", "rooms",
                               "--episodes", "2", "--num-envs", "1", "--workers", "2", "--device", "cpu",
                               "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=240, cwd=ROOT, env=env)  # fmt: skip
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + 5  # processes that were told to end, given a moment
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = processes_with(marker)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(errors) == 1 and "did not start within 5 s" in errors[0], proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1] == errors[0]  # the last word is the reason
    # Ray's start (about 15 s here) + 5 s + its shutdown; without the bound: forever
    assert elapsed < 120, elapsed
    assert not left, f"Ray processes left behind: {left}"


def test_an_address_that_is_no_ray_head_ends_the_command_in_bounded_time(tmp_path):
    """A --ray-address that takes connections but never answers as Ray would keep ray.init waiting for
    minutes: the command ends after the join timeout with one line, exit 1."""
    with socket.create_server(("0.0.0.0", 0)) as silent:  # accepts (the kernel does), never answers
        port = silent.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GOALNAV_RAY_JOIN_TIMEOUT": "5"}
        proc = subprocess.run([sys.executable, "evaluation/run.py", "--policy", "random", "--env", "arena",
                               "--episodes", "2", "--num-envs", "1", "--ray-address", f"127.0.0.1:{port}",
                               "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)  # fmt: skip
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(errors) == 1 and "did not let this process join within 5 s" in errors[0], proc.stderr[-3000:]


def test_workers_run_the_drivers_python_under_uv_run(monkeypatch):
    """A driver under `uv run` made Ray start every worker as `uv run --python 3.12.1 python`, which hung for
    good where uv cannot download that Python; with Ray's uv-run detection off, workers get no such command."""
    import ray._private.worker as ray_worker
    from ray._private import ray_constants
    from ray._private.runtime_env import uv_runtime_env_hook

    from rollouts.workers import driver_python_for_workers

    monkeypatch.chdir(ROOT)  # uv run's project (pyproject.toml), as Ray's hook expects
    monkeypatch.setenv("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "1")  # restored afterwards, like the constant
    monkeypatch.setattr(ray_constants, "RAY_ENABLE_UV_RUN_RUNTIME_ENV", True)
    uv_run = ["/usr/bin/uv", "run", "python", "evaluation/run.py", "--workers", "2"]
    monkeypatch.setattr(uv_runtime_env_hook, "_get_uv_run_cmdline", lambda: uv_run)
    before = ray_worker._maybe_modify_runtime_env({"env_vars": {"A": "1"}}, False)
    assert before["py_executable"].startswith("/usr/bin/uv run --python ")  # what hung
    driver_python_for_workers()
    assert ray_worker._maybe_modify_runtime_env({"env_vars": {"A": "1"}}, False) == {"env_vars": {"A": "1"}}
    assert os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0"  # the processes Ray starts inherit it
