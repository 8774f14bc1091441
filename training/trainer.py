"""The one training loop. A model learns in stages of optimiser steps; on a schedule it is validated and
each stage keeps its best checkpoint (``<stage>.pt``); the last stage's best becomes the run's checkpoint.
``last.pt`` holds everything a rerun needs to resume; ``train_log.csv`` and TensorBoard hold what you
would plot; ``train_summary.json`` says what came out.

A policy supplies a `Recipe`: its model, its stages (each loads its own data, which is where DAgger's
rollouts happen), batches, loss and learning rate. The loop below never special-cases a policy.

Under ``torchrun --nproc-per-node N`` (compute/distributed.py) every process runs this loop on batches of
its own (its generator is seeded by its rank) and DistributedDataParallel averages the gradients, so each
step learns from N batches; rank 0 alone loads new data first, validates, and writes checkpoints, logs and
summaries.

Every process trains on one device, decided once (compute.distributed.device: `device`, by default cuda if
available, else cpu; under torchrun with NCCL its own GPU): the model is built there and every batch is
moved there before its step (recipes make batches on the CPU). Checkpoints are read onto the CPU, so a
GPU-trained model loads anywhere.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from tqdm import tqdm

from compute import distributed
from storage import FolderLock, atomic_path, atomic_write_text, clean_debris
from training.checkpoint import CheckpointError, read_checkpoint, save_checkpoint

LAST = "last.pt"
NEWEST = "last.pt.new"  # a resume point written but not yet moved into place
PREVIOUS = "last.prev.pt"  # the resume point before the newest, kept in case the newest is damaged
LOG = "train_log.csv"
SUMMARY = "train_summary.json"


@dataclass
class Stage:
    """A run of optimiser steps on one dataset. `steps` may depend on the data (e.g. epochs of it)."""

    name: str
    load: Callable[[], Any]  # the stage's data; hooks that make data (DAgger) run here
    steps: int | Callable[[Any], int]
    best_key: str | None = None  # stages sharing a key compete for one best checkpoint (default: name)
    start_from_best: bool = False  # start from the previous stage's best instead of its last weights
    # a stage trained by a trainer of its own (MAE-sim, kept in a folder runs share): `fit(model, data)`
    # trains it (or finds it trained), changes `model` in place and returns its log rows; this run logs them
    # and resumes after it, but keeps no best checkpoint of it
    fit: Callable[[nn.Module, Any], list[dict]] | None = None

    @property
    def key(self) -> str:
        return self.best_key or self.name


@dataclass
class Validation:
    """`run(model, stage)` -> metrics with a "score" (higher is better; tuples compare in order), every
    `every` optimiser steps and at the end of each stage (None: at a third, two thirds and the end of each);
    `at_stage_end(model, stage)` adds metrics at the end of each stage (e.g. closed loop where `run` is
    open loop)."""

    run: Callable[[nn.Module, Stage], dict]
    every: int | None = None
    at_stage_end: Callable[[nn.Module, Stage], dict] | None = None


class Recipe(Protocol):
    """What a policy supplies to the trainer."""

    kind: str  # recorded in the checkpoint; the loader builds the model from it
    env: str  # the env the model is for ("+"-joined envs for env-agnostic models such as the IDM)
    config: Any  # a DictConfig: to_dict() goes into every checkpoint
    checkpoint_name: str  # the run's checkpoint: policy.pt, idm.pt, ...
    weight_decay: float  # AdamW's, for every stage

    def build_model(self) -> nn.Module: ...

    def stages(self) -> list[Stage]: ...

    def prepare(self, model: nn.Module, data: Any) -> str:
        """Initialise a fresh model from the first stage's data (target statistics, encoder weights);
        returns how the model was initialised, for the checkpoint."""

    def batches(self, data: Any, generator: torch.Generator) -> Iterator[Any]: ...

    def loss(self, model: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
        """The losses of one batch; "total" is the one minimised."""

    def learning_rate(self, step: int, total: int) -> float: ...

    def checkpoint_metadata(self, stage: Stage, data: Any) -> dict:
        """What this stage's checkpoint records besides weights and config (variant, data, encoder...)."""


