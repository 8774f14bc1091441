"""IDM accuracy on held-out episodes, always beside a baseline that predicts the mean motion and action
of its training data: per frame pair, and chained over whole trajectories (drift)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from episodes.files import episode_files, read_episode
from policies.idm.config import IDMConfig
from policies.idm.model import IDMNet, load_idm
from policies.idm.processing import chain, episode_pairs, predict_pairs, trajectory_errors
from storage import atomic_path


def accuracy(model: IDMNet, config: IDMConfig, files: list[Path]) -> tuple[dict, list]:
    """Errors on held-out episodes, of the IDM and of a baseline that always predicts the mean motion
    and action of its training data; chained trajectories use non-overlapping pairs 0, k, 2k, ..."""
    mean_target = model.target_mean.cpu().numpy()
    errors, chained, examples = {"idm": [], "baseline": []}, {"idm": [], "baseline": []}, []
    for path in files:
        data, _ = read_episode(path)
        pose, actions = data["labels"]["robot_pose"].astype(np.float64), data["actions"]
        t, target = episode_pairs(pose, actions, config.gap)
        if len(t) == 0:
            continue
        mean, _ = predict_pairs(model, config, torch.from_numpy(data["obs"]["rgb"]), t)
        anchors = t[:: config.gap]
        truth = pose[np.append(anchors, anchors[-1] + config.gap)]
        for name, prediction in (("idm", mean), ("baseline", np.broadcast_to(mean_target, mean.shape))):
            errors[name].append(np.abs(prediction - target))
            chained[name].append(trajectory_errors(chain(prediction[:: config.gap, :3], truth[0]), truth))
        examples.append((truth, chain(mean[:: config.gap, :3], truth[0])))
    report = {"episodes": len(examples), "pairs": sum(len(e) for e in errors["idm"]), "gap": config.gap}
    for name, prefix in (("idm", ""), ("baseline", "mean_motion_baseline_")):
        error = np.concatenate(errors[name])
        report |= {
            f"{prefix}action_mae": float(error[:, 3:].mean()),
            f"{prefix}translation_error_m": float(np.linalg.norm(error[:, :2], axis=-1).mean()),
            f"{prefix}yaw_error_deg": float(np.degrees(error[:, 2]).mean()),
            **{
                f"{prefix}trajectory_{k}": float(np.mean([c[k] for c in chained[name]]))
                for k in chained[name][0]
            },
        }
    return report, examples


def plot_trajectories(examples: list, path: Path, count: int = 6) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, min(count, len(examples)), figsize=(3 * min(count, len(examples)), 3), squeeze=False
    )
    for ax, (truth, predicted) in zip(axes[0], examples, strict=False):
        ax.plot(truth[:, 0], truth[:, 1], "k-", label="true")
        ax.plot(predicted[:, 0], predicted[:, 1], "r--", label="IDM, chained")
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def evaluate_on(run: Path, dirs: list[Path], episodes: int | None = None, device: str = "cpu"
                ) -> tuple[dict, Path]:  # fmt: skip
    """Accuracy of the IDM in `run` (run on `device`) on every episode of `dirs`, against the mean motion of
    its own training data; draws trajectories_<dirs>.png beside it and returns where the report belongs."""
    model, config = load_idm(run)
    model.to(device)
    files = [f for d in dirs for f in episode_files(d)[:episodes]]
    if not files:
        raise FileNotFoundError(f"no episodes in {', '.join(map(str, dirs))}")
    report, examples = accuracy(model, config, files)
    report["sources"] = [str(d) for d in dirs]
    name = "_".join(d.parent.name if d.name == "demos" else d.name for d in dirs)
    plot_trajectories(examples, run / f"trajectories_{name}.png")
    return report, run / f"accuracy_{name}.json"
