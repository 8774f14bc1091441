"""Every command refuses bad input with one line on stderr and exit code 2, before any simulation or
subprocess starts (a simulation start would take seconds and print Isaac Lab's banner; none of these
do). A traceback would surface here as an exception instead of SystemExit."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fakes import fake_episode

from control import unicycle
from episodes import files as dataset
from evaluation import compare, open_loop, run
from storage import FolderLock
from tools import collect, drive, export_gnm, label, train
from training.checkpoint import FORMAT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    """Damaged and misleading inputs of every kind."""
    root = tmp_path_factory.mktemp("bad")
    corrupt = root / "corrupt_demos"
    corrupt.mkdir()
    dataset.write_episode(dataset.episode_path(corrupt, 0), "halls", fake_episode(), {}, 0, True)
    (corrupt / "episode_000001.hdf5").write_bytes(b"\x89HDF\r\n truncated")
    rooms = root / "rooms_demos"
    rooms.mkdir()
    dataset.write_episode(dataset.episode_path(rooms, 0), "rooms", fake_episode(), {}, 0, True)
    expert = root / "expert.zip"  # intact metadata, no model inside
    meta = {"format": FORMAT, "kind": "expert", "env": "arena", "action_transform": unicycle.NAME}
    with zipfile.ZipFile(expert, "w") as archive:
        archive.writestr("goalnav.json", json.dumps(meta))
    not_a_checkpoint = root / "policy.pt"
    not_a_checkpoint.write_bytes(b"\x80\x02 not a torch file")
    empty = root / "empty"
    empty.mkdir()
    locked = root / "locked"
    locked.mkdir()
    results = root / "damaged_results"  # a results folder whose summary was cut short
    results.mkdir()
    (results / "summary.json").write_text('{"policy": "random", "env": "ar')
    (results / "trajectories.npz").write_bytes(b"PK not a zip")
    only_damaged = root / "only_damaged"
    only_damaged.mkdir()
    (only_damaged / "episode_000000.hdf5").write_bytes(b"\x89HDF\r\n truncated")
    return {"corrupt": corrupt, "rooms": rooms, "expert": expert, "pt": not_a_checkpoint, "empty": empty,
            "locked": locked, "missing": root / "missing", "results": results,
            "only_damaged": only_damaged}  # fmt: skip


CASES = [
    # (command, arguments with {placeholders} from `bad`, what the one line must say)
    (train, [], "the following arguments are required: KIND"),
    (train, ["expert", "--timesteps", "0"], "--timesteps must be >= 1"),
    (train, ["expert", "--env", "bogus"], "unknown env 'bogus'"),
    (train, ["expert", "--profile", "gpu"], "invalid choice: 'gpu'"),
    (train, ["expert", "--hyperparams", "gamma"], "takes KEY=VALUE items"),
    (train, ["expert", "--hyperparams", "gama=0.9"], "PPO has no setting 'gama'"),
    (train, ["expert", "--hyperparams", "seed=3"], "set seed with --seed"),
    (train, ["expert", "--hyperparams", "device=cuda"], "set device with --device"),
    (train, ["expert", "--hyperparams", "learning_rate=-3e-4"], "learning_rate must be in (0, 1]"),
    (train, ["expert", "--hyperparams", "gamma=1.5"], "gamma must be in (0, 1]"),
    (train, ["expert", "--hyperparams", "n_steps=fast"], "n_steps takes a number, got 'fast'"),
    (train, ["expert", "--rewards", "rew_crash=-1"], "NAME one of rew_collision, rew_progress"),
    (train, ["expert", "--rewards", "rew_time=fast"], "'fast' in 'rew_time=fast' is not a number"),
    (train, ["pignav", "--env", "rooms", "--num-envs", "-3"], "--num-envs must be >= 1"),
    (train, ["pignav", "--env", "halls", "--dagger", "3"], "unrecognized arguments: --dagger 3"),
    (train, ["siglip_bc", "--context", "-1"], "--context must be >= 0"),
    (train, ["siglip_bc", "--val-every", "0"], "--val-every must be >= 1"),
    (train, ["siglip_bc", "--expert", "{expert}", "--encoder", "pixels"], "is damaged"),
    (
        train,
        ["siglip_bc", "--encoder", "tiny-siglip", "--encoder-weights", "{empty}"],
        "open_clip_config.json",
    ),
    (train, ["siglip_bc", "--encoder", "sigclip"], "unknown encoder 'sigclip'"),
    (train, ["pignav", "--env", "halls", "--demos", "{corrupt}"], "episode_000001.hdf5 is damaged"),
    (
        train,
        ["pignav", "--env", "halls", "--demos", "{rooms}"],
        "holds a dataset for env 'rooms', not 'halls'",
    ),
    (train, ["pignav", "--env", "halls", "--pretrained", "{pt}"], "not a readable goalnav checkpoint"),
    (train, ["pignav", "--env", "halls", "--fraction", "2"], "--fraction must be in [0, 1]"),
    (train, ["late_fusion", "--env", "halls", "--pretrain-envs", "mars"], "unknown --pretrain-envs mars"),
    (train, ["late_fusion", "--env", "halls", "--stacked"], "--stacked is a PIG-Nav (early fusion) variant"),
    (train, ["idm"], "--demos is required"),
    (train, ["idm", "--demos", "{corrupt}"], "episode_000001.hdf5 is damaged"),
    (train, ["idm", "--demos", "{empty}", "--heldout", "1.5"], "--heldout in (0, 1)"),
    (train, ["pignav", "--root", "{missing}"], "is not a folder"),
    (collect, ["--env", "bogus"], "unknown env 'bogus'"),
    (collect, ["--episodes", "0"], "--episodes must be >= 1"),
    (collect, ["--checkpoint", "{expert}"], "is damaged"),
    (collect, ["--checkpoint", "{pt}"], "not a readable goalnav checkpoint"),
    (
        collect,
        ["--env", "arena", "--expert", "planner"],
        "the planner follows shortest paths in the image-goal scenes",
    ),
    (collect, ["--env", "halls", "--out", "{corrupt}"], "episode_000001.hdf5 is damaged"),
    (collect, ["--env", "rooms", "--action-noise", "3"], "--action-noise must be in [0, 1]"),
    (collect, ["--env", "rooms", "--out", "{locked}"], "is in use"),
    (collect, ["--summary", "{missing}"], "no episodes in"),
    (
        run,
        ["--policy", "pignav", "--env", "halls", "--checkpoint", "{pt}"],
        "not a readable goalnav checkpoint",
    ),
    (run, ["--policy", "expert", "--checkpoint", "{expert}"], "is damaged"),
    (run, ["--policy", "random", "--episodes", "-1"], "--episodes must be >= 1"),
    (
        run,
        ["--policy", "planner", "--env", "arena"],
        "the planner follows shortest paths in the image-goal scenes",
    ),
    (run, ["--policy", "random", "--out", "{locked}"], "is in use"),
    (run, ["--replay", "{empty}"], "no evaluation results to replay"),
    (run, ["--policy", "random", "--viz-port", "x"], "invalid int value"),
    (open_loop, ["--checkpoint", "{missing}", "--demos", "{rooms}"], "no checkpoint at"),
    (open_loop, ["--checkpoint", "{pt}", "--demos", "{rooms}"], "not a readable goalnav checkpoint"),
    (
        open_loop,
        ["--checkpoint", "{pt}", "--demos", "{rooms}", "--device", "cuda:7"],
        "is not available on this",
    ),
    (label, ["{rooms}", "--idm", "{missing}", "--out", "{empty}"], "no checkpoint at"),
    (label, ["{rooms}", "--out", "{empty}", "--clip-length", "-1"], "--clip-length must be >= 0"),
    (export_gnm, ["{missing}", "--out", "{empty}"], "no episodes in"),
    (compare, ["{missing}"], "no such results directory"),
    (drive, ["--steps", "0"], "--steps must be >= 1"),
    # numeric ranges (tools/cli.py RANGES), each with its reason
    (drive, ["--threads", "0"], "--threads must be >= 1"),
    (collect, ["--workers", "0"], "--workers must be >= 1"),
    (run, ["--policy", "random", "--num-envs", "5000"], "--num-envs must be <= 4096"),
    (run, ["--policy", "random", "--seed", "-1"], "--seed must be >= 0"),
    (
        run,
        ["--policy", "random", "--viz-port", "80"],
        "--viz-port must be >= 1024 (ports below 1024 need root",
    ),
    (run, ["--policy", "random", "--viz-port", "70000"], "--viz-port must be <= 65535"),
    (run, ["--replay", "{empty}", "--episode", "-2"], "--episode must be >= 0"),
    (collect, ["--env", "rooms", "--camera-size", "4"], "--camera-size must be >= 8"),
    (collect, ["--env", "arena", "--goal-heading", "arrival"], "--goal-heading is for the image-goal scenes"),
    (collect, ["--env", "rooms", "--min-geodesic", "0.2"], "--min-geodesic must be >= 0.5"),
    (
        collect,
        ["--env", "rooms", "--out", "{rooms}", "--goal-heading", "arrival", "--episodes", "9"],
        "holds episodes sampled with {'goal_heading': 'random'",
    ),  # fmt: skip
    (collect, ["--env", "rooms", "--camera-size", "4096"], "--camera-size must be <= 1024"),
    (train, ["siglip_bc", "--epochs", "0"], "--epochs must be >= 1"),
    (train, ["siglip_bc", "--dagger", "-1"], "--dagger must be >= 0"),
    (train, ["pignav", "--env", "halls", "--batch-size", "0"], "--batch-size must be >= 1"),
    (train, ["pignav", "--env", "halls", "--context", "500"], "--context must be <= 64"),
    (train, ["idm", "--demos", "{empty}", "--gap", "0"], "--gap must be >= 1"),
    (label, ["{rooms}", "--out", "{empty}", "--frame-size", "4"], "--frame-size must be >= 8"),
    (export_gnm, ["{rooms}", "--out", "{empty}", "--quality", "101"], "--quality must be <= 100"),
    # a Ray cluster that does not answer: a bounded wait, one line
    (
        run,
        ["--policy", "random", "--ray-address", "127.0.0.1:1"],
        "cannot reach the Ray cluster at 127.0.0.1:1",
    ),
    (
        collect,
        ["--workers", "2", "--ray-address", "no-such-host.invalid:6379"],
        "cannot reach the Ray cluster",
    ),
    (
        run,
        ["--policy", "random", "--ray-address", "head-node"],
        "'head-node' is not HOST:PORT, auto or local",
    ),
    # output folders that cannot be written, refused before any work
    (run, ["--policy", "random", "--out", "{pt}/results"], "policy.pt is a file, not a folder"),
    (
        collect,
        ["--env", "rooms", "--out", "/proc/goalnav/demos"],
        "--out /proc/goalnav/demos: /proc cannot be written",
    ),
    (train, ["idm", "--demos", "{rooms}", "--out", "/sys/goalnav"], "/sys cannot be written"),
    (drive, ["--root", "/proc"], "--root /proc: /proc cannot be written"),
    (drive, ["--video", "{pt}/drive.gif"], "policy.pt is a file, not a folder"),
    # every file error names the file
    (compare, ["{results}"], "damaged_results/summary.json is not valid JSON"),
    (run, ["--replay", "{results}"], "damaged_results/summary.json is damaged"),
    (
        export_gnm,
        ["{only_damaged}", "--out", "{empty}"],
        "episode_000000.hdf5 is not a readable goalnav episode",
    ),
    # flags that do not apply to the policy, kind or mode chosen
    (run, ["--policy", "random", "--encoder-weights", "{empty}"], "--encoder-weights is SigLIP-BC's"),
    (
        run,
        ["--policy", "planner", "--env", "rooms", "--checkpoint", "{pt}"],
        "--checkpoint does not apply to --policy planner",
    ),
    (run, ["--policy", "random", "--train-missing"], "--train-missing does not apply to --policy random"),
    (run, ["--policy", "expert", "--profile", "paper"], "--profile is the training scale of --train-missing"),
    (run, ["--policy", "random", "--episode", "3"], "--episode is for --replay"),
    (run, ["--policy", "random", "--video-format", "mp4"], "--video-format is for --video"),
    (run, ["--policy", "random", "--traversal", "random"], "--traversal is the graph's prior traversal"),
    (
        run,
        ["--policy", "pignav", "--env", "rooms", "--oracle", "pose"],
        "--oracle pose changes the graph navigator",
    ),
    (
        run,
        ["--policy", "random", "--oracle", "face"],
        "--oracle is for PIG-Nav / late fusion in the image-goal",
    ),
    (run, ["--replay", "{empty}", "--policy", "random"], "--policy does not apply to --replay"),
    (run, ["--policy", "random", "--scan"], "--scan is for PIG-Nav / late fusion in the image-goal scenes"),
    (
        run,
        ["--policy", "pignav", "--env", "rooms", "--scan", "--graph"],
        "--scan finds the goal image without",
    ),
    (
        collect,
        ["--env", "rooms", "--checkpoint", "{expert}"],
        "--checkpoint is the PPO expert's; the planner has none",
    ),
    (train, ["siglip_bc", "--dagger-episodes", "5"], "--dagger-episodes needs --dagger N"),
    (train, ["siglip_bc", "--stacked"], "unrecognized arguments: --stacked"),
    (train, ["pignav", "--encoder-weights", "{empty}"], "unrecognized arguments: --encoder-weights"),
    (train, ["expert", "--fraction", "0.5"], "unrecognized arguments: --fraction 0.5"),
    (train, ["pignav", "--env", "halls", "--pseudo-ratio", "0.3"], "--pseudo-ratio needs --pseudo DIR"),
    (
        train,
        ["pignav", "--env", "halls", "--mae-weights", "{pt}"],
        "--mae-weights is for --init mae-imagenet",
    ),
]


@pytest.mark.parametrize(("command", "args", "message"), CASES, ids=lambda c: getattr(c, "__name__", None))
def test_bad_input_is_one_line_and_exit_2(command, args, message, bad, capsys):
    argv = [a.format(**{k: str(v) for k, v in bad.items()}) for a in args]
    with FolderLock(bad["locked"]):  # another run holds this folder
        with pytest.raises(SystemExit) as exit_info:
            command.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2, err
    assert len(err) == 1 and message in err[0], err


def test_episode_sets_that_are_damaged_are_refused_before_the_simulation(tmp_path, monkeypatch, capsys):
    import episodes.sets

    good = episodes.sets.episode_set_path("arena", "paper", "test").read_text()
    monkeypatch.setattr(episodes.sets, "EPISODES_DIR", tmp_path)
    target = tmp_path / "arena" / "paper_test.json"
    target.parent.mkdir()
    for text, message in [
        (good[: len(good) // 2], "is not valid JSON"),  # truncated
        (good.replace('"target"', '"tagret"'), "has a malformed episode"),
        ('{"env": "arena", "episodes": []}', "holds no episodes"),
        (
            good.replace('"start_xy": [', '"start_xy": [5.0, ', 1),
            "episode 0 does not fit its layout: its start",
        ),
        (good.replace('"target": 0', '"target": 7', 1), "episode 0 does not fit its layout: its target 7"),
    ]:
        target.write_text(text)
        with pytest.raises(SystemExit) as exit_info:
            run.main(["--policy", "random", "--env", "arena"])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_info.value.code == 2 and len(err) == 1 and message in err[0], err


def test_episodes_outside_their_layout_are_refused_naming_the_file_and_episode(tmp_path, monkeypatch, capsys):
    """A pose outside the layout's bounds, or inside a wall, is refused when the set is read."""
    import episodes.sets

    monkeypatch.setattr(episodes.sets, "EPISODES_DIR", tmp_path)
    for env, split, old, new, message in [
        (
            "arena",
            "paper_test",
            '"start_xy": [',
            '"start_xy": [1.7, -1.0], "x": [',
            "its start [1.7, -1.0] is outside",
        ),
        (
            "rooms",
            "test",
            '"goal_xy": [',
            '"goal_xy": [-3.9, -3.9], "x": [',
            "is in a wall or landmark of layout",
        ),
        (
            "rooms",
            "test",
            '"goal_xy": [',
            '"goal_xy": [0.0, 9.0], "x": [',
            "its goal [0.0, 9.0] is outside the 8 m",
        ),
    ]:
        good = (ROOT / "assets" / "episodes" / env / f"{split}.json").read_text()
        target = tmp_path / env / f"{split}.json"
        target.parent.mkdir(exist_ok=True)
        lines = good.splitlines()
        lines[2] = lines[2].replace(old, new, 1)  # the second episode (the first line is the header)
        target.write_text("\n".join(lines))
        with pytest.raises(SystemExit) as exit_info:
            run.main(["--policy", "random", "--env", env])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_info.value.code == 2 and len(err) == 1, err
        assert f"{target}: episode 1 does not fit its layout: " in err[0] and message in err[0], err


def test_a_script_prints_no_traceback_from_any_folder(tmp_path):
    """Run by path from another folder: one line, exit 2, and no Python traceback."""
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "train.py"), "pignav", "--env", "bogus"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [
        x for x in proc.stderr.strip().splitlines() if not x.startswith("Warp CUDA warning")
    ]  # no GPU here
    assert lines == ["train.py pignav: error: unknown env 'bogus'; choose one of: arena, rooms, maze, halls"]
