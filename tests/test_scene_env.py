"""The image-goal scenes in the simulator (run in a subprocess: the test session already holds the arena)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envs.registry import EnvConfigError, make_env_cfg
from envs.scenes.scene_env_cfg import STATE_DIM

REPO = Path(__file__).resolve().parents[1]


def run_probe(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "tests/scene_probe.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    return json.loads(line[len("PROBE ") :])


@pytest.fixture(scope="module")
def probe():
    return run_probe("rooms")


def test_state_only_envs_step_and_reset_for_ppo():
    out = run_probe("maze", "no-cameras")
    assert out["finite_state"] and out["keys"] == ["policy"]


def test_state_has_the_declared_size_and_is_finite(probe):
    assert probe["state_dim"] == STATE_DIM and probe["finite_state"]
    assert all(2.0 <= d <= 8.0 + 0.5 for d in probe["geodesic_start"])
    assert probe["labels_waypoints_shape"] == [2, 8, 2]


def test_robot_at_the_goal_pose_sees_the_goal_image(probe):
    for at_goal, at_start in zip(probe["goal_view_diff"], probe["start_view_diff"], strict=True):
        assert at_goal < 6.0 and at_goal < at_start / 3  # mean absolute difference, 0..255


def test_a_reset_draws_a_new_layout_and_the_camera_sees_it(probe):
    assert probe["reset_layout_seeds"] != probe["layout_seeds"]
    assert min(probe["reset_view_diff"]) > 10.0


def test_walls_stop_the_robot_and_count_as_collisions(probe):
    assert probe["front_x_after_push"] <= probe["wall_face_x"] + 0.01  # 3 s at full speed into the wall
    assert probe["collisions_after_push"] >= 1


def test_scene_layout_flag_is_the_seed_split():
    cfg = make_env_cfg("maze", num_envs=2, device="cpu", layout="test")
    assert cfg.style == "maze" and cfg.layout == "test"
    with pytest.raises(EnvConfigError, match="choose one of: train, val, test"):
        make_env_cfg("rooms", layout="paper")


def test_the_planner_solves_test_episodes_and_collects_demonstrations(probe):
    assert probe["planner_success"] == [True, True]
    assert all(isinstance(t, str) and t for t in probe["planner_targets"])  # results grouped by palette
    assert probe["demo_episodes"] == 2
    assert probe["demo_keys"] == ["geodesic_distance", "goal_pose", "path_waypoints", "robot_pose", "target_xy",
                                  "goal_rgb", "policy", "rgb"]  # fmt: skip
    assert probe["demo_attrs"]["layout"] == "train" and probe["demo_attrs"]["success"] == "True"


def test_the_graph_navigator_reaches_goals_with_true_localisation_and_the_face_oracle_turns(probe):
    # the route logic (localise in route order, advance, the goal node) with every learned part an oracle
    assert probe["graph_oracle_success"] == [True, True], probe["graph_nodes"]
    assert all(b < 20.0 for b in probe["faced_bearing_deg"])  # FACED_DEG 15, plus the turn's coasting
    assert all(abs(d - 360.0) < 10.0 for d in probe["circle_deg"])  # the scan's timed circle
