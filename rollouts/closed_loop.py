"""Closed-loop rollouts on a fixed episode set: all envs step together, envs whose episode ends take
the next one, and each episode is counted once."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from rollouts.frames import video_frame
from rollouts.loop import step_episodes
from rollouts.metrics import EpisodeRecord


class EpisodeQueue:
    """Hands out each episode of a set once, in order, with its id (default: its position); None when the
    set is used up."""

    def __init__(self, episodes: list, ids: list[int] | None = None):
        self.episodes = episodes
        self.ids = list(range(len(episodes))) if ids is None else list(ids)
        self.next_index = 0

    def __call__(self, env_id: int) -> tuple[int, object] | None:
        if self.next_index >= len(self.episodes):
            return None
        self.next_index += 1
        return self.ids[self.next_index - 1], self.episodes[self.next_index - 1]


@dataclass
class RolloutResult:
    records: list[EpisodeRecord] = field(default_factory=list)
    trajectories: dict[int, np.ndarray] = field(default_factory=dict)  # episode id -> (T, 3) poses
    frames: list[np.ndarray] = field(default_factory=list)  # video frames of env 0
    interrupted: bool = False
    policy_info: dict = field(default_factory=dict)  # the policy's encoder and variant, for reports


class EvaluationHooks:
    """What closed-loop evaluation records in the step loop (rollouts/loop.py): each env's trajectory, one
    record per episode of the set when it ends, and env 0's frames for the first `video_episodes`."""

    def __init__(
        self, unwrapped, policy, result: RolloutResult, wanted: int, video_episodes: int, progress: bool
    ):
        self.u, self.policy, self.result, self.wanted = unwrapped, policy, result, wanted
        self.trajectories = [[pose] for pose in unwrapped.robot_pose().cpu().numpy()]
        self.meta = [
            (unwrapped.episode_label(i), unwrapped.instructions[i]) for i in range(unwrapped.num_envs)
        ]
        self.video_left = video_episodes
        self.bar = tqdm(total=wanted, desc="episodes", unit="ep", disable=not progress)

    def running(self) -> bool:
        return len(self.result.records) < self.wanted

    def act(self, obs: dict) -> torch.Tensor:
        u = self.u
        if self.video_left > 0:
            self.result.frames.append(video_frame(obs, u, self.trajectories[0]))
        return self.policy.act({**obs, "instruction": list(u.instructions), "episode_id": list(u.episode_id)})

    def stepped(self, obs: dict, ended: dict | None) -> None:
        u, result, trajectories, meta = self.u, self.result, self.trajectories, self.meta
        poses = u.robot_pose().cpu().numpy()
        ended_envs = set()
        if ended is not None:
            ended_envs = set(ended["env_ids"].tolist())
            for j, env_id in enumerate(ended["env_ids"].tolist()):
                episode_id = int(ended["episode_id"][j])
                trajectories[env_id].append(ended["final_pose"][j].cpu().numpy())
                if episode_id >= 0:
                    target, text = meta[env_id]
                    result.records.append(
                        EpisodeRecord.from_outcome(
                            episode_id, target, text,
                            ended["success"][j].item(), ended["timed_out"][j].item(), ended["steps"][j].item(),
                            ended["path_length"][j].item(), ended["start_distance"][j].item(),
                            ended["final_distance"][j].item(), ended["collisions"][j].item(),
                            u.cfg.success_radius, ended["tipped"][j].item(),
                        )
                    )  # fmt: skip
                    result.trajectories[episode_id] = np.array(trajectories[env_id])
                    self.bar.update(1)
                    self.bar.set_postfix(success=f"{np.mean([r.success for r in result.records]):.2f}")
                if env_id == 0 and self.video_left > 0:
                    self.video_left -= 1
                trajectories[env_id] = [poses[env_id]]
                meta[env_id] = (u.episode_label(env_id), u.instructions[env_id])
            self.policy.reset(ended["env_ids"])
        for env_id in range(u.num_envs):
            if env_id not in ended_envs:
                trajectories[env_id].append(poses[env_id])


def run_episodes(env, policy, episodes: list, seed: int = 0, video_episodes: int = 0, progress: bool = True,
                 ids: list[int] | None = None) -> RolloutResult:  # fmt: skip
    """Run `policy` on every episode of the set (`ids`: their ids, default their positions). Ctrl-C stops
    early and returns what was collected."""
    unwrapped = env.unwrapped
    queue = EpisodeQueue(episodes, ids)
    unwrapped.set_episode_source(queue)
    result = RolloutResult(policy_info={k: policy.metadata.get(k) for k in ("encoder", "variant")})
    try:
        obs, _ = env.reset(seed=seed)
        policy.reset(torch.arange(unwrapped.num_envs))
        hooks = EvaluationHooks(unwrapped, policy, result, len(episodes), video_episodes, progress)
        step_episodes(env, obs, hooks)
        hooks.bar.close()
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        unwrapped.set_episode_source(None)
    result.records.sort(key=lambda r: r.episode_id)
    return result


def shard_size(episodes: int, workers: int, num_envs: int) -> int:
    """Episodes per shard: every worker gets one; beyond that at least a simulation's envs (a shard ends
    with idle envs) or a quarter of each worker's share (a dead worker's shard is what reruns)."""
    return max(1, min(math.ceil(episodes / workers), max(num_envs, math.ceil(episodes / (4 * workers)))))


def run_episodes_on_workers(pool, make_policy: Callable, episodes: list, seed: int = 0,
                            video_episodes: int = 0) -> RolloutResult:  # fmt: skip
    """`run_episodes` with the set sharded over the simulation workers of `pool` (rollouts/workers.py,
    `WorkerPool`); `make_policy(env)` builds the policy in each worker. Per-episode outcomes are those of
    one simulation running the whole set. Ctrl-C returns the shards finished so far."""
    size = shard_size(len(episodes), pool.workers, pool.cfg.scene.num_envs)
    shards = [(list(range(i, min(i + size, len(episodes)))), episodes[i : i + size], video_episodes if i == 0 else 0)
              for i in range(0, len(episodes), size)]  # fmt: skip

    def work(env, policy, shard) -> RolloutResult:
        ids, chunk, video = shard
        return run_episodes(env, policy, chunk, seed=seed, video_episodes=video, progress=False, ids=ids)

    result = RolloutResult()
    bar = tqdm(total=len(episodes), desc=f"episodes ({min(pool.workers, len(shards))} workers)", unit="ep")
    parts, result.interrupted = pool.run(make_policy, work, shards, progress=bar,
                                         size=lambda shard, result: len(shard[0]))  # fmt: skip
    bar.close()
    for index in sorted(parts):
        part = parts[index]
        result.records += part.records
        result.trajectories.update(part.trajectories)
        result.frames += part.frames
        result.interrupted |= part.interrupted
        result.policy_info = part.policy_info
    result.records.sort(key=lambda r: r.episode_id)
    return result
