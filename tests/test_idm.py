"""The inverse dynamics model: it learns, its labels make a dataset like any other, bad inputs are skipped."""

from __future__ import annotations

import json
import warnings

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from episodes import files as dataset
from policies.idm.config import IDMConfig
from policies.idm.label import label
from policies.idm.processing import chain, relative_motion, trajectory_errors
from policies.idm.recipe import train_idm
from policies.pignav import PigNavConfig
from policies.pignav.processing import load_demos, mix, sample_batch


def drive(actions: np.ndarray) -> np.ndarray:
    """Unicycle poses from constant-rate wheel commands: forward (l + r) / 2, turn (r - l)."""
    pose, poses = np.zeros(3), []
    for left, right in actions:
        poses.append(pose.copy())
        pose = pose + [0.02 * (left + right) / 2 * np.cos(pose[2]), 0.02 * (left + right) / 2 * np.sin(pose[2]),
                       0.1 * (right - left)]  # fmt: skip
    return np.array(poses)


TEXTURE = np.kron(np.random.default_rng(0).integers(0, 256, (24, 48, 3)), np.ones((4, 4, 1))).astype(np.uint8)


def moving_episode(seed: int, steps: int = 30) -> dict:
    """Each episode drives with one wheel command; its frames are 16x16 windows onto a wrapping texture
    that slide with the distance driven (rows) and the heading (columns), so only motion tells the action."""
    rng = np.random.default_rng(seed)
    action = rng.uniform(-1, 1, 2)
    actions = np.tile(action, (steps, 1)).astype(np.float32)
    pose = drive(actions)
    travelled = np.arange(steps) * 0.02 * action.mean()
    h, w = TEXTURE.shape[:2]
    rows = rng.integers(h) + np.round(travelled * 60).astype(int)  # a random start: one frame tells nothing
    cols = rng.integers(w) + np.round(pose[:, 2] * 6).astype(int)
    frames = np.stack([TEXTURE[(r + np.arange(16))[:, None] % h, (c + np.arange(16))[None] % w]
                       for r, c in zip(rows, cols, strict=True)])  # fmt: skip
    return {
        "actions": actions,
        "obs": {"rgb": frames, "goal_rgb": frames},
        "labels": {"robot_pose": pose.astype(np.float32), "goal_pose": pose.astype(np.float32),
                   "geodesic_distance": np.zeros(steps, np.float32),
                   "path_waypoints": np.zeros((steps, 8, 2), np.float32)},
    }  # fmt: skip


def write_moving_demos(directory, episodes: int) -> None:
    directory.mkdir(parents=True)
    for i in range(episodes):
        dataset.write_episode(dataset.episode_path(directory, i), "rooms", moving_episode(i), {}, i, True)


def test_motion_helpers_invert_each_other():
    poses = drive(np.tile([0.3, 0.8], (40, 1)))
    motions = relative_motion(poses[:-4:4], poses[4::4])
    assert np.allclose(chain(motions, poses[0]), poses[::4][: len(motions) + 1], atol=1e-9)
    assert trajectory_errors(poses, poses)["ate_m"] == 0


def test_idm_learns_on_a_tiny_dataset(tmp_path):
    write_moving_demos(tmp_path / "demos", 24)
    config = IDMConfig(gap=4, image_size=16, channels=[16, 32], head_hidden=64, steps=600, batch_size=32,
                       heldout=0.25)  # fmt: skip
    report = train_idm(config, [tmp_path / "demos"], tmp_path / "idm", progress=False)
    # measured: 0.58x the baseline's action error and drift 0.57; an IDM shown frame t twice gets 1.2x and 1.0
    assert report["episodes"] == 6 and report["action_mae"] < 0.7 * report["mean_motion_baseline_action_mae"]
    assert report["trajectory_drift"] < 0.8 * report["mean_motion_baseline_trajectory_drift"]
    assert (tmp_path / "idm" / "idm.pt").exists() and (tmp_path / "idm" / "trajectories.png").exists()


@pytest.fixture(scope="module")
def tiny_idm(tmp_path_factory):
    root = tmp_path_factory.mktemp("idm")
    write_moving_demos(root / "demos", 6)
    config = IDMConfig(gap=4, image_size=16, channels=[8], head_hidden=16, steps=5, heldout=0.2)
    train_idm(config, [root / "demos"], root / "idm", progress=False)
    return root


