"""Demonstration datasets: round trip, Isaac Lab compatibility, env checks, atomic writes."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from fakes import fake_episode

from episodes import files as dataset


def test_episode_round_trips_and_reads_with_isaac_lab(tmp_path):
    from isaaclab.utils.datasets import HDF5DatasetFileHandler

    data = fake_episode()
    path = dataset.write_episode(
        dataset.episode_path(tmp_path, 3), "arena", data, {"instruction": "go to the red sphere"}, 7, True
    )
    assert path.name == "episode_000003.hdf5" and not list(tmp_path.glob(".*partial*"))
    back, attrs = dataset.read_episode(path)
    np.testing.assert_array_equal(back["obs"]["rgb"], data["obs"]["rgb"])
    np.testing.assert_allclose(back["labels"]["path_waypoints"], data["labels"]["path_waypoints"])
    assert attrs["instruction"] == "go to the red sphere" and attrs["success"] and attrs["seed"] == 7
    handler = HDF5DatasetFileHandler()
    handler.open(str(path))
    episode = handler.load_episode("demo_0", device="cpu")
    assert handler.get_env_name() == "arena" and episode.success
    assert episode.data["actions"].shape == (5, 2)
    handler.close()


def test_summary_counts_episodes_steps_and_actions(tmp_path):
    for i in range(3):
        dataset.write_episode(
            dataset.episode_path(tmp_path, i), "arena", fake_episode(4 + i, i), {}, i, i != 1
        )
    s = dataset.summarize_dataset(tmp_path)
    assert (s.episodes, s.steps) == (3, 15) and s.success_rate == pytest.approx(2 / 3)
    assert sum(s.action_histogram["left"]) == 15 and s.bytes_on_disk > 0
    assert "episodes      3" in s.text()


def test_a_dataset_from_another_env_is_refused(tmp_path):
    dataset.write_episode(dataset.episode_path(tmp_path, 0), "rooms", fake_episode(), {}, 0, True)
    with pytest.raises(dataset.DatasetError, match="'rooms', not 'arena'"):
        dataset.check_dataset_env(tmp_path, "arena")
    assert dataset.check_dataset_env(tmp_path, "rooms") == 1


def test_a_full_disk_loses_no_written_episode(tmp_path, monkeypatch):
    first = dataset.write_episode(dataset.episode_path(tmp_path, 0), "arena", fake_episode(), {}, 0, True)
    before = first.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.replace", disk_full)
    with pytest.raises(dataset.DatasetError, match="disk full"):
        dataset.write_episode(dataset.episode_path(tmp_path, 1), "arena", fake_episode(), {}, 1, True)
    assert dataset.episode_files(tmp_path) == [first] and first.read_bytes() == before
    assert not list(tmp_path.glob(".*partial*"))


def test_unreadable_episode_gives_a_clear_error(tmp_path):
    bad = tmp_path / "episode_000000.hdf5"
    bad.write_bytes(b"garbage")
    with pytest.raises(dataset.DatasetError, match="not a readable goalnav episode"):
        dataset.read_episode(bad)


def straight_episode(steps: int, step_m: float, seed: int = 0) -> dict:
    """A fake episode driving along +x at `step_m` metres per frame; frame t is filled with grey level t."""
    data = fake_episode(steps, seed)
    data["labels"]["robot_pose"] = np.stack(
        [np.arange(steps) * step_m, np.zeros(steps), np.full(steps, 0.1)], axis=-1
    ).astype(np.float32)
    data["obs"]["rgb"] = (
        np.repeat(np.arange(steps, dtype=np.uint8)[:, None, None, None], 8, axis=1)
        .repeat(8, axis=2)
        .repeat(3, axis=3)
    )
    return data


def test_gnm_export_matches_the_recorded_poses(tmp_path):
    import pickle

    import imageio.v2 as imageio

    from episodes.gnm import export

    demos = tmp_path / "demos"
    for i in range(4):
        dataset.write_episode(dataset.episode_path(demos, i), "arena", fake_episode(3 + i, i), {}, i, True)
    # every frame (30 Hz): the recorded poses and frames one for one
    result = export(demos, tmp_path / "gnm", "goalnav_arena", test_fraction=0.25, rate_hz=30.0)
    splits = result.splits
    assert result.stride == 1
    assert len(splits["test"]) == 1 and len(splits["train"]) == 3
    assert set(splits["train"]) | set(splits["test"]) == {f"episode_{i:06d}" for i in range(4)}
    listed = (tmp_path / "gnm/data_splits/goalnav_arena/train/traj_names.txt").read_text().split()
    assert listed == splits["train"]
    for i in range(4):
        data, _ = dataset.read_episode(dataset.episode_path(demos, i))
        folder = tmp_path / "gnm/goalnav_arena" / f"episode_{i:06d}"
        traj = pickle.loads((folder / "traj_data.pkl").read_bytes())
        np.testing.assert_allclose(traj["position"], data["labels"]["robot_pose"][:, :2], rtol=1e-6)
        np.testing.assert_allclose(traj["yaw"], data["labels"]["robot_pose"][:, 2], rtol=1e-6)
        assert traj["position"].shape == (3 + i, 2) and traj["yaw"].shape == (3 + i,)
        frames = sorted(folder.glob("*.jpg"), key=lambda p: int(p.stem))
        assert [p.stem for p in frames] == [str(t) for t in range(3 + i)]
        assert imageio.imread(frames[0]).shape == (8, 8, 3)


def test_gnm_export_keeps_frames_at_the_gnm_spacing(tmp_path, capsys):
    import pickle

    import imageio.v2 as imageio
    import yaml

    from tools import export_gnm

    demos, out = tmp_path / "demos", tmp_path / "gnm"
    for i in range(3):  # 1 cm per frame: GNM's 0.25 m is every 25th frame
        dataset.write_episode(
            dataset.episode_path(demos, i), "arena", straight_episode(101 + i, 0.01, i), {}, i, True
        )
    assert export_gnm.main([str(demos), "--out", str(out), "--name", "sim"]) == 0
    printed = capsys.readouterr().out
    assert "every 25 frames (1.2 Hz)" in printed and "metric_waypoint_spacing: 0.25" in printed
    config = yaml.safe_load((out / "data_config.yaml").read_text())
    assert config == {"sim": {"metric_waypoint_spacing": 0.25}}
    traj = pickle.loads((out / "sim/episode_000000/traj_data.pkl").read_bytes())
    np.testing.assert_allclose(traj["position"][:, 0], [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-6)
    frames = sorted((out / "sim/episode_000000").glob("*.jpg"), key=lambda p: int(p.stem))
    assert len(frames) == 5
    grey = [float(imageio.imread(f).mean()) for f in frames]
    np.testing.assert_allclose(grey, [0, 25, 50, 75, 100], atol=2)  # the frames of the kept poses
    # a rate instead of a spacing; a second export replaces the first and leaves no temporary folder
    assert export_gnm.main([str(demos), "--out", str(out), "--name", "sim", "--rate", "3"]) == 0
    assert len(list((out / "sim/episode_000000").glob("*.jpg"))) == 11  # frames 0, 10, ..., 100
    assert yaml.safe_load((out / "data_config.yaml").read_text())["sim"]["metric_waypoint_spacing"] == 0.1
    assert not [p for p in (out / "sim").iterdir() if p.name.startswith(".")]
