"""Record episodes with cameras, one HDF5 file per episode: a labeller (an expert) gives every step's
label and a driver (the labeller, with DART noise, or a student for DAgger) chooses what is executed.

Per step: rgb, goal image, privileged state, the clean expert action (the label), the executed
action (with optional DART noise), robot pose, goal pose, target, geodesic distance and
shortest-path waypoints; the instruction is an attribute of each episode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from episodes import files as dataset
from rollouts.loop import step_episodes

NUM_WAYPOINTS = 8


class EpisodeBuffer:
    """Per-env lists of per-step arrays, turned into one episode's data when it ends."""

    def __init__(self):
        self.steps: list[dict] = []

    def add(self, step: dict) -> None:
        self.steps.append(step)

    def episode_data(self) -> dict:
        stack = lambda key: np.stack([s[key] for s in self.steps])  # noqa: E731
        return {
            "actions": stack("action"),
            "executed_actions": stack("executed_action"),
            "obs": {"rgb": stack("rgb"), "goal_rgb": stack("goal_rgb"), "policy": stack("state")},
            "labels": {
                k: stack(k)
                for k in ("robot_pose", "goal_pose", "target_xy", "geodesic_distance", "path_waypoints")
            },
        }


class SlotSource:
    """The episode source of a collection: slots first, first + 1, ... handed out in order, each episode drawn
    with a generator of its own (seed, slot), so slot k is the same episode in any env, worker or run; None
    once `last` (exclusive) is reached (the env then samples episodes nobody keeps)."""

    def __init__(self, first: int, last: int | None, seed: int):
        self.next, self.last, self.seed = first, last, seed

    def __call__(self, env_id: int) -> tuple[int, np.random.Generator] | None:
        if self.last is not None and self.next >= self.last:
            return None
        self.next += 1
        return self.next - 1, np.random.default_rng([self.seed, self.next - 1])


def noise_generator(seed: int, slot: int) -> torch.Generator:
    """DART noise of one slot's episode, independent of the env that drives it."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, slot, 1]).generate_state(1)[0]))


def kept_prefix(finished: dict[int, bool], first: int, wanted: int) -> int | None:
    """The slot after which slots first.. hold `wanted` kept episodes, all finished; None if not yet."""
    kept, slot = 0, first
    while kept < wanted and slot in finished:
        kept, slot = kept + finished[slot], slot + 1
    return slot if kept >= wanted else None


def drop_beyond(out_dir: Path, finished: dict[int, bool], end: int) -> None:
    """Remove the episodes of slots from `end` on (written by envs or workers that ran ahead)."""
    for slot, kept in finished.items():
        if slot >= end and kept:
            dataset.episode_path(out_dir, slot).unlink(missing_ok=True)


class RecordingHooks:
    """What recording keeps in the step loop (rollouts/loop.py): every step of every env in its buffer, and
    slot k's episode written as episode_k when it ends (if it succeeded, or with `keep_all`)."""

    def __init__(self, u, expert, driver, out_dir: Path, env_name: str, first: int, seed: int, action_noise: float,
                 keep_all: bool, wanted: int | None):  # fmt: skip
        self.u, self.expert, self.driver, self.out_dir, self.env_name = u, expert, driver, out_dir, env_name
        self.first, self.seed, self.action_noise, self.keep_all, self.wanted = (
            first,
            seed,
            action_noise,
            keep_all,
            wanted,
        )
        self.buffers = [EpisodeBuffer() for _ in range(u.num_envs)]
        self.under_way = [self.start_of(i) for i in range(u.num_envs)]
        self.finished: dict[int, bool] = {}
        self.end = None  # the slot where the collection is complete
        self.bar = None

    def start_of(self, env_id: int) -> tuple:  # slot, noise, instruction, target, layout seed
        u = self.u
        slot = u.episode_id[env_id]
        noise = noise_generator(self.seed, slot) if slot >= 0 else None  # None: an episode nobody keeps
        return (slot, noise, u.instructions[env_id], u.episode_label(env_id),
                getattr(u, "layout_seed", [-1] * u.num_envs)[env_id])  # fmt: skip

    def running(self) -> bool:
        return self.end is None and any(w[0] >= 0 for w in self.under_way)

    def act(self, obs: dict) -> torch.Tensor:
        u = self.u
        labels = {k: v.cpu().numpy() for k, v in u.privileged_labels(NUM_WAYPOINTS).items()}
        clean = self.expert(obs["policy"])
        if self.driver is not None:
            executed = self.driver.act({**obs, "instruction": list(u.instructions)})
        else:
            noise = torch.stack([torch.randn(clean.shape[1:], generator=w[1]) if w[1] is not None
                                 else torch.zeros(clean.shape[1:]) for w in self.under_way])  # fmt: skip
            executed = (clean + self.action_noise * noise.to(clean.device)).clamp(-1, 1)
        for i, buffer in enumerate(self.buffers):
            buffer.add(
                {
                    "rgb": obs["rgb"][i].cpu().numpy(),
                    "goal_rgb": obs["goal_rgb"][i].cpu().numpy(),
                    "state": obs["policy"][i].cpu().numpy(),
                    "action": clean[i].cpu().numpy(),
                    "executed_action": executed[i].cpu().numpy(),
                    **{k: v[i] for k, v in labels.items()},
                }
            )
        return executed

    def stepped(self, obs: dict, ended: dict | None) -> None:
        if ended is None:
            return
        u = self.u
        if self.driver is not None:
            self.driver.reset(ended["env_ids"])
        for j, env_id in enumerate(ended["env_ids"].tolist()):
            slot, _, instruction, target, layout_seed = self.under_way[env_id]
            if slot >= 0:
                kept = bool(ended["success"][j]) or self.keep_all
                if kept:
                    attrs = {"instruction": instruction, "target": target, "layout_seed": layout_seed,
                             "episode_index": slot, "action_noise": self.action_noise, "layout": u.cfg.layout}  # fmt: skip
                    dataset.write_episode(dataset.episode_path(self.out_dir, slot), self.env_name,
                                          self.buffers[env_id].episode_data(), attrs, self.seed, kept)  # fmt: skip
                self.finished[slot] = kept
                self.bar.update(int(kept) if self.wanted is not None else 1)
            self.buffers[env_id] = EpisodeBuffer()
            self.under_way[env_id] = self.start_of(env_id)
        if self.wanted is not None:
            self.end = kept_prefix(self.finished, self.first, self.wanted)


