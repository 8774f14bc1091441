"""The IDM for the trainer: random frame pairs (t, t+k) of demonstrations, the Gaussian loss on
standardised targets, warm-up then cosine learning rate; validated by the action error on a slice of
the held-out pairs (lower is better)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from compute import distributed
from episodes.files import episode_files, read_env
from policies.idm.accuracy import accuracy, plot_trajectories
from policies.idm.config import IDMConfig
from policies.idm.model import CHECKPOINT, KIND, IDMNet, load_idm
from policies.idm.processing import PairSet, idm_loss, load_pairs, predict_pairs
from policies.images import to_model_images
from storage import atomic_write_text
from training.trainer import Stage, Trainer, Validation, learning_rate

VALIDATION_PAIRS = 2000  # held-out pairs scored at each validation (the full report comes at the end)


def split_files(
    dirs: list[Path], heldout: float, episodes: int | None = None
) -> tuple[list[Path], list[Path]]:
    """Of each folder's first `episodes` episodes (None: all), the last `heldout` share (at least one) is
    held out."""
    train, test = [], []
    for directory in dirs:
        files = episode_files(directory)[:episodes]
        if len(files) < 2:
            raise FileNotFoundError(f"{directory} holds {len(files)} episodes; the IDM needs at least 2")
        cut = len(files) - max(1, round(heldout * len(files)))
        train, test = train + files[:cut], test + files[cut:]
    return train, test


def batch_images(
    data: PairSet, index: torch.Tensor, gap: int, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    first = data.first[index]
    return to_model_images(data.frames[first], size), to_model_images(data.frames[first + gap], size)


class IDMRecipe:
    kind = KIND
    checkpoint_name = CHECKPOINT

    @property
    def weight_decay(self) -> float:
        return self.config.weight_decay

    def __init__(self, config: IDMConfig, train_files: list[Path], heldout_files: list[Path]):
        self.config, self.train_files, self.heldout_files = config, train_files, heldout_files
        self.env = "+".join(sorted({read_env(f) for f in train_files}))

    def build_model(self) -> IDMNet:
        return IDMNet(self.config)

    def stages(self) -> list[Stage]:
        return [Stage("idm", lambda: load_pairs(self.train_files, self.config.gap), self.config.steps)]

    def prepare(self, model: IDMNet, data: PairSet) -> str:
        model.set_target_stats(data.targets)
        return "random"

    def batches(self, data: PairSet, generator: torch.Generator) -> Iterator[tuple]:
        while True:
            index = torch.randint(len(data.first), (self.config.batch_size,), generator=generator)
            yield (*batch_images(data, index, self.config.gap, self.config.image_size), data.targets[index])

    def loss(self, model: IDMNet, batch: tuple) -> dict[str, torch.Tensor]:
        first, second, targets = batch
        mean, log_var = model(first, second)
        return {"total": idm_loss(mean, log_var, model.standardise(targets))}

    def learning_rate(self, step: int, total: int) -> float:
        return learning_rate(step, total, self.config.lr)

    def checkpoint_metadata(self, stage: Stage, data: PairSet) -> dict:
        return {
            "data": {"sources": sorted({str(f.parent) for f in self.train_files}), "episodes": data.episodes}
        }


def heldout_validation(config: IDMConfig, heldout_files: list[Path]):
    """`run(model)` -> the mean absolute action error on up to VALIDATION_PAIRS held-out pairs."""
    data = load_pairs(heldout_files, config.gap)
    pick = torch.linspace(0, len(data.first) - 1, min(VALIDATION_PAIRS, len(data.first))).long()

    def run(model: IDMNet, stage=None) -> dict:
        mean, _ = predict_pairs(model, config, data.frames, data.first[pick].numpy())
        error = float(np.abs(mean[:, 3:] - data.targets[pick, 3:].numpy()).mean())
        return {"val_action_mae": error, "score": -error}

    return run


def train_idm(config: IDMConfig, dirs: list[Path], run_dir: Path, seed: int = 0, fresh: bool = False,
              episodes: int | None = None, progress: bool = True, device: str | None = None) -> dict:  # fmt: skip
    """Train (or resume) through the trainer on `device` (None: cuda if available, else cpu), then measure
    the best checkpoint on the held-out episodes: writes idm.pt, accuracy.json and trajectories.png to
    `run_dir`; returns the accuracy report."""
    train_files, heldout = split_files(dirs, config.heldout, episodes)
    validation = Validation(heldout_validation(config, heldout), config.val_every)
    recipe = IDMRecipe(config, train_files, heldout)
    path = Trainer(run_dir, recipe, validation, seed, fresh, progress, device=device).fit()
    if not distributed.is_main():  # under torchrun, rank 0 measures and writes
        return {}
    model, _ = load_idm(path)
    report, examples = accuracy(model, config, heldout)
    report["sources"] = [str(d) for d in dirs]
    atomic_write_text(run_dir / "accuracy.json", json.dumps(report, indent=2) + "\n")
    plot_trajectories(examples, run_dir / "trajectories.png")
    return report
