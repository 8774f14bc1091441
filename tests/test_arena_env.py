"""The sphere arena in the simulator (CPU, kit-less). All tests share one 4-env arena."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from envs.arena import layout
from envs.arena.arena_env_cfg import STATE_DIM, STATE_TARGET
from envs.common.robot import MAX_WHEEL_SPEED, TRACK, WHEEL_RADIUS, fastest_time

HUE_DEG = {"red": 0.0, "yellow": 53.0, "green": 125.0, "blue": 229.0, "magenta": 304.0}


def color_fraction(image: torch.Tensor, color: str) -> float:
    """Share of saturated pixels whose hue is within 20 degrees of a sphere colour (robust to shading)."""
    img = image.float().cpu().numpy() / 255.0
    hi, lo = img.max(-1), img.min(-1)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    delta = np.maximum(hi - lo, 1e-6)
    hue = (
        np.where(hi == r, (g - b) / delta % 6, np.where(hi == g, (b - r) / delta + 2, (r - g) / delta + 4))
        * 60.0
    )
    saturated = (hi - lo) / np.maximum(hi, 1e-6) > 0.35
    diff = np.abs((hue - HUE_DEG[color] + 180.0) % 360.0 - 180.0)
    return float((saturated & (diff < 20.0)).mean())


def run(env, action, steps: int):
    act = torch.as_tensor(action, dtype=torch.float32).expand(env.num_envs, 2)
    out = None
    for _ in range(steps):
        out = env.step(act)
    return out


def place_all(env, xy, yaw):
    ids = torch.arange(env.num_envs)
    env.place_robot(
        ids, torch.tensor(xy, dtype=torch.float32).expand(env.num_envs, 2), torch.full((env.num_envs,), yaw)
    )


@pytest.fixture
def fresh(arena):
    """The shared arena, reset with the paper layout and long episodes, settings restored afterwards."""
    saved = (
        arena.cfg.layout,
        arena.cfg.episode_length_s,
        arena.cfg.end_on_collision,
        arena.cfg.instruction_style,
    )
    arena.cfg.layout, arena.cfg.episode_length_s, arena.cfg.end_on_collision = "paper", 20.0, False
    arena.reset(seed=0)
    yield arena
    arena.cfg.layout, arena.cfg.episode_length_s, arena.cfg.end_on_collision, arena.cfg.instruction_style = (
        saved
    )


def test_observations_have_the_declared_shapes_and_dtypes(fresh):
    obs, *_ = fresh.step(torch.zeros(fresh.num_envs, 2))
    assert set(obs) == {"policy", "rgb", "goal_rgb"}
    assert obs["policy"].shape == (4, STATE_DIM) and obs["policy"].dtype == torch.float32
    h, w = fresh.cfg.camera_height, fresh.cfg.camera_width
    for key in ("rgb", "goal_rgb"):
        assert obs[key].shape == (4, h, w, 3) and obs[key].dtype == torch.uint8
        assert fresh.single_observation_space[key].contains(obs[key][0].numpy())
    assert fresh.single_action_space.shape == (2,)
    assert len(fresh.instructions) == 4 and all(i.startswith("go to the ") for i in fresh.instructions)
    assert torch.isfinite(obs["policy"]).all()


def test_seeded_resets_reproduce(fresh):
    fresh.cfg.layout = "random"
    fresh.reset(seed=123)
    first = (fresh.sphere_xy.clone(), fresh.robot_pose().clone(), list(fresh.instructions))
    fresh.reset(seed=7)
    assert not torch.allclose(first[0], fresh.sphere_xy)
    fresh.reset(seed=123)
    assert torch.allclose(first[0], fresh.sphere_xy)
    assert torch.allclose(first[1], fresh.robot_pose(), atol=1e-4)
    assert first[2] == fresh.instructions


def test_reset_places_robot_and_spheres_where_sampled(fresh):
    fresh.cfg.layout = "random"
    fresh.reset(seed=5)
    origins = fresh.scene.env_origins[:, :2]
    for k, sphere in enumerate(fresh.spheres):
        placed = sphere.data.root_link_pose_w.torch[:, :2] - origins
        assert torch.allclose(placed, fresh.sphere_xy[:, k], atol=1e-3)


def test_full_speed_drives_forward_at_the_expected_speed(fresh):
    place_all(fresh, (0.0, -1.2), math.pi / 2)  # facing the far wall, 2.4 m of room
    run(fresh, (1.0, 1.0), 30)  # 1 s to reach speed
    start = fresh.robot_pose().clone()
    run(fresh, (1.0, 1.0), 30)  # 1 s at speed
    end = fresh.robot_pose()
    moved = end[:, :2] - start[:, :2]
    speed = moved.norm(dim=-1) / 1.0
    ideal = WHEEL_RADIUS * MAX_WHEEL_SPEED
    assert ((speed > 0.8 * ideal) & (speed < 1.05 * ideal)).all(), f"speed {speed} vs ideal {ideal:.3f} m/s"
    assert (moved[:, 1] > 0.95 * moved.norm(dim=-1)).all(), "the robot should drive straight ahead (+y)"
    assert (end[:, 2] - start[:, 2]).abs().max() < 0.1


def test_opposite_wheels_turn_in_place(fresh):
    place_all(fresh, (0.0, 0.0), 0.0)
    start = fresh.robot_pose().clone()
    run(fresh, (-1.0, 1.0), 30)
    end = fresh.robot_pose()
    assert (end[:, :2] - start[:, :2]).norm(dim=-1).max() < 0.05, "turning in place should barely translate"
    yaw_rate = fresh.robot.data.root_link_ang_vel_b.torch[:, 2]
    ideal = 2 * WHEEL_RADIUS * MAX_WHEEL_SPEED / 0.12
    assert (yaw_rate > 0.5 * ideal).all(), (
        f"left turn expected: yaw rate {yaw_rate} vs ideal {ideal:.2f} rad/s"
    )


def test_the_fastest_time_spins_to_face_the_goal_then_drives_straight():
    speed, spin_rate = MAX_WHEEL_SPEED * WHEEL_RADIUS, 2 * MAX_WHEEL_SPEED * WHEEL_RADIUS / TRACK
    assert fastest_time((0.0, 0.0), 0.0, (1.3, 0.0), 0.3) == pytest.approx(1.0 / speed)
    assert fastest_time((0.0, 0.0), 0.0, (0.0, -1.3), 0.3) == pytest.approx(
        math.pi / 2 / spin_rate + 1.0 / speed
    )
    assert fastest_time((1.0, 1.0), 3.0, (-0.3, 1.0), 0.3) == pytest.approx(
        (math.pi - 3.0) / spin_rate + 1.0 / speed
    )
    assert fastest_time((0.0, 0.0), math.pi, (0.2, 0.0), 0.3) == 0.0  # already within reach


def test_the_reference_controller_arcs_at_full_speed_and_spins_only_when_far_off():
    from evaluation.expert_probe import ScriptedReference

    state = torch.zeros(3, STATE_DIM)
    state[:, STATE_TARGET] = torch.tensor([[1.0, 0.0], [1.0, 0.3], [-1.0, 0.1]])  # ahead, left, behind left
    wheels = ScriptedReference().act({"policy": state})
    assert wheels[0].tolist() == [1.0, 1.0]
    assert wheels[1, 1] == 1.0 and 0.0 < wheels[1, 0] < 1.0  # an arc to the left at full speed
    assert wheels[2].tolist() == [-1.0, 1.0]  # a spin to the left in place


def test_walls_stop_the_robot_and_contacts_are_counted(fresh):
    place_all(fresh, (1.0, 0.0), 0.0)  # facing the east wall, 0.5 m away
    run(fresh, (1.0, 1.0), 90)
    pose = fresh.robot_pose()
    assert (pose[:, 0] < 1.5).all(), f"drove through the wall: x = {pose[:, 0]}"
    assert fresh.in_contact.all() and (fresh.collisions >= 1).all()


def test_collision_can_end_the_episode(fresh):
    fresh.cfg.end_on_collision = True
    place_all(fresh, (1.2, 0.0), 0.0)
    for _ in range(60):
        _, _, terminated, truncated, extras = fresh.step(torch.ones(4, 2))
        if terminated.all():
            break
    assert terminated.all() and not truncated.any()
    assert not extras["episode"]["success"].any() and (extras["episode"]["collisions"] >= 1).all()


def test_camera_facing_the_target_sees_its_colour(fresh):
    target_xy = fresh.target_xy()
    ids = torch.arange(4)
    start = target_xy + torch.tensor([0.0, -0.8])
    fresh.place_robot(ids, start, torch.full((4,), math.pi / 2))  # 0.8 m south, facing north
    obs, *_ = fresh.step(torch.zeros(4, 2))
    for i in range(4):
        color = layout.COLORS[int(fresh.target_index[i])]
        # a 0.1 m sphere 0.8 m away covers ~50 of the 64x64 pixels, in the middle of the view
        assert color_fraction(obs["rgb"][i], color) > 0.005, f"env {i}: no {color} in view"
        centre = obs["rgb"][i, 26:38, 26:38]
        others = [c for c in layout.COLORS if c != color]
        assert color_fraction(centre, color) > 0.2 and max(color_fraction(centre, c) for c in others) < 0.05


def test_goal_image_shows_the_target(fresh):
    obs, *_ = fresh.step(torch.zeros(4, 2))
    for i in range(4):
        color = layout.COLORS[int(fresh.target_index[i])]
        centre = obs["goal_rgb"][i, 26:38, 26:38]
        assert color_fraction(centre, color) > 0.3, f"env {i}: goal image centre is not {color}"


def test_spatial_cue_matches_the_simulated_geometry(fresh):
    fresh.cfg.layout, fresh.cfg.instruction_style = "random", "spatial"
    for seed in range(3):
        obs, _ = fresh.reset(seed=seed)
        lateral = obs["policy"][:, 5]  # target y in the robot frame, + is left
        for i, text in enumerate(fresh.instructions):
            if text.endswith("to your left"):
                assert lateral[i] > 0
            elif text.endswith("to your right"):
                assert lateral[i] < 0


def test_reaching_the_target_ends_the_episode_with_success(fresh):
    target_xy = fresh.target_xy()
    fresh.place_robot(torch.arange(4), target_xy + torch.tensor([0.0, -0.45]), torch.full((4,), math.pi / 2))
    for _ in range(30):
        _, reward, terminated, truncated, extras = fresh.step(torch.full((4, 2), 0.5))
        if terminated.any():
            break
    assert terminated.all() and not truncated.any()
    assert extras["episode"]["success"].all()
    assert (extras["episode"]["final_distance"] < fresh.cfg.success_radius).all()
    assert (reward > fresh.cfg.rew_success / 2).all()


def test_a_robot_that_tips_over_ends_its_episode_as_a_failure(fresh):
    fresh.reset(seed=2)
    root = fresh.robot.data.root_link_pose_w.torch.clone()
    pitch = math.radians(85)  # standing on its end, nose up: its heading is undefined
    root[1, 2] += 0.06
    root[1, 3:7] = torch.tensor([0.0, -math.sin(pitch / 2), 0.0, math.cos(pitch / 2)])
    fresh.robot.write_root_pose_to_sim_index(root_pose=root[1:2], env_ids=torch.tensor([1]))
    _, _, terminated, truncated, extras = fresh.step(torch.zeros(4, 2))
    assert terminated.tolist() == [False, True, False, False] and not truncated.any()
    assert extras["episode"]["env_ids"].tolist() == [1]
    assert extras["episode"]["tipped"].tolist() == [True] and not extras["episode"]["success"].any()
    assert fresh.up_z()[1] > 0.9  # the reset stood it up again


def test_time_limit_truncates_without_success(fresh):
    fresh.cfg.episode_length_s = 10 * fresh.step_dt
    fresh.reset(seed=1)
    for step in range(1, 11):
        _, _, terminated, truncated, extras = fresh.step(torch.zeros(4, 2))
        assert step == 10 or not (terminated | truncated).any(), f"ended early, at step {step}"
    assert truncated.all() and not terminated.any()
    assert not extras["episode"]["success"].any() and (extras["episode"]["steps"] == 10).all()


DRIVE_SCRIPT = """
import json, sys, torch
from envs.registry import open_env
with open_env("arena", num_envs=2, device="cpu", seed=0, cameras=False, cpu_graph=sys.argv[1] == "1") as env:
    env.reset(seed=0)
    for step in range(40):
        env.step(torch.tensor([[1.0, 0.3], [-0.5, 1.0]]) * (1 if step < 20 else -1))
    print("POSES", json.dumps(env.unwrapped.robot_pose().tolist()))
"""


def test_the_replayed_cpu_physics_graph_drives_like_eager_kernel_launches(arena):
    """The session arena replays a recorded Warp CPU graph; another process compares it with eager launches."""
    import json
    import subprocess
    import sys

    from envs.common.sim import NewtonCPUGraphMJWarpManager

    run(arena, [0.0, 0.0], 1)
    assert NewtonCPUGraphMJWarpManager._cpu_graphs  # recorded on the first step, replayed since
    poses = {}
    for graph in ("0", "1"):
        out = subprocess.run(
            [sys.executable, "-c", DRIVE_SCRIPT, graph], capture_output=True, text=True, check=True
        )
        poses[graph] = np.array(json.loads(out.stdout.split("POSES ")[-1]))
    assert np.abs(poses["0"][:, :2]).max() > 0.1  # the robots moved
    assert np.allclose(poses["0"], poses["1"], atol=1e-4)
