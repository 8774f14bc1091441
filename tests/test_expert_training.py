"""experts/train.py end to end at a tiny budget, in subprocesses (one simulation per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from experts import expert_zip

ROOT = Path(__file__).resolve().parents[1]


def train(out: Path, timesteps: int) -> str:
    cmd = [
        sys.executable,
        "experts/train.py",
        "--env",
        "arena",
        "--num-envs",
        "16",
        "--out",
        str(out),
        "--timesteps",
        str(timesteps),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_training_writes_a_checkpoint_and_resumes(tmp_path):
    out = tmp_path / "expert"
    train(out, 2048)
    meta = expert_zip.read_metadata(out, env="arena")
    assert meta["kind"] == "expert" and meta["timesteps"] >= 2048 and meta["num_envs"] == 16
    assert list((out / "checkpoints").glob("ppo_*_steps.zip")), "no periodic checkpoint"
    assert list(out.glob("ppo_*/events.out.tfevents.*")), "no TensorBoard log"
    log = train(out, 4096)
    assert "resuming from" in log
    assert expert_zip.read_metadata(out)["timesteps"] >= 4096


def test_bad_expert_checkpoints_are_refused(tmp_path):
    with pytest.raises(expert_zip.ExpertCheckpointError, match="experts/train.py --env arena"):
        expert_zip.read_metadata(tmp_path / "none.zip", env="arena")
    corrupt = tmp_path / "expert.zip"
    corrupt.write_bytes(b"not a zip")
    with pytest.raises(expert_zip.ExpertCheckpointError, match="not a goalnav expert checkpoint"):
        expert_zip.read_metadata(corrupt)
