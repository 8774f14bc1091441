"""Train the inverse dynamics model on demonstrations and measure it on held-out episodes.

    python policies/idm/train.py --demos data/rooms/demos [data/maze/demos ...] [--out runs/idm]
    python policies/idm/train.py --out runs/idm --evaluate data/maze/demos   # a trained IDM on other episodes

Writes idm.pt, train_log.csv, accuracy.json (action and motion errors per frame pair, and the error of
the relative motions chained over each held-out trajectory) and trajectories.png. Running it again
resumes from the last saved step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from envs.cli import ArgumentParser
from experts.dataset import episode_files, read_env, read_episode
from policies.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from policies.idm.config import IDMConfig
from policies.idm.model import IDMNet
from policies.idm.processing import (
    PairSet,
    chain,
    episode_pairs,
    idm_loss,
    load_pairs,
    trajectory_errors,
)
from policies.pignav.processing import to_model_images
from policies.training import append_csv, learning_rate

KIND = "idm"
CHECKPOINT = "idm.pt"
SAVE_EVERY = 250


def split_files(dirs: list[Path], heldout: float) -> tuple[list[Path], list[Path]]:
    """Each directory's last `heldout` share of episodes (at least one) is held out."""
    train, test = [], []
    for directory in dirs:
        files = episode_files(directory)
        if len(files) < 2:
            raise FileNotFoundError(f"{directory} holds {len(files)} episodes; the IDM needs at least 2")
        cut = len(files) - max(1, round(heldout * len(files)))
        train, test = train + files[:cut], test + files[cut:]
    return train, test


def load_idm(path: Path) -> tuple[IDMNet, IDMConfig]:
    """A trained IDM from its run directory or idm.pt."""
    path = Path(path)
    ckpt = load_checkpoint(path / CHECKPOINT if path.is_dir() else path, KIND, None)
    config = IDMConfig.from_dict(ckpt["config"])
    model = IDMNet(config)
    model.load_state_dict(ckpt["state_dict"])
    return model, config


def batch_images(
    data: PairSet, index: torch.Tensor, gap: int, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    first = data.first[index]
    return to_model_images(data.frames[first], size), to_model_images(data.frames[first + gap], size)


@torch.no_grad()
def predict_pairs(
    model: IDMNet, config: IDMConfig, frames: torch.Tensor, first: np.ndarray, batch: int = 256
):
    """Physical (motion, action) means, and standard deviations in units of the training data's spread,
    for pairs (first, first + gap)."""
    model.eval()
    means, stds = [], []
    for chunk in torch.as_tensor(first).split(batch):
        a = to_model_images(frames[chunk], config.image_size)
        b = to_model_images(frames[chunk + config.gap], config.image_size)
        mean, log_var = model(a, b)
        means.append(model.physical(mean))
        stds.append((0.5 * log_var).exp())
    return torch.cat(means).numpy(), torch.cat(stds).numpy()


def evaluate(model: IDMNet, config: IDMConfig, files: list[Path]) -> tuple[dict, list]:
    """Errors on held-out episodes, of the IDM and of a baseline that always predicts the mean motion
    and action of its training data; chained trajectories use non-overlapping pairs 0, k, 2k, ..."""
    mean_target = model.target_mean.numpy()
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
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(config: IDMConfig, dirs: list[Path], out_dir: Path, seed: int = 0, fresh: bool = False) -> dict:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_files, test_files = split_files(dirs, config.heldout)
    data = load_pairs(train_files, config.gap)
    print(f"IDM: {data.episodes} training episodes ({len(data.first)} pairs), {len(test_files)} held out")
    model = IDMNet(config)
    model.set_target_stats(data.targets)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    resume_path, log_path, step0 = out_dir / "last.pt", out_dir / "train_log.csv", 0
    if resume_path.exists() and not fresh:
        saved = torch.load(resume_path, weights_only=False)
        if saved["config"] == config.to_dict():
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            step0 = saved["step"]
            print(f"resuming from {resume_path} (step {step0})")
    if step0 == 0:
        log_path.unlink(missing_ok=True)
    running = []
    bar = tqdm(range(step0 + 1, config.steps + 1), desc="IDM", unit="step", initial=step0, total=config.steps)
    for step in bar:
        model.train()
        index = torch.randint(len(data.first), (config.batch_size,), generator=generator)
        first, second = batch_images(data, index, config.gap, config.image_size)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step - 1, config.steps, config.lr)
        mean, log_var = model(first, second)
        loss = idm_loss(mean, log_var, model.standardise(data.targets[index]))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % SAVE_EVERY == 0 or step == config.steps:
            append_csv(log_path, {"step": step, "loss": float(np.mean(running))}, ["step", "loss"])
            running = []
            torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "step": step}, resume_path)  # fmt: skip
    report, examples = evaluate(model, config, test_files)
    report["sources"] = [str(d) for d in dirs]
    envs = sorted({read_env(f) for f in train_files})
    save_checkpoint(out_dir / CHECKPOINT, KIND, "+".join(envs), model.state_dict(), config.to_dict(),
                    accuracy=report, data={"sources": report["sources"], "episodes": data.episodes})  # fmt: skip
    (out_dir / "accuracy.json").write_text(json.dumps(report, indent=2))
    plot_trajectories(examples, out_dir / "trajectories.png")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demos", type=Path, nargs="+", help="demonstration directories to train on")
    parser.add_argument("--evaluate", type=Path, nargs="+", metavar="DIR",
                        help="measure the IDM in --out on all episodes of these directories (no training)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("runs/idm"))
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--gap", type=int, default=None, help="frames between the two the IDM sees (k)")
    parser.add_argument("--heldout", type=float, default=None, help="share of episodes held out for accuracy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args(argv)
    config = IDMConfig()
    for key in ("steps", "gap", "heldout"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    if config.gap < 1 or config.steps < 1 or not 0 < config.heldout < 1:
        parser.error("--gap and --steps must be >= 1 and --heldout in (0, 1)")
    if bool(args.demos) == bool(args.evaluate):
        parser.error("give either --demos (train) or --evaluate (measure a trained IDM)")
    try:
        if args.evaluate:
            return evaluate_on(args.out, args.evaluate)
        report = train(config, args.demos, args.out, args.seed, args.fresh)
    except (FileNotFoundError, CheckpointError) as err:
        parser.error(str(err))
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out / CHECKPOINT}, {args.out / 'accuracy.json'}, {args.out / 'trajectories.png'}")
    return 0


def evaluate_on(run: Path, dirs: list[Path]) -> int:
    """Accuracy of the IDM in `run` on every episode of `dirs`, against the mean motion of its own
    training data; writes accuracy_<dirs>.json and trajectories_<dirs>.png beside it."""
    model, config = load_idm(run)
    files = [f for d in dirs for f in episode_files(d)]
    if not files:
        raise FileNotFoundError(f"no episodes in {', '.join(map(str, dirs))}")
    report, examples = evaluate(model, config, files)
    report["sources"] = [str(d) for d in dirs]
    name = "_".join(d.parent.name if d.name == "demos" else d.name for d in dirs)
    (run / f"accuracy_{name}.json").write_text(json.dumps(report, indent=2))
    plot_trajectories(examples, run / f"trajectories_{name}.png")
    print(json.dumps(report, indent=2))
    print(f"wrote {run / f'accuracy_{name}.json'} and {run / f'trajectories_{name}.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
