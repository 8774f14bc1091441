"""Rollouts sharded over Ray worker processes, one simulation each (one simulation per process).

A local Ray starts in-process unless `address` (or $RAY_ADDRESS) names a cluster to join. A `WorkerPool`
holds the workers: actors that launch their simulation once and then run shards of work handed out in
order, for as many runs as the pool lives (a trainer's validations); a worker that dies is replaced and
its shard runs again, while the results of finished shards are kept. A worker that does not start within
START_TIMEOUT seconds (a Python that cannot run, a cluster with no free slot) ends the run with a
WorkerError, and a local Ray this process started is shut down with it. Workers run the driver's own
Python whatever launched it: Ray's `uv run` detection (which starts workers with `uv run --python X.Y.Z`,
a Python uv may try and fail to download) is switched off. Each worker takes
one GPU where the cluster has them and the simulation runs on cuda (Ray then shows each worker only
its own GPU, as cuda:0). On a cluster, every node needs this repository installed the same way
and, for collection, the dataset folder on a shared file system.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from tqdm import tqdm

from compute import set_threads

MAX_REPLACEMENTS = 3  # workers that may die in one run before it gives up
# seconds a worker process may take to start (not its simulation): Ray's own registration timeout is 60 s,
# after which it retries for good; a loaded 2-core machine starts one in under 20 s
START_TIMEOUT = float(os.environ.get("GOALNAV_WORKER_START_TIMEOUT", 120))
# seconds to join a cluster by --ray-address: a head lets a driver join in about 10 s on a loaded 2-core machine
JOIN_TIMEOUT = float(os.environ.get("GOALNAV_RAY_JOIN_TIMEOUT", 30))


class WorkerError(RuntimeError):
    """Work that could not finish on the workers (too many died)."""


class SimulationWorker:
    """A Ray actor that holds one simulation for as long as its pool lives. `run(job, shard)` runs one shard
    of a job, a (setup, work) pair: `setup(env)` (run once per job in the actor) builds what the shards need,
    e.g. a policy; `work(env, state, shard)` runs one shard and returns its result."""

    def __init__(self, root: str, threads: int, env_name: str, cfg):
        from storage import set_root

        set_root(root)
        set_threads(threads)
        # the simulation launches with the first shard, so that a started actor says its process runs
        self._stack, self._launch, self.env = ExitStack(), (env_name, cfg), None
        self._job_id, self._state, self._work = None, None, None

    def run(self, job: tuple[int, list], shard: Any) -> Any:
        import ray

        if self.env is None:
            from envs.registry import launch

            self.env = self._stack.enter_context(launch(*self._launch))
        # the ref sits in a list, so Ray hands it over unresolved: it is fetched once per job, not per shard
        job_id, [job_ref] = job
        if job_id != self._job_id:
            setup, self._work = ray.get(job_ref)
            self._state, self._job_id = setup(self.env), job_id
        return self._work(self.env, self._state, shard)


def driver_python_for_workers() -> None:
    """Workers run this process's Python: turn off Ray's `uv run` detection, which (with the driver under
    `uv run`) starts every worker as `uv run --python X.Y.Z python`; where uv cannot find or download that
    Python the worker never starts and the raylet retries it every minute, for good."""
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"  # read when ray is imported, here and in its processes
    from ray._private import ray_constants

    ray_constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV = False  # ray may have been imported already


def join_cluster(address: str, timeout: float = JOIN_TIMEOUT) -> None:
    """ray.init(address) within `timeout` seconds, else a WorkerError: an address that takes connections but
    is no Ray head (or a head that does not answer) keeps ray.init waiting for minutes. It waits in a daemon
    thread, which the command may leave behind when it ends."""
    import threading

    import ray

    outcome: list[BaseException | None] = []

    def init() -> None:
        try:
            ray.init(address=address, log_to_driver=False)
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 -- handed to the waiting thread
            outcome.append(err)

    thread = threading.Thread(target=init, name="ray-join", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise WorkerError(f"the Ray cluster at {address} did not let this process join within {timeout:g} s")
    if outcome[0] is not None:
        raise WorkerError(f"cannot join the Ray cluster at {address}: {first_line(outcome[0])}") from None


def start_ray(address: str | None = None, workers: int = 1) -> dict:
    """Join the cluster at `address` ($RAY_ADDRESS when None), else start a local Ray with at least one
    CPU slot per worker; returns the cluster's resources. A cluster that cannot be joined is a WorkerError."""
    driver_python_for_workers()
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        if address:
            join_cluster(address)
        else:
            from compute import cores

            # "local": a new in-process Ray even where a stale /tmp/ray/ray_current_cluster names another.
            # Twice the slots: killed workers (a dead one, or those an early stop ends) may hold theirs until
            # Ray has reaped them (seen for minutes on a loaded machine), and their replacements must not
            # wait for that; a pool never has more than `workers` alive.
            ray.init(address="local", num_cpus=2 * max(cores(), workers), include_dashboard=False,
                     log_to_driver=False)  # fmt: skip
    return ray.cluster_resources()


def unreachable(address: str, timeout: float = 20) -> str | None:
    """Why the Ray cluster at `address` (host:port, ray://host:port; auto and local are left to Ray) cannot
    be reached within `timeout` seconds, or None."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None if address in ("auto", "local") else f"{address!r} is not HOST:PORT, auto or local"
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        return err.strerror or str(err) or type(err).__name__
    return None


def first_line(err: BaseException) -> str:
    """An exception's message on one line (Ray's carry the remote traceback below it)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def ray_logs() -> str:
    """Where the local Ray session keeps its logs (raylet.out says why a worker did not start)."""
    try:
        from ray._private import worker

        return f"{worker._global_node.get_session_dir_path()}/logs"
    except Exception:  # noqa: BLE001 -- only a hint in an error message
        return "/tmp/ray/session_latest/logs"


