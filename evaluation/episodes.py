"""Fixed, seeded episode sets per env, layout and split, committed under ``assets/episodes/``.

    python evaluation/episodes.py --env arena      # (re)write every set of an env

Every policy is judged on the same episodes. Arena: targets are balanced, episode i aims at sphere
i mod 5. Scenes: every episode has its own layout from the split's seeds (test layouts are never
trained on), and a start and goal 2 to 8 m apart along the shortest path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from envs.arena import layout
from envs.arena.arena_env_cfg import ARENA_SIZE
from envs.scenes import STYLES, SceneEpisode, generate, sample_episode, seeds

EPISODES_DIR = Path(__file__).resolve().parents[1] / "assets" / "episodes"
SPLITS = {"val": (1_000, 50), "test": (2_000, 100)}  # split -> (seed, number of episodes)
EVAL_LAYOUTS = {"arena": ("paper", "random"), **{style: ("val", "test") for style in STYLES}}


def episode_set_path(env: str, layout_name: str, split: str, out_dir: Path = EPISODES_DIR) -> Path:
    """Arena: <layout>_<split>.json. Scenes, whose layout is the split of layout seeds: <split>.json."""
    return out_dir / env / (f"{split}.json" if env in STYLES else f"{layout_name}_{split}.json")


def make_episode_set(env: str, layout_name: str, split: str) -> list:
    """Arena: layout.Episode objects. Scenes: (layout seed, SceneEpisode) pairs."""
    seed, count = SPLITS[split]
    if env in STYLES:
        if layout_name != split:
            raise ValueError(
                f"{env} episodes of the {split} split come from {split} layouts, not {layout_name!r}"
            )
        rng = np.random.default_rng([seed, STYLES.index(env)])
        return [(s, sample_episode(generate(env, s), rng)) for s in seeds(split, count)]
    if env != "arena":
        raise ValueError(f"no episode generator for env {env!r}")
    rng = np.random.default_rng([seed, layout.LAYOUTS.index(layout_name)])
    n = len(layout.COLORS)
    return [layout.sample_episode(rng, layout_name, ARENA_SIZE, target=i % n) for i in range(count)]


def _to_dict(env: str, episode) -> dict:
    return {"layout_seed": int(episode[0]), **episode[1].to_dict()} if env in STYLES else episode.to_dict()


def _from_dict(env: str, d: dict):
    return (
        (int(d["layout_seed"]), SceneEpisode.from_dict(d)) if env in STYLES else layout.Episode.from_dict(d)
    )


def write_episode_set(env: str, layout_name: str, split: str, out_dir: Path = EPISODES_DIR) -> Path:
    path = episode_set_path(env, layout_name, split, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"env": env, "layout": layout_name, "split": split, "seed": SPLITS[split][0]}
    lines = [json.dumps(_to_dict(env, e)) for e in make_episode_set(env, layout_name, split)]
    # one episode per line keeps diffs readable
    path.write_text(json.dumps(header)[:-1] + ', "episodes": [\n' + ",\n".join(lines) + "\n]}\n")
    return path


def load_episode_set(env: str, layout_name: str, split: str) -> list:
    path = episode_set_path(env, layout_name, split)
    if not path.exists():
        raise FileNotFoundError(
            f"no episode set {path}; write it with: python evaluation/episodes.py --env {env}"
        )
    data = json.loads(path.read_text())
    return [_from_dict(env, d) for d in data["episodes"]]


class EpisodeQueue:
    """Hands out each episode of a set once, in order; None when the set is used up."""

    def __init__(self, episodes: list):
        self.episodes = episodes
        self.next_index = 0

    def __call__(self, env_id: int) -> tuple[int, object] | None:
        if self.next_index >= len(self.episodes):
            return None
        self.next_index += 1
        return self.next_index - 1, self.episodes[self.next_index - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="arena", choices=sorted(EVAL_LAYOUTS))
    args = parser.parse_args()
    for layout_name in EVAL_LAYOUTS[args.env]:
        for split in SPLITS if args.env == "arena" else (layout_name,):
            print(f"wrote {write_episode_set(args.env, layout_name, split)}")
