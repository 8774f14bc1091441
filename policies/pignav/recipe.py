"""PIG-Nav (and late fusion) for the trainer: [MAE-sim on the training frames] -> pretraining on a mix
of scene styles -> fine-tuning on the target env with a fraction of its demonstrations, which starts
from the pretraining's best checkpoint.

MAE-sim is a stage of the run (its rows in the run's log, a resume point after it), trained by a trainer
of its own in runs/mae-sim/<setting>: runs that need the same encoder share that folder (its lock waits
while another run trains it), so the second finds it trained."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import torch

from policies.pignav.config import PigNavConfig
from policies.pignav.mae import MAEConfig, MAERecipe, encoder_weights, init_from_mae_imagenet
from policies.pignav.model import PigNavNet
from policies.pignav.open_loop import open_loop_errors, open_loop_score
from policies.pignav.policy import PigNavPolicy
from policies.pignav.processing import DemoSet, compute_losses, load_demos, mix, sample_batch, sample_targets
from training.checkpoint import read_checkpoint
from training.trainer import LOG, Stage, Trainer, learning_rate


def stage_variant(config: PigNavConfig, stage: str) -> str:
    """The table label of a stage's checkpoint: the pretraining stage's is zero-shot."""
    return config.variant() if stage == "finetune" else replace(config, fraction=0.0).variant()


def model_policy(config: PigNavConfig, model: PigNavNet, num_envs: int) -> PigNavPolicy:
    """The policy of a model in training, on the device the model is on: validation must not move the
    training model (a copy sent to a Ray worker is on the CPU)."""
    return PigNavPolicy(model, config, num_envs, str(next(model.parameters()).device))


class PigNavRecipe:
    checkpoint_name = "policy.pt"

    @property
    def weight_decay(self) -> float:
        return self.config.weight_decay

    def __init__(self, config: PigNavConfig, env: str, demo_dirs: dict[str, Path], mae_dir: Path,
                 pretrained: Path | None = None, mae_weights: Path | None = None, seed: int = 0,
                 device: str | torch.device | None = None):  # fmt: skip
        """`demo_dirs`: env -> its demonstrations; `mae_dir`: where MAE-sim encoders are kept (runs/mae-sim);
        `device`: where the MAE-sim encoder trains (the PIG-Nav trainer's device)."""
        self.config, self.env, self.kind = config, env, config.kind
        self.demo_dirs, self.mae_dir = demo_dirs, Path(mae_dir)
        self.pretrained, self.mae_weights, self.seed, self.device = pretrained, mae_weights, seed, device
        self._heldout: dict[str, DemoSet] = {}
        self._first: DemoSet | None = None  # the first training stage's data, which MAE-sim learns from

    def build_model(self) -> PigNavNet:
        return PigNavNet(self.config)

    def as_policy(self, model: PigNavNet, num_envs: int) -> PigNavPolicy:
        return self.policy_maker()(model, num_envs)

    def policy_maker(self) -> partial:
        """`maker(model, num_envs)` -> the policy; small to send to Ray workers (no datasets)."""
        return partial(model_policy, self.config)

    def stages(self) -> list[Stage]:
        c, stages = self.config, []
        if c.pretrain_envs and self.pretrained is None:
            stages.append(Stage("pretrain", self.pretraining_data, c.pretrain_steps))
        if c.fraction > 0:

            def load() -> DemoSet:
                return load_demos(self.stage_dirs("finetune"), c, c.demo_episodes, c.fraction)

            stages.append(Stage("finetune", load, c.finetune_steps, start_from_best=bool(stages)))
        if c.init == "mae-sim" and self.pretrained is None:  # before the first stage, on its frames
            first = stages[0]
            first.load = self.handed_over(first.load)
            stages.insert(0, Stage("mae-sim", first.load, c.mae_steps, fit=self.fit_mae))
        return stages

    def handed_over(self, load):
        """`load`, loading once for two calls: the MAE-sim stage's, then the next stage's (which takes it)."""

        def once() -> DemoSet:
            if self._first is not None:
                data, self._first = self._first, None
                return data
            self._first = load()
            return self._first

        return once

    def mae_config(self, data: DemoSet) -> MAEConfig:
        return MAEConfig.for_model(self.config, data.sources)

    def fit_mae(self, model: PigNavNet, data: DemoSet) -> list[dict]:
        """The MAE-sim stage: train the MAE on `data`'s frames in its shared folder (or find it trained there)
        and start the encoder from it; its log rows are the stage's."""
        mae = self.mae_config(data)
        run = self.mae_dir / mae.tag()
        path = Trainer(
            run, MAERecipe(mae, data.frames), seed=self.seed, shared=True, device=self.device
        ).fit()
        model.encoder.load_image_weights(encoder_weights(read_checkpoint(path, "mae")))
        with (run / LOG).open(newline="") as f:
            return list(csv.DictReader(f))

    def stage_dirs(self, stage: str) -> list[Path]:
        """The demonstration folders a stage learns from (its held-out episodes validate it)."""
        envs = self.config.pretrain_envs if stage == "pretrain" else [self.env]
        return [self.demo_dirs[e] for e in envs]

    def pretraining_data(self) -> DemoSet:
        c = self.config
        data = load_demos(self.stage_dirs("pretrain"), c, c.demo_episodes)
        if c.pseudo_dirs:
            pseudo = load_demos([Path(d) for d in c.pseudo_dirs], replace(c, heldout=0.0), None)
            print(f"mixing in {pseudo.episodes} pseudo-labelled episodes ({len(pseudo)} steps), "
                  f"{c.pseudo_ratio:.0%} of each batch")  # fmt: skip
            data = mix(data, pseudo, c.pseudo_ratio)
        return data

    def prepare(self, model: PigNavNet, data: DemoSet) -> str:
        """A fresh model: a pretrained checkpoint's weights, or the target statistics of this data and the
        chosen encoder initialisation."""
        if self.pretrained is not None:
            model.load_state_dict(read_checkpoint(self.pretrained, self.kind)["state_dict"])
            return f"checkpoint {self.pretrained}"
        model.heads.set_target_stats(
            sample_targets(data, self.config)
        )  # the heads predict standardised targets
        if self.config.init == "mae-imagenet":
            init_from_mae_imagenet(model.encoder, self.mae_weights)
            return "mae-imagenet"
        if self.config.init == "mae-sim":  # the MAE-sim stage, next, sets the encoder's weights
            mae = self.mae_config(data)
            return f"mae-sim {self.mae_dir / mae.tag() / MAERecipe.checkpoint_name}"
        return "scratch"

    def open_loop(self, model: PigNavNet, stage: Stage) -> dict:
        """Open-loop errors on the held-out episodes of the stage's own folders (never the test layouts);
        the score is minus the mean lookahead-waypoint error."""
        if stage.name not in self._heldout:
            c = self.config
            self._heldout[stage.name] = load_demos(self.stage_dirs(stage.name), c, c.demo_episodes, progress=False,
                                                   heldout=True)  # fmt: skip
        report = open_loop_errors(model, self.config, self._heldout[stage.name], stride=5)
        metrics = {"score": open_loop_score(report)}
        for kind, errors in report.items():
            if isinstance(errors, dict):
                metrics[f"val_{kind}_lookahead_m"] = errors["lookahead_waypoint_error_m"]
                metrics[f"val_{kind}_lookahead_baseline_m"] = errors[
                    "mean_target_baseline_lookahead_waypoint_error_m"
                ]
                if "distance_error_m" in errors:
                    metrics[f"val_{kind}_distance_m"] = errors["distance_error_m"]
        return metrics

    def batches(self, data: DemoSet, generator: torch.Generator) -> Iterator[dict]:
        while True:
            yield sample_batch(data, self.config, generator)

    def loss(self, model: PigNavNet, batch: dict) -> dict[str, torch.Tensor]:
        out = model(batch["obs"], batch["goal"], batch.get("context"))
        return compute_losses(out, batch, self.config, {name: model.heads.std(name) for name in out})

    def learning_rate(self, step: int, total: int) -> float:
        return learning_rate(step, total, self.config.lr)

    def checkpoint_metadata(self, stage: Stage, data: DemoSet) -> dict:
        fraction = self.config.fraction if stage.name == "finetune" else 1.0
        return {"variant": stage_variant(self.config, stage.name),
                "data": {"stage": stage.name, "sources": data.sources, "fraction": fraction,
                         "episodes": data.episodes, "steps": len(data)}}  # fmt: skip