def test_pseudo_labelled_data_loads_with_the_same_reader_and_is_flagged(tiny_idm, tmp_path):
    counts = label([tiny_idm / "demos"], tiny_idm / "idm", tmp_path / "pseudo", max_std=1e9, min_path=0.0,
                   frame_size=16)  # fmt: skip
    assert counts["written"] == 6
    files = dataset.episode_files(tmp_path / "pseudo")
    data, attrs = dataset.read_episode(files[0])
    assert attrs["pseudo_labelled"] and attrs["source"].endswith("episode_000000.hdf5")
    assert data["actions"].shape == (30, 2) and data["labels"]["path_waypoints"].shape == (30, 8, 2)
    demos = load_demos([tmp_path / "pseudo"], PigNavConfig(image_size=16, heldout=0.0), None, progress=False)
    assert demos.episodes == 6 and len(demos) == 180


def test_relevance_filter_drops_unsure_and_static_clips(tiny_idm, tmp_path):
    unsure = label(
        [tiny_idm / "demos"], tiny_idm / "idm", tmp_path / "a", max_std=0.0, min_path=0.0, frame_size=16
    )
    assert unsure["written"] == 0 and unsure["unsure"] == 6
    static = label(
        [tiny_idm / "demos"], tiny_idm / "idm", tmp_path / "b", max_std=1e9, min_path=1e3, frame_size=16
    )
    assert static["written"] == 0 and static["static"] == 6
    clips = label([tiny_idm / "demos"], tiny_idm / "idm", tmp_path / "c", clip_length=10, max_std=1e9,
                  min_path=0.0, frame_size=16)  # fmt: skip
    assert clips["clips"] == 18 and clips["written"] == 18


def test_unreadable_videos_and_frames_are_skipped_with_a_warning(tiny_idm, tmp_path):
    good = tmp_path / "videos" / "good_frames"
    good.mkdir(parents=True)
    for i in range(12):
        iio.imwrite(good / f"frame_{i}.png", np.full((20, 20, 3), 10 * i, np.uint8))
    noise = np.random.default_rng(0).integers(0, 255, (10, 32, 32, 3), np.uint8)
    iio.imwrite(tmp_path / "videos" / "clip.gif", noise)
    iio.imwrite(tmp_path / "videos" / "clip.mp4", noise, plugin="pyav", codec="libx264", fps=10)
    bad = tmp_path / "videos" / "bad_frames"
    bad.mkdir()
    (bad / "frame_0.png").write_bytes(b"not an image")
    (tmp_path / "videos" / "broken.mp4").write_bytes(b"not a video")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counts = label([tmp_path / "videos"], tiny_idm / "idm", tmp_path / "pseudo", max_std=1e9, min_path=0.0,
                       frame_size=16)  # fmt: skip
    assert counts["unreadable"] == 2 and counts["written"] == 3
    messages = " ".join(str(w.message) for w in caught)
    assert "bad_frames" in messages and "broken.mp4" in messages


def test_pretraining_mix_draws_the_asked_share(tmp_path):
    for name, n in (("real", 4), ("pseudo", 1)):
        write_moving_demos(tmp_path / name, n)
    config = PigNavConfig(image_size=16, batch_size=4000, negative_goals=0.0, heldout=0.0)
    real = load_demos([tmp_path / "real"], config, None, progress=False)
    pseudo = load_demos([tmp_path / "pseudo"], config, None, progress=False)
    mixed = mix(real, pseudo, 0.3)
    batch = sample_batch(mixed, config, torch.Generator().manual_seed(0))
    assert abs((batch["index"] >= len(real)).float().mean().item() - 0.3) < 0.03


def test_a_trained_idm_is_measured_on_other_episodes(tiny_idm, tmp_path):
    from evaluation.open_loop import main

    write_moving_demos(tmp_path / "other" / "demos", 3)
    assert main(["--checkpoint", str(tiny_idm / "idm"), "--demos", str(tmp_path / "other" / "demos")]) == 0
    report = json.loads((tiny_idm / "idm" / "accuracy_other.json").read_text())
    assert report["episodes"] == 3 and "mean_motion_baseline_action_mae" in report
    assert (tiny_idm / "idm" / "trajectories_other.png").exists()
    with pytest.raises(SystemExit):  # no such checkpoint
        main(["--checkpoint", str(tmp_path / "none.pt"), "--demos", str(tmp_path / "other" / "demos")])


def test_the_idm_takes_a_profile_and_flags_override_it():
    from tools.train import build_parser

    parser, _ = build_parser()
    from policies.idm.config import config_from_args

    paper = config_from_args(parser.parse_args(["idm", "--demos", "x", "--profile", "paper"]))
    assert (paper.steps, paper.batch_size) == (20000, 256)
    assert (
        config_from_args(
            parser.parse_args(["idm", "--demos", "x", "--profile", "paper", "--steps", "5"])
        ).steps
        == 5
    )
    assert config_from_args(parser.parse_args(["idm", "--demos", "x"])).steps == IDMConfig().steps
