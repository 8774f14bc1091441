"""Fixed, seeded episode sets per env, layout and split, committed under ``assets/episodes/``.

    python evaluation/episodes.py --env arena      # (re)write every set

Every policy is judged on the same episodes. Targets are balanced: episode i aims at sphere i mod 5.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from envs.arena import layout
from envs.arena.arena_env_cfg import ARENA_SIZE

EPISODES_DIR = Path(__file__).resolve().parents[1] / "assets" / "episodes"
SPLITS = {"val": (1_000, 50), "test": (2_000, 100)}  # split -> (seed, number of episodes)
EVAL_LAYOUTS = ("paper", "random")


def episode_set_path(env: str, layout_name: str, split: str) -> Path:
    return EPISODES_DIR / env / f"{layout_name}_{split}.json"


def make_episode_set(env: str, layout_name: str, split: str) -> list[layout.Episode]:
    if env != "arena":
        raise ValueError(f"no episode generator for env {env!r}")
    seed, count = SPLITS[split]
    rng = np.random.default_rng([seed, layout.LAYOUTS.index(layout_name)])
    n = len(layout.COLORS)
    return [layout.sample_episode(rng, layout_name, ARENA_SIZE, target=i % n) for i in range(count)]


def write_episode_set(env: str, layout_name: str, split: str, out_dir: Path = EPISODES_DIR) -> Path:
    path = out_dir / env / f"{layout_name}_{split}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"env": env, "layout": layout_name, "split": split, "seed": SPLITS[split][0]}
    lines = [json.dumps(e.to_dict()) for e in make_episode_set(env, layout_name, split)]
    # one episode per line keeps diffs readable
    path.write_text(json.dumps(header)[:-1] + ', "episodes": [\n' + ",\n".join(lines) + "\n]}\n")
    return path


def load_episode_set(env: str, layout_name: str, split: str) -> list[layout.Episode]:
    path = episode_set_path(env, layout_name, split)
    if not path.exists():
        raise FileNotFoundError(
            f"no episode set {path}; write it with: python evaluation/episodes.py --env {env}"
        )
    data = json.loads(path.read_text())
    return [layout.Episode.from_dict(d) for d in data["episodes"]]


class EpisodeQueue:
    """Hands out each episode of a set once, in order; None when the set is used up."""

    def __init__(self, episodes: list[layout.Episode]):
        self.episodes = episodes
        self.next_index = 0

    def __call__(self, env_id: int) -> tuple[int, layout.Episode] | None:
        if self.next_index >= len(self.episodes):
            return None
        self.next_index += 1
        return self.next_index - 1, self.episodes[self.next_index - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="arena", choices=["arena"])
    args = parser.parse_args()
    for layout_name in EVAL_LAYOUTS:
        for split in SPLITS:
            print(f"wrote {write_episode_set(args.env, layout_name, split)}")
