"""Where a trainer's rollouts run (closed-loop validation, DAgger): the simulation in this process, or
Ray workers with one simulation each (`--workers`). Both take builders, `make_policy(env)` and
`make_expert(env)`, that run where the simulation is; on workers they are pickled, so they hold a model
and its settings, never a dataset or a simulation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rollouts.closed_loop import RolloutResult, run_episodes, run_episodes_on_workers
from rollouts.record import record, record_on_workers


class LocalRollouts:
    """Rollouts in the simulation `env` of this process."""

    remote = False  # builders run here, on the objects given (a model stays on its device)

    def __init__(self, env):
        self.env = env

    def episodes(self, make_policy: Callable, episodes: list, seed: int = 0) -> RolloutResult:
        return run_episodes(self.env, make_policy(self.env), episodes, seed=seed, progress=False)

    def record(self, make_expert: Callable, make_driver: Callable, out_dir: Path, env_name: str, first: int,
               seed: int, wanted: int) -> dict[int, bool]:  # fmt: skip
        """DAgger: `make_driver`'s policy drives, the expert labels, every episode is kept."""
        return record(self.env, make_expert(self.env), out_dir, env_name, first, seed, action_noise=0.0,
                      keep_all=True, driver=make_driver(self.env), wanted=wanted)  # fmt: skip


class WorkerRollouts:
    """Rollouts sharded over the simulation workers of `pool` (`rollouts.workers.WorkerPool`), which
    launch their simulations once for every rollout the pool serves; the same per-episode outcomes and
    datasets as one simulation."""

    remote = True  # builders are pickled to workers, which may see no GPU: send models on the CPU

    def __init__(self, pool):
        self.pool = pool

    def episodes(self, make_policy: Callable, episodes: list, seed: int = 0) -> RolloutResult:
        return run_episodes_on_workers(self.pool, make_policy, episodes, seed=seed)

    def record(self, make_expert: Callable, make_driver: Callable, out_dir: Path, env_name: str, first: int,
               seed: int, wanted: int) -> dict[int, bool]:  # fmt: skip
        return record_on_workers(self.pool, make_expert, out_dir, first, wanted, seed, 0.0, True,
                                 make_driver=make_driver)  # fmt: skip