def learning_rate(step: int, total: int, base: float, warmup: int = 100) -> float:
    """Linear warm-up over `warmup` optimiser steps, then cosine decay to 0 at `total`."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def to_device(batch: Any, device: torch.device | str) -> Any:
    """`batch` with every tensor in it (nested in dicts, lists and tuples) moved to `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def train_step(recipe: Recipe, model: nn.Module, optimizer, batch, synced=None) -> dict[str, torch.Tensor]:
    """One optimiser step (gradients clipped at norm 1); returns the detached losses. `synced`: the model
    wrapped for distributed training (compute.distributed.synced), whose backward averages gradients."""
    model.train()
    losses = recipe.loss(model if synced is None else synced, batch)
    optimizer.zero_grad()
    losses["total"].backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    model.eval()
    return {k: v.detach() for k, v in losses.items()}


def newest_readable(run_dir: Path, kind: str) -> tuple[dict | None, str | None]:
    """The newest resume point that loads (last.pt, else last.prev.pt) and a note when one was skipped."""
    notes = []
    for name in (NEWEST, LAST, PREVIOUS):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            return read_checkpoint(path, kind), "; ".join(notes) or None
        except CheckpointError as err:
            notes.append(f"skipped {path}: {err}")
    return None, "; ".join(notes) or None


class Trainer:
    """``Trainer(run_dir, recipe, validation).fit()`` -> the run's checkpoint path."""

    def __init__(self, run_dir: Path, recipe: Recipe, validation: Validation | None = None, seed: int = 0,
                 fresh: bool = False, progress: bool = True, shared: bool = False,
                 device: str | torch.device | None = None):  # fmt: skip
        """`shared`: runs share this folder (an MAE-sim encoder), so wait while another process trains it.
        `device`: where to train (compute.distributed.device; None: cuda if available, else cpu)."""
        self.run_dir, self.recipe, self.validation = Path(run_dir), recipe, validation
        self.seed, self.fresh, self.progress, self.shared = seed, fresh, progress, shared
        self.requested_device = device

    def fit(self) -> Path:
        distributed.start(self.requested_device)
        self.device = distributed.device(self.requested_device)
        self.main = distributed.is_main()
        with FolderLock(self.run_dir, wait=self.shared) if self.main else nullcontext():
            if self.main:
                clean_debris(self.run_dir)
            distributed.barrier()
            path = self._fit()
            distributed.barrier()  # every process returns once rank 0 has written everything
            return path

    def _fit(self) -> Path:
        recipe, run_dir, main, rank = self.recipe, self.run_dir, self.main, distributed.rank()
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(
            self.seed + 1_000_003 * rank
        )  # each process its own batches
        model, stages = recipe.build_model().to(self.device), recipe.stages()
        state = {"stage": 0, "step": 0, "best": {}, "done": False, "init": None, "seconds": 0.0}
        saved = self._resume_point()
        distributed.barrier()  # rank 0 may remove an older run's files below once everyone has looked
        if saved is not None:
            model.load_state_dict(saved["state_dict"])
            state = saved["state"]
            states = saved.get("generators") or [saved["generator"]]
            if rank < len(states):
                generator.set_state(states[rank])
            print(f"resuming {run_dir} at stage {stages[state['stage']].name if not state['done'] else 'end'}, "
                  f"step {state['step']}")  # fmt: skip
        elif main:
            for stale in (
                LOG,
                SUMMARY,
                NEWEST,
                LAST,
                PREVIOUS,
                recipe.checkpoint_name,
                *(f"{s.name}.pt" for s in stages),
            ):
                (run_dir / stale).unlink(missing_ok=True)  # a fresh run leaves nothing of an older one
        if state["done"]:
            print(f"{run_dir / recipe.checkpoint_name} is already trained; pass --fresh to train again")
            return run_dir / recipe.checkpoint_name
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(run_dir / "tensorboard") if main else None
        started = time.perf_counter() - state["seconds"]

        for index in range(state["stage"], len(stages)):
            stage = stages[index]
            data = distributed.main_first(stage.load)  # DAgger's rollouts happen once, on rank 0
            steps = stage.steps(data) if callable(stage.steps) else stage.steps
            if state["init"] is None:  # a fresh model
                state["init"] = recipe.prepare(model, data)
            if stage.fit is not None:
                rows = [{**row, "stage": stage.name} for row in stage.fit(model, data)]
                state.update(stage=index + 1, step=0, done=index + 1 >= len(stages))
                state["seconds"] = time.perf_counter() - started
                generators = distributed.all_gather(generator.get_state())
                if main:
                    for row in rows:
                        self._append_log(row)
                    optimizer = torch.optim.AdamW(model.parameters())  # a resume point after it starts afresh
                    self._save_resume_point(model, optimizer, generators, state)
                continue
            if state["step"] == 0 and stage.start_from_best and index > 0 and main:
                previous = stages[index - 1].key
                model.load_state_dict(
                    torch.load(run_dir / f"{previous}.pt", map_location=self.device, weights_only=False)[
                        "state_dict"
                    ]
                )
            synced = distributed.synced(model)  # under torchrun: rank 0's weights go to every process
            optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate(0, steps),
                                          weight_decay=recipe.weight_decay)  # fmt: skip
            if saved is not None and state["step"] > 0:
                optimizer.load_state_dict(saved["optimizer"])
            saved = None
            batches = recipe.batches(data, generator)
            running: dict[str, float] = {}
            every = (self.validation.every if self.validation else None) or math.ceil(steps / 3)
            bar = tqdm(range(state["step"] + 1, steps + 1), desc=stage.name, unit="step", initial=state["step"],
                       total=steps, disable=not (self.progress and main))  # fmt: skip
            for step in bar:
                lr = recipe.learning_rate(step - 1, steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                losses = train_step(recipe, model, optimizer, to_device(next(batches), self.device), synced)
                for name, value in losses.items():
                    running[name] = running.get(name, 0.0) + value.item()
                    if writer is not None:
                        writer.add_scalar(
                            f"{stage.name}/loss_{name}", value.item(), self._global(stages, index, step)
                        )
                bar.set_postfix(loss=f"{losses['total'].item():.4f}")
                if step != steps and step % every:
                    continue
                # a log row: mean losses since the last one, validation, the best checkpoint, the resume point
                period = step - state["step"]
                row = {"stage": stage.name, "step": step, "lr": lr,
                       **{f"loss_{k}": v / period for k, v in running.items()}}  # fmt: skip
                running = {}
                validate = self.validation is not None and main
                metrics = self.validation.run(model, stage) if validate else {"score": step}
                score = metrics.pop("score")
                if step == steps and validate and self.validation.at_stage_end:
                    extra = self.validation.at_stage_end(model, stage)
                    metrics |= {k: v for k, v in extra.items() if k != "score"}
                row |= metrics
                row["seconds"] = round(time.perf_counter() - started, 1)
                for name, value in metrics.items():
                    if writer is not None and isinstance(value, int | float) and math.isfinite(value):
                        writer.add_scalar(f"val/{name}", value, self._global(stages, index, step))
                if main:
                    bar.write(f"{stage.name} step {step}: " + ", ".join(_fmt(k, v) for k, v in row.items()
                                                                     if k.startswith(("loss_total", "val_"))))  # fmt: skip
                best = state["best"].get(stage.key)
                if main and (best is None or tuple(_as_tuple(score)) > tuple(_as_tuple(best["score"]))):
                    state["best"][stage.key] = {**row, "score": score}
                    save_checkpoint(run_dir / f"{stage.key}.pt", recipe.kind, recipe.env, model.state_dict(),
                                    recipe.config.to_dict(), validation=row, init=state["init"],
                                    **recipe.checkpoint_metadata(stage, data))  # fmt: skip
                # where a rerun resumes: after this step, or at the start of the next stage
                state["stage"], state["step"] = (index + 1, 0) if step == steps else (index, step)
                state["done"] = state["stage"] >= len(stages)
                state["seconds"] = time.perf_counter() - started
                generators = distributed.all_gather(generator.get_state())
                if main:
                    self._append_log(row)
                    self._save_resume_point(model, optimizer, generators, state)
            bar.close()
        if not main:
            return run_dir / recipe.checkpoint_name
        writer.close()
        final = run_dir / recipe.checkpoint_name
        last_key = stages[-1].key
        with atomic_path(final) as tmp:
            shutil.copyfile(run_dir / f"{last_key}.pt", tmp)
        summary = {"checkpoint": str(final), "kind": recipe.kind, "env": recipe.env, "init": state["init"],
                   "best_validation": state["best"], "config": recipe.config.to_dict(),
                   "train_seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
        atomic_write_text(run_dir / SUMMARY, json.dumps(summary, indent=2, default=str) + "\n")
        print(f"best {last_key}: " + ", ".join(_fmt(k, v) for k, v in state["best"][last_key].items()
                                               if k.startswith("val_")) + f"; wrote {final}")  # fmt: skip
        return final

    # -- resume points and logs

    def _resume_point(self) -> dict | None:
        if self.fresh:
            return None
        saved, note = newest_readable(self.run_dir, self.recipe.kind)
        if note:
            print(f"warning: {note}")
        if saved is not None and saved["config"] != self.recipe.config.to_dict():
            print(f"{self.run_dir / LAST} was made with other settings; starting afresh")
            return None
        return saved

    def _save_resume_point(self, model, optimizer, generators: list, state: dict) -> None:
        """`generators`: the batch generators' states of every process (rank 0's first)."""
        last, previous = self.run_dir / LAST, self.run_dir / PREVIOUS
        path = save_checkpoint(self.run_dir / NEWEST, self.recipe.kind, self.recipe.env, model.state_dict(),
                               self.recipe.config.to_dict(), optimizer=optimizer.state_dict(),
                               generator=generators[0], generators=generators, state=state)  # fmt: skip
        if last.exists():
            last.replace(previous)
        path.replace(last)

    def _append_log(self, row: dict) -> None:
        """One row per validation; a row with new columns (closed loop at a stage's end) widens the file."""
        path = self.run_dir / LOG
        rows = []
        if path.exists():
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
        fields = list(dict.fromkeys([*(rows[0].keys() if rows else []), *row]))
        with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows([*rows, row])

    @staticmethod
    def _global(stages: list[Stage], index: int, step: int) -> int:
        """A step count across stages for TensorBoard (stages with data-dependent lengths count 0)."""
        return sum(s.steps for s in stages[:index] if isinstance(s.steps, int)) + step


def _as_tuple(score) -> tuple:
    return tuple(score) if isinstance(score, list | tuple) else (score,)


def _fmt(key: str, value) -> str:
    if isinstance(value, float):
        return f"{key} {value:.4g}"
    return f"{key} {value}"
