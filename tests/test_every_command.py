"""Every command with every model kind of the registry (tools/registry.py) on a tiny case: train, evaluate,
open loop, collect and drive. A kind the registry gains is run too (and fails here until it has tiny flags).

One simulation per process: the arena pairs share the suite's arena (each command's `launch` yields it);
the PPO expert trains in a subprocess of its own (cameras off), and the planner, which needs an image-goal
scene, runs its commands in one more subprocess sharing one rooms simulation. The test reports every pair
that crashed, not only the first."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run as a script too (the scene subprocess)

SCENE = "rooms"
EPISODE_SECONDS = 1.0  # short episodes keep validation, evaluation and collection quick
AFTER_EXPERT = {"siglip_bc"}  # its training checks the env's labeller: in the arena, the PPO expert


def commands() -> dict:
    from evaluation import open_loop, run
    from tools import collect, drive, train

    return {"train": train, "evaluate": run, "open_loop": open_loop, "collect": collect, "drive": drive}


@contextmanager
def shared_simulation(env, monkeypatch):
    """Every command's `launch` yields `env` (the one simulation of this process), whatever cfg it asks for."""

    @contextmanager
    def launch(name, cfg):
        yield env

    for module in commands().values():
        if hasattr(module, "launch"):
            monkeypatch.setattr(module, "launch", launch)
    saved = env.cfg.episode_length_s
    env.cfg.episode_length_s = EPISODE_SECONDS
    try:
        yield
    finally:
        env.cfg.episode_length_s = saved


def run_all(plan: list[tuple[str, str, list[str]]]) -> list[str]:
    """Run (command, kind, argv) in order; the failures, one line each (exit status or exception)."""
    modules, failures = commands(), []
    for command, kind, argv in plan:
        try:
            code = modules[command].main(argv)
        except SystemExit as err:
            code = err.code
        except Exception:  # noqa: BLE001 - the test reports every crashing pair
            failures.append(f"{command} {kind}: {traceback.format_exc(limit=-3).strip().splitlines()[-1]}")
            continue
        if code not in (0, None):
            failures.append(f"{command} {kind}: exit status {code}")
    return failures


def write_demos(folder: Path, env: str, episodes: int = 10) -> Path:
    from test_pignav import write_demos as write

    write(folder, env, episodes)
    return folder


def tiny_train_flags(kind: str, root: Path, demos: Path, expert: Path) -> list[str]:
    """Each trained kind's tiny case (the PPO expert's is in `expert_command`)."""
    sim = ["--env", "arena", "--num-envs", "2", "--demos", str(demos), "--root", str(root)]
    pignav = [*sim, "--demo-episodes", "10", "--size", "tiny", "--depth", "1", "--image-size", "32",
              "--patch-size", "16", "--init", "scratch", "--finetune-steps", "2", "--batch-size", "4",
              "--val-episodes", "2", "--val-every", "2"]  # fmt: skip
    return {
        "siglip_bc": [
            *sim,
            "--demo-episodes",
            "4",
            "--encoder",
            "pixels",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--expert",
            str(expert),
        ],  # fmt: skip
        "pignav": pignav,
        "late_fusion": pignav,
        "idm": [
            "--demos",
            str(demos),
            "--demo-episodes",
            "10",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--val-every",
            "2",
            "--out",
            str(root / "runs" / "idm"),
            "--root",
            str(root),
        ],  # fmt: skip
    }[kind]


def expert_command(root: Path) -> list[str]:
    return [sys.executable, "tools/train.py", "expert", "--env", "arena", "--num-envs", "4", "--timesteps", "512",
            "--root", str(root), "--out", str(root / "runs" / "arena" / "expert")]  # fmt: skip


def policy_plan(kinds: list[str], env: str, root: Path) -> list[tuple[str, str, list[str]]]:
    """evaluate (2 episodes, 2 envs) and drive (a few steps) for each policy kind, from its default run folder."""
    from tools.registry import MissingCheckpointError, resolve_checkpoint

    plan = []
    for kind in kinds:
        try:
            checkpoint = resolve_checkpoint(kind, env, None)
        except MissingCheckpointError:  # its training failed (reported): the commands say so too
            checkpoint = None
        given = ["--checkpoint", str(checkpoint)] if checkpoint else []
        plan += [
            (
                "evaluate",
                kind,
                [
                    "--policy",
                    kind,
                    "--env",
                    env,
                    "--split",
                    "val",
                    "--episodes",
                    "2",
                    "--num-envs",
                    "2",
                    "--no-plots",
                    "--root",
                    str(root),
                    *given,
                ],
            ),  # fmt: skip
            (
                "drive",
                kind,
                [
                    "--policy",
                    kind,
                    "--env",
                    env,
                    "--steps",
                    "5",
                    "--num-envs",
                    "2",
                    "--root",
                    str(root),
                    *given,
                ],
            ),  # fmt: skip
        ]
    return plan


