"""Rollouts sharded over Ray worker processes, one simulation each (one simulation per process).

A local Ray starts in-process unless `address` (or $RAY_ADDRESS) names a cluster to join. Each worker is
an actor that launches its simulation once and then runs shards of work handed out in order; a worker that
dies is replaced and its shard runs again, while the results of finished shards are kept. Each worker takes
one GPU where the cluster has them and the simulation runs on cuda (Ray then shows each worker only
its own GPU, as cuda:0). On a cluster, every node needs this repository installed the same way
and, for collection, the dataset folder on a shared file system.
"""

from __future__ import annotations

import copy
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
    """A Ray actor that holds one simulation. `setup(env)` (run in the actor) builds what the shards need,
    e.g. a policy; `work(env, state, shard)` runs one shard and returns its result."""

    def __init__(self, root: str, threads: int, env_name: str, cfg, setup: Callable, work: Callable):
        from envs.registry import launch
        from storage import set_root

        set_root(root)
        set_threads(threads)
        self._stack = ExitStack()
        self.env = self._stack.enter_context(launch(env_name, cfg))
        self.state, self.work = setup(self.env), work

    def run(self, shard: Any) -> Any:
        return self.work(self.env, self.state, shard)

    def close(self) -> None:
        self._stack.close()


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
            # Twice the slots: a run's killed workers may hold theirs until Ray has reaped them (seen for
            # minutes on a loaded machine), and the next run (the next validation) must not wait for that;
            # run_sharded itself never has more than `workers` running.
            ray.init(address="local", num_cpus=2 * max(cores(), workers), include_dashboard=False,
                     log_to_driver=False)  # fmt: skip
    return ray.cluster_resources()


def run_sharded(env_name: str, cfg, setup: Callable, work: Callable, shards: Iterable, workers: int, threads: int,
                done: Callable[[int, Any, Any], bool] | None = None, progress: tqdm | None = None,
                size: Callable[[Any, Any], int] = lambda shard, result: len(shard)) -> tuple[dict[int, Any], bool]:  # fmt: skip
    """Run every shard (in order of handing out) on `workers` simulation workers; returns (shard index ->
    result for the shards that finished, whether Ctrl-C stopped it). `done(index, shard, result)` may end
    the run early (True); the shards still running are then cancelled. `progress` advances by
    `size(shard, result)` per finished shard."""
    import ray
    from ray.exceptions import RayActorError, WorkerCrashedError

    from storage import workspace_root

    gpus = 1 if cfg.sim.device.startswith("cuda") and ray.cluster_resources().get("GPU", 0) >= 1 else 0
    if gpus:  # a worker sees only the GPU Ray gave it
        cfg = copy.deepcopy(cfg)
        cfg.sim.device = "cuda:0"
    actor = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0)(SimulationWorker)

    def new_worker():
        return actor.remote(str(workspace_root()), threads, env_name, cfg, setup, work)

    pending: Iterator = iter(enumerate(shards))
    retry: deque = deque()
    idle = [new_worker() for _ in range(workers)]
    running: dict = {}  # result ref -> (worker, index, shard)
    results: dict[int, Any] = {}
    replaced, stop, interrupted = 0, False, False
    try:
        while True:
            while idle and not stop:
                item = retry.popleft() if retry else next(pending, None)
                if item is None:
                    break
                worker = idle.pop()
                running[worker.run.remote(item[1])] = (worker, *item)
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
                idle.append(new_worker())
                continue
            idle.append(worker)
            if progress is not None:
                progress.update(size(shard, results[index]))
            if done is not None and done(index, shard, results[index]):
                stop = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for worker in idle + [w for w, *_ in running.values()]:
            ray.kill(worker)  # also ends the shards still running
        if running:  # wait until they are gone, so nothing writes after this returns
            ray.wait(list(running), num_returns=len(running), timeout=60)
    return results, interrupted
