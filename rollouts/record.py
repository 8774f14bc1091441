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


def record(env, expert, out_dir: Path, env_name: str, episodes: int, start_index: int, seed: int,
            action_noise: float, keep_all: bool, driver=None) -> int:  # fmt: skip
    """Run every env until `episodes` more episodes are written; returns how many were. The expert's
    action is always the label; `driver` (a policy, for DAgger) chooses the executed action if given."""
    u = env.unwrapped
    generator = torch.Generator().manual_seed(seed)
    obs, _ = env.reset(seed=seed)
    if driver is not None:
        driver.reset(torch.arange(u.num_envs))
    buffers = [EpisodeBuffer() for _ in range(u.num_envs)]

    def labels_of(env_id: int) -> tuple[str, str, int]:
        return (
            u.instructions[env_id],
            u.episode_label(env_id),
            getattr(u, "layout_seed", [-1] * u.num_envs)[env_id],
        )

    under_way = [labels_of(i) for i in range(u.num_envs)]  # instruction, target, layout seed
    written, index = 0, start_index
    bar = tqdm(total=episodes, desc=f"collecting {env_name}", unit="ep")
    while written < episodes:
        labels = {k: v.cpu().numpy() for k, v in u.privileged_labels(NUM_WAYPOINTS).items()}
        clean = expert(obs["policy"])
        if driver is not None:
            executed = driver.act({**obs, "instruction": list(u.instructions)})
        else:
            executed = (clean + action_noise * torch.randn(clean.shape, generator=generator)).clamp(-1, 1)
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
            success = bool(ended["success"][j])
            if (success or keep_all) and written < episodes:
                instruction, target, layout_seed = under_way[env_id]
                attrs = {"instruction": instruction, "target": target, "layout_seed": layout_seed,
                         "episode_index": index, "action_noise": action_noise, "layout": u.cfg.layout}  # fmt: skip
                data = buffers[env_id].episode_data()
                dataset.write_episode(
                    dataset.episode_path(out_dir, index), env_name, data, attrs, seed, success
                )
                index, written = index + 1, written + 1
                bar.update(1)
            buffers[env_id] = EpisodeBuffer()
            under_way[env_id] = labels_of(env_id)
    bar.close()
    return written