def scene_plan(root: Path) -> list[tuple[str, str, list[str]]]:
    """The kinds that act only in the image-goal scenes (the planner): their commands in one rooms simulation."""
    from tools.registry import KINDS, POLICY_KINDS

    kinds = [k for k in POLICY_KINDS if KINDS[k].env_problem and KINDS[k].env_problem("arena")]
    plan = policy_plan(kinds, SCENE, root)
    for kind in kinds:
        if KINDS[kind].labels:
            plan.append(("collect", kind, ["--env", SCENE, "--expert", KINDS[kind].labels, "--episodes", "1",
                                           "--keep-all", "--num-envs", "2", "--root", str(root)]))  # fmt: skip
    return plan


def test_every_command_runs_with_every_kind(arena, tmp_path, monkeypatch):
    from tools.registry import KINDS, OPEN_LOOP_KINDS, POLICY_KINDS, TRAINED_KINDS

    monkeypatch.setenv("GOALNAV_ROOT", str(tmp_path))  # --root sets it; restored afterwards
    monkeypatch.chdir(ROOT)
    scene_kinds = [k for k in POLICY_KINDS if KINDS[k].env_problem and KINDS[k].env_problem("arena")]
    # the two other simulations start first and run while this process works
    expert = subprocess.Popen(
        expert_command(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    scenes = subprocess.Popen([sys.executable, __file__, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)  # fmt: skip
    demos = write_demos(tmp_path / "data" / "arena" / "demos", "arena")
    expert_dir = tmp_path / "runs" / "arena" / "expert"
    failures = []
    with shared_simulation(arena, monkeypatch):
        students = [k for k in TRAINED_KINDS if k != "expert"]
        needs_expert = [k for k in students if k in AFTER_EXPERT]
        first = [k for k in students if k not in needs_expert]
        failures += run_all(
            [("train", k, [k, *tiny_train_flags(k, tmp_path, demos, expert_dir)]) for k in first]
        )
        log, _ = expert.communicate(timeout=600)
        if expert.returncode != 0:
            failures.append(f"train expert: exit status {expert.returncode}: {log[-2000:]}")
        failures += run_all(
            [("train", k, [k, *tiny_train_flags(k, tmp_path, demos, expert_dir)]) for k in needs_expert]
        )
        plan = policy_plan([k for k in POLICY_KINDS if k not in scene_kinds], "arena", tmp_path)
        for kind in OPEN_LOOP_KINDS:
            run_dir = tmp_path / "runs" / ("arena" if KINDS[kind].policy else "") / kind
            checkpoint = run_dir / KINDS[kind].checkpoint_name
            plan.append(("open_loop", kind, ["--checkpoint", str(checkpoint), "--demos", str(demos),
                                             "--demo-episodes", "3", "--root", str(tmp_path)]))  # fmt: skip
        for kind in POLICY_KINDS:
            if KINDS[kind].labels and kind not in scene_kinds:
                plan.append(("collect", kind, ["--env", "arena", "--expert", KINDS[kind].labels, "--episodes", "1",
                                               "--keep-all", "--num-envs", "2", "--root", str(tmp_path),
                                               "--out", str(tmp_path / "collected")]))  # fmt: skip
        failures += run_all(plan)
    log, _ = scenes.communicate(timeout=600)
    if scenes.returncode != 0:
        failures.append(f"the {SCENE} commands: exit status {scenes.returncode}: {log[-3000:]}")
    assert failures == [], "\n".join(failures)
    # what came out: a summary per evaluated policy, an episode per collection
    for kind in POLICY_KINDS:
        env = SCENE if kind in scene_kinds else "arena"
        summary = json.loads((tmp_path / "results" / env / kind / "summary.json").read_text())
        assert summary["episodes"] == 2, kind
    assert len(list((tmp_path / "collected").glob("episode_*.hdf5"))) == 1


def main(root: str) -> int:
    """The scene subprocess: the scene-only kinds' commands, sharing one simulation."""
    import os

    from envs.registry import open_env

    os.environ["GOALNAV_ROOT"] = root
    with (
        open_env(SCENE, num_envs=2, device="cpu", seed=0) as env,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        with shared_simulation(env.unwrapped, monkeypatch):
            failures = run_all(scene_plan(Path(root)))
    print("\n".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