def record(env, expert, out_dir: Path, env_name: str, first: int, seed: int, action_noise: float, keep_all: bool,
           driver=None, last: int | None = None, wanted: int | None = None, progress: bool = True) -> dict[int, bool]:  # fmt: skip
    """Drive the episodes of slots first, first + 1, ... (see SlotSource) and write slot k's episode as
    episode_k when it succeeds (every one with `keep_all`). Runs slots up to `last` (exclusive), or until
    the slots from `first` on hold `wanted` kept episodes; slots beyond that are dropped, so the dataset
    does not depend on how many envs or workers ran it. Returns slot -> kept for the slots it keeps.
    The expert's action is always the label; `driver` (a policy, for DAgger) chooses the executed action."""
    if (last is None) == (wanted is None):
        raise ValueError("record needs exactly one of `last` and `wanted`")
    u = env.unwrapped
    source = SlotSource(first, last, seed)
    u.set_episode_source(source)
    finished: dict[int, bool] = {}
    end = None  # the slot where the collection is complete
    try:
        obs, _ = env.reset(seed=seed)
        if driver is not None:
            driver.reset(torch.arange(u.num_envs))
        hooks = RecordingHooks(
            u, expert, driver, out_dir, env_name, first, seed, action_noise, keep_all, wanted
        )
        hooks.bar = tqdm(total=wanted if wanted is not None else last - first, desc=f"collecting {env_name}",
                         unit="ep", disable=not progress)  # fmt: skip
        step_episodes(env, obs, hooks)
        finished, end = hooks.finished, hooks.end
        hooks.bar.close()
    finally:
        u.set_episode_source(None)
    if end is not None:
        drop_beyond(out_dir, finished, end)
        finished = {slot: kept for slot, kept in finished.items() if slot < end}
    return finished


def record_on_workers(pool, make_expert, out_dir: Path, first: int, wanted: int, seed: int, action_noise: float,
                      keep_all: bool, make_driver=None) -> dict[int, bool]:  # fmt: skip
    """`record` with the slots sharded over the simulation workers of `pool` (rollouts/workers.py,
    `WorkerPool`), each writing its episodes into `out_dir`; `make_expert(env)` builds the labeller in each
    worker (and `make_driver(env)` the policy that drives, for DAgger). The same dataset as one simulation:
    shards of slots are handed out in order until the slots from `first` on hold `wanted` kept episodes,
    and what workers ran beyond that is dropped."""
    import itertools
    import math

    env_name = pool.env_name
    size = max(pool.cfg.scene.num_envs, math.ceil(wanted / pool.workers))
    shards = ((first + i * size, first + (i + 1) * size) for i in itertools.count())
    finished: dict[int, bool] = {}

    def setup(env) -> tuple:
        return make_expert(env), (make_driver(env) if make_driver is not None else None)

    def work(env, labeller_and_driver, shard) -> dict[int, bool]:
        expert, driver = labeller_and_driver
        return record(env, expert, out_dir, env_name, shard[0], seed, action_noise, keep_all, driver=driver,
                      last=shard[1], progress=False)  # fmt: skip

    def done(index, shard, result) -> bool:
        finished.update(result)
        return kept_prefix(finished, first, wanted) is not None

    bar = tqdm(total=wanted, desc=f"collecting {env_name} ({pool.workers} workers)", unit="ep")
    _, interrupted = pool.run(setup, work, shards, done=done, progress=bar,
                              size=lambda shard, result: sum(result.values()))  # fmt: skip
    bar.close()
    if interrupted:
        raise KeyboardInterrupt
    end = kept_prefix(finished, first, wanted)
    drop_beyond(out_dir, finished, end)
    return {slot: kept for slot, kept in finished.items() if slot < end}
