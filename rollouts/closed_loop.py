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
        trajectories = [[pose] for pose in unwrapped.robot_pose().cpu().numpy()]
        meta = [(unwrapped.episode_label(i), unwrapped.instructions[i]) for i in range(unwrapped.num_envs)]
        video_left = video_episodes
        bar = tqdm(total=len(episodes), desc="episodes", unit="ep", disable=not progress)
        while len(result.records) < len(episodes):
            if video_left > 0:
                result.frames.append(video_frame(obs, unwrapped, trajectories[0]))
            actions = policy.act({**obs, "instruction": list(unwrapped.instructions),
                                  "episode_id": list(unwrapped.episode_id)})  # fmt: skip
            obs, _, _, _, extras = env.step(actions)
            poses = unwrapped.robot_pose().cpu().numpy()
            ended = extras.get("episode")
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
                                unwrapped.cfg.success_radius, ended["tipped"][j].item(),
                            )
                        )  # fmt: skip
                        result.trajectories[episode_id] = np.array(trajectories[env_id])
                        bar.update(1)
                        bar.set_postfix(success=f"{np.mean([r.success for r in result.records]):.2f}")
                    if env_id == 0 and video_left > 0:
                        video_left -= 1
                    trajectories[env_id] = [poses[env_id]]
                    meta[env_id] = (unwrapped.episode_label(env_id), unwrapped.instructions[env_id])
                policy.reset(ended["env_ids"])
            for env_id in range(unwrapped.num_envs):
                if env_id not in ended_envs:
                    trajectories[env_id].append(poses[env_id])
        bar.close()
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
