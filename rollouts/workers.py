"""Rollouts sharded over Ray worker processes, one simulation each (one simulation per process).

A local Ray starts in-process unless `address` (or $RAY_ADDRESS) names a cluster to join. A `WorkerPool`
holds the workers: actors that launch their simulation once and then run shards of work handed out in
order, for as many runs as the pool lives (a trainer's validations); a worker that dies is replaced and
its shard runs again, while the results of finished shards are kept. Each worker takes
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


class WorkerError(RuntimeError):
    """Work that could not finish on the workers (too many died)."""


class SimulationWorker:
    """A Ray actor that holds one simulation for as long as its pool lives. `run(job, shard)` runs one shard
    of a job, a (setup, work) pair: `setup(env)` (run once per job in the actor) builds what the shards need,
    e.g. a policy; `work(env, state, shard)` runs one shard and returns its result."""

    def __init__(self, root: str, threads: int, env_name: str, cfg):
        from envs.registry import launch
        from storage import set_root

        set_root(root)
        set_threads(threads)
        self._stack = ExitStack()
        self.env = self._stack.enter_context(launch(env_name, cfg))
        self._job_id, self._state, self._work = None, None, None

    def run(self, job: tuple[int, list], shard: Any) -> Any:
        import ray

        # the ref sits in a list, so Ray hands it over unresolved: it is fetched once per job, not per shard
        job_id, [job_ref] = job
        if job_id != self._job_id:
            setup, self._work = ray.get(job_ref)
            self._state, self._job_id = setup(self.env), job_id
        return self._work(self.env, self._state, shard)


def start_ray(address: str | None = None, workers: int = 1) -> dict:
    """Join the cluster at `address` ($RAY_ADDRESS when None), else start a local Ray with at least one
    CPU slot per worker; returns the cluster's resources."""
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            from compute import cores

            # "local": a new in-process Ray even where a stale /tmp/ray/ray_current_cluster names another.
            # Twice the slots: killed workers (a dead one, or those an early stop ends) may hold theirs until
            # Ray has reaped them (seen for minutes on a loaded machine), and their replacements must not
            # wait for that; a pool never has more than `workers` alive.
            ray.init(address="local", num_cpus=2 * max(cores(), workers), include_dashboard=False,
                     log_to_driver=False)  # fmt: skip
    return ray.cluster_resources()


class WorkerPool:
    """Up to `workers` simulation workers (Ray actors, one simulation each, launching `env_name` with `cfg`)
    that live as long as the pool, so a command that runs work many times (a validation every N training
    steps) launches each simulation once. Workers start when there is a shard for them; Ray starts (or
    joins `address`) if it has not. Use as a context manager; `close()` ends the workers."""

    def __init__(self, env_name: str, cfg, workers: int, threads: int, address: str | None = None):
        import ray

        from storage import workspace_root

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
        self._new_worker = lambda: actor.remote(str(workspace_root()), threads, env_name, cfg)
        self._idle: list = []  # live workers not running a shard (the others are in a run's `running`)
        self._jobs = itertools.count()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        import ray

        for worker in self._idle:
            ray.kill(worker)
        self._idle = []

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
                [ref], _ = ray.wait(list(running), num_returns=1)
                worker, index, shard = running.pop(ref)
                try:
                    results[index] = ray.get(ref)
                except (RayActorError, WorkerCrashedError) as err:
                    replaced += 1
                    if replaced > MAX_REPLACEMENTS:
                        raise WorkerError(f"{replaced} workers died; the last: {err}") from None
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
        finally:
            for worker, *_ in running.values():
                ray.kill(worker)  # also ends its shard
            if running:  # wait until they are gone, so nothing writes after this returns
                ray.wait(list(running), num_returns=len(running), timeout=60)
        return results, interrupted