class WorkerPool:
    """Up to `workers` simulation workers (Ray actors, one simulation each, launching `env_name` with `cfg`)
    that live as long as the pool, so a command that runs work many times (a validation every N training
    steps) launches each simulation once. Workers start when there is a shard for them; Ray starts (or
    joins `address`) if it has not. Use as a context manager; `close()` ends the workers."""

    def __init__(self, env_name: str, cfg, workers: int, threads: int, address: str | None = None):
        import ray

        from storage import workspace_root

        self._owns_ray = not ray.is_initialized() and not (address or os.environ.get("RAY_ADDRESS"))
        start_ray(address, workers)
        self.env_name, self.workers = env_name, workers
        gpus = 1 if cfg.sim.device.startswith("cuda") and ray.cluster_resources().get("GPU", 0) >= 1 else 0
        if gpus:  # a worker sees only the GPU Ray gave it
            cfg = copy.deepcopy(cfg)
            cfg.sim.device = "cuda:0"
        self.cfg = cfg
        # Ray starts workers at nice 15; these do the command's work while it waits, so they run at 0
        actor = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0,
                           runtime_env={"env_vars": {"RAY_worker_niceness": "0"}})(SimulationWorker)  # fmt: skip
        self._actor = lambda: actor.remote(str(workspace_root()), threads, env_name, cfg)
        self._idle: list = []  # live workers not running a shard (the others are in a run's `running`)
        self._starting: dict = {}  # ready ref -> (worker, deadline) of workers whose process has not started
        self._jobs = itertools.count()

    def _new_worker(self):
        import time

        worker = self._actor()
        self._starting[worker.__ray_ready__.remote()] = (worker, time.monotonic() + START_TIMEOUT)
        return worker

    def _check_started(self) -> float | None:
        """Forget the workers that have started; a WorkerError for one past its deadline. Returns how long
        the next wait may last before a deadline passes (None: no worker is starting)."""
        import time

        import ray

        if self._starting:
            ready, _ = ray.wait(list(self._starting), num_returns=len(self._starting), timeout=0)
            for ref in ready:  # started, or died while starting (its shard then fails and is rerun)
                del self._starting[ref]
        now = time.monotonic()
        if any(deadline < now for _, deadline in self._starting.values()):
            raise WorkerError(
                f"a Ray worker process did not start within {START_TIMEOUT:g} s (its Python cannot run, or the "
                f"cluster has no free CPU/GPU slot for it); see {ray_logs()}/raylet.out"
            )
        return max(0.1, min(d for _, d in self._starting.values()) - now) if self._starting else None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(shutdown=exc_type is not None)

    def close(self, shutdown: bool = False) -> None:
        """End the idle workers; with `shutdown`, also the local Ray this pool started (its processes too)."""
        import ray

        for worker in self._idle:
            ray.kill(worker)
        self._idle, self._starting = [], {}
        if shutdown and self._owns_ray and ray.is_initialized():
            ray.shutdown()

    def run(self, setup: Callable, work: Callable, shards: Iterable, done: Callable[[int, Any, Any], bool] | None = None,
            progress: tqdm | None = None,
            size: Callable[[Any, Any], int] = lambda shard, result: len(shard)) -> tuple[dict[int, Any], bool]:  # fmt: skip
        """Run every shard (in order of handing out) on the pool's workers; returns (shard index -> result for
        the shards that finished, whether Ctrl-C stopped it). A worker that dies is replaced and its shard
        runs again. `done(index, shard, result)` may end the run early (True); the workers still running
        shards are then killed, so nothing they would write comes after this returns. `progress` advances
        by `size(shard, result)` per finished shard."""
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        job = (next(self._jobs), [ray.put((setup, work))])
        pending: Iterator = iter(enumerate(shards))
        retry: deque = deque()
        running: dict = {}  # result ref -> (worker, index, shard)
        results: dict[int, Any] = {}
        replaced, stop, interrupted = 0, False, False
        try:
            while True:
                while not stop and len(running) < self.workers:  # live workers: idle + running
                    item = retry.popleft() if retry else next(pending, None)
                    if item is None:
                        break
                    worker = self._idle.pop() if self._idle else self._new_worker()
                    running[worker.run.remote(job, item[1])] = (worker, *item)
                if not running:
                    break
                ready, wait = [], self._check_started()
                while not ready:  # a shard's result, checking on the workers still starting meanwhile
                    ready, _ = ray.wait(list(running), num_returns=1, timeout=wait)
                    wait = self._check_started()
                ref = ready[0]
                worker, index, shard = running.pop(ref)
                try:
                    results[index] = ray.get(ref)
                except (RayActorError, WorkerCrashedError) as err:
                    replaced += 1
                    if replaced > MAX_REPLACEMENTS:
                        raise WorkerError(f"{replaced} workers died; the last: {first_line(err)}") from None
                    print(f"a worker died ({type(err).__name__}); starting another and rerunning its shard")
                    ray.kill(worker)
                    retry.append((index, shard))
                    continue
                self._idle.append(worker)
                if progress is not None:
                    progress.update(size(shard, results[index]))
                if done is not None and done(index, shard, results[index]):
                    stop = True
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            if progress is not None:
                progress.close()  # so that the error printed next has a line of its own
            raise
        finally:
            for worker, *_ in running.values():
                ray.kill(worker)  # also ends its shard
            if running:  # wait until they are gone, so nothing writes after this returns
                ray.wait(list(running), num_returns=len(running), timeout=60)
        return results, interrupted
