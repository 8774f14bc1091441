"""Demonstration collection on the shared arena, with a scripted stand-in for the PPO expert."""

from __future__ import annotations

import numpy as np
import pytest
from steering import steer_to_target

from episodes import files as dataset
from rollouts.record import record as collect


class SteeringModel:
    """Stands in for experts.expert_zip.Expert: state -> wheel commands."""

    def __init__(self, interrupt_after: int | None = None):
        self.calls, self.interrupt_after = 0, interrupt_after

    def __call__(self, state):
        self.calls += 1
        if self.interrupt_after is not None and self.calls > self.interrupt_after:
            raise KeyboardInterrupt
        return steer_to_target(state)


def test_collection_records_every_field_and_resumes_after_interruption(paper_arena, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        collect(
            paper_arena, SteeringModel(interrupt_after=150), tmp_path, "arena", 0, 0, 0.0, False, wanted=10
        )
    kept = dataset.episode_files(tmp_path)
    assert 0 < len(kept) < 10 and not list(tmp_path.glob(".*partial*"))
    have = dataset.check_dataset_env(tmp_path, "arena")
    kept = collect(paper_arena, SteeringModel(), tmp_path, "arena", have, 1, 0.0, False, wanted=10 - have)
    written = sum(kept.values())
    files = dataset.episode_files(tmp_path)
    assert written == 10 - have and [f.name for f in files] == [f"episode_{i:06d}.hdf5" for i in range(10)]
    data, attrs = dataset.read_episode(files[-1])
    steps = len(data["actions"])
    h, w = paper_arena.cfg.camera_height, paper_arena.cfg.camera_width
    assert data["obs"]["rgb"].shape == (steps, h, w, 3) and data["obs"]["goal_rgb"].shape == (steps, h, w, 3)
    assert data["labels"]["path_waypoints"].shape == (steps, 8, 2) and data["labels"]["robot_pose"].shape == (
        steps,
        3,
    )
    assert attrs["success"] and attrs["instruction"].startswith("go to the ")
    # the goal image is constant within an episode; the geodesic distance shrinks to the success radius
    assert (data["obs"]["goal_rgb"] == data["obs"]["goal_rgb"][0]).all()
    assert data["labels"]["geodesic_distance"][-1] < 0.45 < data["labels"]["geodesic_distance"][0]
    assert np.isfinite(data["obs"]["policy"]).all()


def test_dart_noise_changes_executed_actions_but_not_labels(paper_arena, tmp_path):
    collect(paper_arena, SteeringModel(), tmp_path, "arena", 0, 3, 0.3, True, wanted=1)
    data, attrs = dataset.read_episode(dataset.episode_files(tmp_path)[0])
    assert attrs["action_noise"] == pytest.approx(0.3)
    assert not np.allclose(data["actions"], data["executed_actions"])
    assert np.abs(data["executed_actions"]).max() <= 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoint", "nowhere"], "python tools/train.py expert --env arena"),
        (["--summary", "nowhere"], "no episodes in nowhere"),
        (["--episodes", "0", "--checkpoint", "nowhere"], "--episodes must be >= 1"),
    ],
)
def test_collect_bad_input_gives_one_line(args, message, capsys):
    from tools.collect import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
