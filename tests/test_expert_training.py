"""tools/train.py expert end to end at a small budget, in subprocesses (one simulation per process)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from control import unicycle
from experts.ppo import expert as expert_zip
from training.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def train(out: Path, timesteps: int) -> str:
    return run("tools/train.py", "expert", "--env", "arena", "--out", str(out), "--timesteps", str(timesteps))


LOGS: dict[str, str] = {}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """An expert after 40,960 steps (5 PPO rollouts of 64 envs x 128 steps; ~20 s of training)."""
    out = tmp_path_factory.mktemp("expert")
    LOGS["first"] = train(out, 40_960)
    return out


def evaluate(policy: str, checkpoint: Path | None, out: Path) -> dict:
    model = ["--checkpoint", str(checkpoint)] if checkpoint else []  # the random policy has none
    run("evaluation/run.py", "--policy", policy, "--env", "arena", "--split", "val", "--episodes", "10",
        "--num-envs", "10", *model, "--out", str(out), "--no-plots")  # fmt: skip
    return json.loads((out / "summary.json").read_text())


def test_brief_training_beats_a_random_policy(trained, tmp_path):
    expert = evaluate("expert", trained, tmp_path / "expert")
    random = evaluate("random", None, tmp_path / "random")
    assert expert["episodes"] == random["episodes"] == 10
    # measured once: 40% success, SoftSPL 0.50 after 40k steps; random 0% and 0.05
    assert expert["soft_spl"] > random["soft_spl"] + 0.15
    assert expert["success_rate"] > random["success_rate"]


def test_training_shows_one_progress_line_and_no_repeated_warnings(trained):
    log = LOGS["first"]
    # tqdm's line, rewritten in place (text-mode capture turns its carriage returns into newlines): steps
    # done of the total, steps/s, time left, and the success rate and episode steps of the last rollout
    bars = [line for line in log.splitlines() if line.startswith("PPO:")]
    final = bars[-1] if bars else ""
    assert re.search(r"PPO: 100%\|.*\| 41\.0k/41\.0k \[[0-9:]+<00:00, +[0-9.]+k?step/s, success=[0-9.]+, "
                     r"steps=[0-9]+\]", final), final  # fmt: skip
    # the arena's five fixed-base spheres each made Isaac Lab warn about their root velocity
    assert log.count("Failed to get root com velocity") == 1, log[-3000:]


def test_a_warning_repeated_per_asset_is_shown_once():
    from envs.common.logs import ShowOnce

    records = [logging.LogRecord("x", logging.WARNING, "", 0, msg, None, None)
               for msg in ("Failed to get root com velocity. Expected.", "Other", "Failed to get root com velocity. Expected.")]  # fmt: skip
    show = ShowOnce(("Failed to get root com velocity",))
    assert [show.filter(r) for r in records] == [True, True, False]
    assert records[0].getMessage().endswith("(fixed-base pieces; shown once)")


def test_training_writes_a_checkpoint_and_resumes(trained):
    meta = expert_zip.read_metadata(trained, env="arena")
    assert (
        meta["kind"] == "expert" and meta["timesteps"] >= 40_960 and meta["action_transform"] == unicycle.NAME
    )
    assert list((trained / "checkpoints").glob("ppo_*_steps.zip")), "no periodic checkpoint"
    assert list(trained.glob("ppo_*/events.out.tfevents.*")), "no TensorBoard log"
    log = train(trained, 49_152)
    assert "resuming from" in log
    assert expert_zip.read_metadata(trained)["timesteps"] >= 49_152


def test_bad_expert_checkpoints_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="tools/train.py expert --env arena"):
        expert_zip.read_metadata(tmp_path / "none.zip", env="arena")
    corrupt = tmp_path / "expert.zip"
    corrupt.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a readable goalnav checkpoint"):
        expert_zip.read_metadata(corrupt)


def test_a_fresh_expert_drives_straight_at_full_speed():
    import torch

    zero = torch.zeros(1, 2)
    assert unicycle.to_wheels(zero).tolist() == [[1.0, 1.0]]  # v2: full speed unless slowed
    assert unicycle.to_wheels_v1(zero).tolist() == [[0.5, 0.5]]  # v1: half speed
    # v2 stops and turns in place at the ends, and turns gently near straight ahead
    assert unicycle.to_wheels(torch.tensor([[-1.0, 1.0]])).tolist() == [[-1.0, 1.0]]
    assert unicycle.to_wheels(torch.tensor([[0.0, 0.1]]))[0, 0] > 0.98  # a small turn: 0.99, 1.0


def test_ppo_takes_its_seed_and_device_from_the_flags_not_the_yaml():
    from experts.ppo.config import load_ppo_cfg

    for env in ("arena", "rooms"):
        kwargs, _ = load_ppo_cfg(env, "paper", 4, "cuda:1", {"gamma": 0.9}, seed=7)
        assert kwargs["seed"] == 7 and kwargs["device"] == "cuda:1" and kwargs["gamma"] == 0.9


def test_the_seed_flag_seeds_ppo(tmp_path):
    """One short rollout of 2 envs: the --seed given is the SB3 model's seed, not the YAML's."""
    from stable_baselines3 import PPO

    run("tools/train.py", "expert", "--env", "arena", "--num-envs", "2", "--timesteps", "1", "--seed", "7",
        "--device", "cpu", "--out", str(tmp_path))  # fmt: skip
    assert expert_zip.read_metadata(tmp_path)["seed"] == 7
    model = PPO.load(tmp_path / expert_zip.FILENAME, device="cpu")
    assert model.seed == 7 and str(model.device) == "cpu"


def test_expert_probe_puts_the_expert_on_the_device_flag(monkeypatch):
    """The probe's expert goes where --device put the simulation (a fake env on a fake GPU)."""
    from contextlib import contextmanager
    from types import SimpleNamespace

    import envs.registry
    import experts.ppo.expert
    from evaluation import expert_probe

    @contextmanager
    def fake_env(env, num_envs, device, **kwargs):
        yield SimpleNamespace(unwrapped=SimpleNamespace(device=device))

    placed = []

    class Stop(Exception):
        pass

    def fake_policy(checkpoint, env, device="cpu"):
        placed.append(device)
        raise Stop

    monkeypatch.setattr(envs.registry, "open_env", fake_env)
    monkeypatch.setattr(experts.ppo.expert, "ExpertPolicy", fake_policy)
    with pytest.raises(Stop):
        expert_probe.main(["--env", "arena", "--device", "cuda:3", "--episodes", "1"])
    assert placed == ["cuda:3"]
