"""What the students' training loops share: demonstrations on demand, closed-loop validation, CSV logs."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

from experts.dataset import episode_files


def ensure_demos(env: str, episodes: int, demos_dir: Path, source: Path | str) -> None:
    """Collect demonstrations in a subprocess (one simulation per process) if too few exist. `source`:
    an expert run directory, or "planner" (the scenes' shortest-path expert)."""
    if len(episode_files(demos_dir)) >= episodes:
        return
    command = [sys.executable, "-m", "experts.collect", "--env", env, "--episodes", str(episodes),
               "--checkpoint", str(source), "--out", str(demos_dir)]  # fmt: skip
    if str(source) == "planner":
        command += ["--action-noise", "0.1"]  # recoveries from small deviations
    print("collecting demonstrations: " + " ".join(command))
    subprocess.run(command, check=True)


def validate(env, policy, episodes: list, seed: int) -> dict:
    """Closed-loop success, SPL and steps (successful episodes) of `policy` on `episodes`."""
    from evaluation.metrics import summarize
    from evaluation.rollout import evaluate

    summary = summarize(evaluate(env, policy, episodes, seed=seed, progress=False).records)
    return {"val_success": summary["success_rate"], "val_spl": summary["spl"],
            "val_steps": summary.get("mean_steps_successful") or float("nan")}  # fmt: skip


def better(row: dict, best: dict | None) -> bool:
    """Higher success wins; fewer steps break ties."""
    return best is None or (row["val_success"], -row["val_steps"]) > (best["val_success"], -best["val_steps"])


def append_csv(path: Path, row: dict, fields: list[str]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def learning_rate(step: int, total: int, base: float, warmup: int = 100) -> float:
    """Linear warm-up over `warmup` optimiser steps, then cosine decay to 0 at `total`."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
