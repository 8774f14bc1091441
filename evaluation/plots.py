"""Plots of evaluation results: top-down maps of the driven trajectories and success by target."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from envs.arena import layout
from envs.arena.layout import ARENA_SIZE, SPHERE_RADIUS
from envs.scenes import generate
from rollouts.frames import RGB, SCENE_SIZE
from rollouts.metrics import EpisodeRecord
from storage import atomic_path


def plot_trajectories(
    trajectories: dict, episodes: list, records: list, path: Path, max_panels: int = 12, env: str = "arena"
) -> Path:
    """A grid of top-down maps, one episode each: spheres and the target ringed (arena) or walls and the
    goal ringed (scenes); the path green on success, red otherwise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in records if r.episode_id in trajectories][:max_panels]
    cols = min(4, max(len(shown), 1))
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, record in zip(axes.flat, shown, strict=False):
        episode = episodes[record.episode_id]
        scene = isinstance(episode, tuple)  # (layout seed, SceneEpisode) for the image-goal scenes
        half = (SCENE_SIZE if scene else ARENA_SIZE) / 2
        ax.set_axis_on()
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        if scene:
            seed, ep = episode
            ax.imshow(generate(env, seed).occupancy, origin="lower", cmap="Greys", vmin=0, vmax=1.5,
                      extent=(-half, half, -half, half))  # fmt: skip
            ax.add_patch(plt.Circle(ep.goal_xy, 0.5, fill=False, ls="--", color="tab:green", lw=0.8))
        else:
            for k, xy in enumerate(episode.sphere_xy):
                ax.add_patch(plt.Circle(xy, SPHERE_RADIUS, color=np.array(RGB[layout.COLORS[k]]) / 255))
            ax.add_patch(
                plt.Circle(episode.sphere_xy[episode.target], 0.3, fill=False, ls="--", color="k", lw=0.8)
            )
        traj = trajectories[record.episode_id]
        ax.plot(traj[:, 0], traj[:, 1], color="tab:green" if record.success else "tab:red", lw=1.5)
        ax.plot(*traj[0, :2], "ko", ms=3)
        ax.set_title(
            f"#{record.episode_id} {record.target}: {'ok' if record.success else 'fail'} {record.steps} st",
            fontsize=8,
        )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def plot_success_by_target(records: list[EpisodeRecord], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r.target for r in records))
    rates = [np.mean([r.success for r in records if r.target == t]) for t in targets]
    counts = [sum(r.target == t for r in records) for t in targets]
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.bar(targets, rates, color=[np.array(RGB.get(t, (120, 120, 120))) / 255 for t in targets])
    for i, (rate, n) in enumerate(zip(rates, counts, strict=True)):
        ax.text(i, rate + 0.02, f"{rate:.0%}\n(n={n})", ha="center", fontsize=8)
    ax.set_ylim(0, 1.2)
    ax.set_ylabel("success rate")
    ax.set_title("success by target")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path
