"""Arena episode sampling, without a simulator."""

import math

import numpy as np
import pytest

from envs.arena import layout


def _bearing_left(start, yaw, target):
    # robot-frame lateral coordinate of the target, computed independently of layout.spatial_cue
    dx, dy = target - start
    return -math.sin(yaw) * dx + math.cos(yaw) * dy, math.cos(yaw) * dx + math.sin(yaw) * dy


@pytest.mark.parametrize("name", layout.LAYOUTS)
def test_layouts_keep_spheres_apart_and_inside(name):
    rng = np.random.default_rng(0)
    for _ in range(200):
        ep = layout.sample_episode(rng, name, 3.0)
        assert ep.sphere_xy.shape == (5, 2)
        assert np.all(np.abs(ep.sphere_xy) <= 1.5 - 0.25)
        gaps = np.linalg.norm(ep.sphere_xy[:, None] - ep.sphere_xy[None], axis=-1) + np.eye(5) * 9
        assert gaps.min() >= 0.5
        assert np.linalg.norm(ep.sphere_xy - ep.start_xy, axis=-1).min() >= 0.6
        assert layout.COLORS[ep.target] in ep.instruction("spatial", 15.0)


def test_paper_layout_is_a_row_along_the_far_wall():
    ep = layout.sample_episode(np.random.default_rng(3), "paper", 3.0)
    assert np.allclose(ep.sphere_xy[:, 1], layout.PAPER_SPHERE_Y)
    assert ep.start_xy[1] < 0 < layout.PAPER_SPHERE_Y


def test_random_layout_differs_between_episodes():
    rng = np.random.default_rng(0)
    a, b = (layout.sample_episode(rng, "random", 3.0) for _ in range(2))
    assert not np.allclose(a.sphere_xy, b.sphere_xy)


def test_spatial_cue_agrees_with_geometry():
    rng = np.random.default_rng(1)
    for _ in range(500):
        ep = layout.sample_episode(rng, "random", 3.0)
        text = ep.instruction("spatial", 15.0)
        lateral, ahead = _bearing_left(ep.start_xy, ep.start_yaw, ep.sphere_xy[ep.target])
        angle = math.degrees(math.atan2(lateral, ahead))
        if abs(angle) < 14.0:
            assert text.endswith("straight ahead")
        elif angle > 16.0:
            assert text.endswith("to your left")
        elif angle < -16.0:
            assert text.endswith("to your right")


def test_color_style_has_no_cue():
    ep = layout.sample_episode(np.random.default_rng(0), "paper", 3.0)
    assert ep.instruction("color", 15.0) == f"go to the {layout.COLORS[ep.target]} sphere"


def test_episodes_round_trip_through_dicts():
    ep = layout.sample_episode(np.random.default_rng(4), "random", 3.0, target=2)
    back = layout.Episode.from_dict(ep.to_dict())
    assert back.target == 2 and np.allclose(back.sphere_xy, ep.sphere_xy, atol=1e-4)
    assert back.instruction("spatial", 15.0) == ep.instruction("spatial", 15.0)


def test_goal_view_faces_the_target():
    target, start = np.array([1.0, 1.0]), np.array([-1.0, 1.0])
    xy, yaw = layout.goal_view_pose(target, start, 0.6)
    assert np.allclose(xy, [0.4, 1.0]) and math.isclose(yaw, 0.0, abs_tol=1e-9)


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="paper, random"):
        layout.sample_episode(np.random.default_rng(0), "circle", 3.0)
