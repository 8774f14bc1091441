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
    try:
        obs, _ = env.reset(seed=seed)
        if driver is not None:
            driver.reset(torch.arange(u.num_envs))
        buffers = [EpisodeBuffer() for _ in range(u.num_envs)]

        def start_of(env_id: int) -> tuple:  # slot, noise, instruction, target, layout seed
            slot = u.episode_id[env_id]
            noise = noise_generator(seed, slot) if slot >= 0 else None  # None: an episode nobody keeps
            return (slot, noise, u.instructions[env_id], u.episode_label(env_id),
                    getattr(u, "layout_seed", [-1] * u.num_envs)[env_id])  # fmt: skip

        under_way = [start_of(i) for i in range(u.num_envs)]
        end = None  # the slot where the collection is complete
        bar = tqdm(total=wanted if wanted is not None else last - first, desc=f"collecting {env_name}",
                   unit="ep", disable=not progress)  # fmt: skip
        while end is None and any(w[0] >= 0 for w in under_way):
            labels = {k: v.cpu().numpy() for k, v in u.privileged_labels(NUM_WAYPOINTS).items()}
            clean = expert(obs["policy"])
            if driver is not None:
                executed = driver.act({**obs, "instruction": list(u.instructions)})
            else:
                noise = torch.stack([torch.randn(clean.shape[1:], generator=w[1]) if w[1] is not None
                                     else torch.zeros(clean.shape[1:]) for w in under_way])  # fmt: skip
                executed = (clean + action_noise * noise.to(clean.device)).clamp(-1, 1)
            for i, buffer in enumerate(buffers):
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
            obs, _, _, _, extras = env.step(executed)
            ended = extras.get("episode")
            if ended is None:
                continue
            if driver is not None:
                driver.reset(ended["env_ids"])
            for j, env_id in enumerate(ended["env_ids"].tolist()):
                slot, _, instruction, target, layout_seed = under_way[env_id]
                if slot >= 0:
                    kept = bool(ended["success"][j]) or keep_all
                    if kept:
                        attrs = {"instruction": instruction, "target": target, "layout_seed": layout_seed,
                                 "episode_index": slot, "action_noise": action_noise, "layout": u.cfg.layout}  # fmt: skip
                        dataset.write_episode(dataset.episode_path(out_dir, slot), env_name,
                                              buffers[env_id].episode_data(), attrs, seed, kept)  # fmt: skip
                    finished[slot] = kept
                    bar.update(int(kept) if wanted is not None else 1)
                buffers[env_id] = EpisodeBuffer()
                under_way[env_id] = start_of(env_id)
            if wanted is not None:
                end = kept_prefix(finished, first, wanted)
        bar.close()
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
