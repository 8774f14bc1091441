"""The planner expert steers at the shortest path's waypoints."""

import torch

from envs.scenes.scene_env_cfg import STATE_DIM, STATE_WAYPOINTS
from experts.planner import follow_path


def state_with_waypoints(points) -> torch.Tensor:
    state = torch.zeros(len(points), STATE_DIM)
    state[:, STATE_WAYPOINTS] = torch.tensor(points, dtype=torch.float32).repeat(1, 3)
    return state


def test_drives_straight_at_a_waypoint_ahead_and_turns_towards_one_aside():
    wheels = follow_path(state_with_waypoints([[0.5, 0.0], [0.0, 0.5], [0.0, -0.5], [-0.5, 0.0]]))
    ahead, left, right, behind = wheels
    assert ahead[0] == ahead[1] > 0.5
    assert left[1] > left[0] and right[0] > right[1]  # turn left: right wheel faster
    assert behind.sum().abs() < 1e-6 and behind.abs().max() > 0  # turn in place
    assert wheels.abs().max() <= 1
