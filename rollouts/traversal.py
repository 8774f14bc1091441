"""Render prior traversals: each env takes an episode's layout and its robot is put on every pose of the
traversal in turn (no physics), the camera images recorded."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm


def render_traversals(
    env, episodes: list, routes: list[np.ndarray], progress: bool = True
) -> list[np.ndarray]:
    """`episodes[i]` with the (N_i, 3) poses `routes[i]` -> (N_i, H, W, 3) uint8 images; as many at once as
    there are envs."""
    u = env.unwrapped
    images: list[np.ndarray] = []
    bar = tqdm(total=len(episodes), desc="rendering traversals", unit="graph", disable=not progress)
    for first in range(0, len(episodes), u.num_envs):
        batch = list(range(first, min(first + u.num_envs, len(episodes))))
        chunk = {e: episodes[first + e] for e in range(len(batch))}
        u.set_episode_source(
            lambda env_id, chunk=chunk, first=first: (first + env_id, chunk.get(env_id, chunk[0]))
        )
        try:
            env.reset()
        finally:
            u.set_episode_source(None)
        own = [routes[batch[min(e, len(batch) - 1)]] for e in range(u.num_envs)]  # spare envs repeat one
        seen = [np.zeros((len(routes[i]), *u.observe()["rgb"].shape[1:]), np.uint8) for i in batch]
        envs = torch.arange(u.num_envs)
        for k in range(max(len(r) for r in own)):
            pose = torch.as_tensor(np.stack([r[min(k, len(r) - 1)] for r in own]), dtype=torch.float32)
            u.place_robot(envs, pose[:, :2], pose[:, 2])
            u.sim.render()  # live viewers, if any
            rgb = u.observe()["rgb"].cpu().numpy()
            for e, i in enumerate(batch):
                if k < len(routes[i]):
                    seen[e][k] = rgb[e]
        images += seen
        bar.update(len(batch))
    bar.close()
    return images
