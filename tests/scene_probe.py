"""Checks on a live image-goal scene, run in a subprocess by tests/test_scene_env.py (one simulation per
process, and the test session already holds the arena). Prints one JSON line of measurements."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from envs.registry import open_env


def main(style: str) -> dict:
    out = {}
    with open_env(style, num_envs=2, device="cpu", seed=0) as env:
        u = env.unwrapped
        obs, _ = env.reset(seed=0)
        out["state_dim"] = int(obs["policy"].shape[1])
        out["finite_state"] = bool(torch.isfinite(obs["policy"]).all())
        out["layout_seeds"] = list(u.layout_seed)
        out["geodesic_start"] = u.start_distance.tolist()

        # the robot at the goal pose sees (almost) the goal image; elsewhere it does not
        goal_rgb = obs["goal_rgb"].float()
        u.place_robot(torch.arange(2), u.goal_pose[:, :2].clone(), u.goal_pose[:, 2].clone())
        at_goal = u._get_observations()["rgb"].float()
        out["goal_view_diff"] = (at_goal - goal_rgb).abs().mean(dim=(1, 2, 3)).tolist()
        start_rgb = obs["rgb"].float()
        out["start_view_diff"] = (start_rgb - goal_rgb).abs().mean(dim=(1, 2, 3)).tolist()

        # a reset changes the rendered layout
        before = obs["rgb"].float()
        obs, _ = env.reset(seed=1)
        out["reset_layout_seeds"] = list(u.layout_seed)
        out["reset_view_diff"] = (obs["rgb"].float() - before).abs().mean(dim=(1, 2, 3)).tolist()

        # walls stop the robot: put it 0.4 m in front of a wall, facing it, and drive at full speed
        layout = u.layouts[0]
        free = np.argwhere(~layout.occupancy)
        from envs.scenes.layout import cell_to_xy

        for i, j in free:
            if layout.wall_cells[i, j + 1] and not layout.occupancy[i, j - 1]:  # wall to the east
                break
        x, y = cell_to_xy(np.array([i, j]))
        wall_face = x + 0.25
        u.place_robot(torch.tensor([0]), torch.tensor([[x - 0.15, y]]), torch.tensor([0.0]))
        for _ in range(90):
            obs, *_ = env.step(torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
        from envs.common.kinematics import footprint_world

        out["wall_face_x"] = float(wall_face)
        out["front_x_after_push"] = float(footprint_world(u.robot_pose()[:1])[0, :, 0].max())
        out["collisions_after_push"] = int(u.collisions[0])
        out["labels_waypoints_shape"] = list(u.privileged_labels(8)["path_waypoints"].shape)

        # the planner expert on two fixed test episodes, and two demonstrations collected with it
        import tempfile

        from episodes import files as dataset
        from episodes.sets import load_episode_set
        from experts.planner import PlannerPolicy, follow_path
        from rollouts.closed_loop import run_episodes as evaluate
        from rollouts.record import record as collect

        result = evaluate(env, PlannerPolicy(), load_episode_set(style, "test", "test")[:2], progress=False)
        out["planner_success"] = [r.success for r in result.records]
        out["planner_targets"] = [r.target for r in result.records]
        with tempfile.TemporaryDirectory() as tmp:
            collect(env, follow_path, Path(tmp), style, 0, 0, action_noise=0.0, keep_all=False, wanted=2)
            data, attrs = dataset.read_episode(dataset.episode_files(tmp)[0])
            out["demo_episodes"] = len(dataset.episode_files(tmp))
            out["demo_keys"] = sorted(data["labels"]) + sorted(data["obs"])
            out["demo_attrs"] = {k: str(attrs[k]) for k in ("target", "layout", "success")}
        out.update(graph_navigation(env, style))
    return out


def graph_navigation(env, style: str) -> dict:
    """The graph navigator's route logic with the oracles: localised by true poses, the planner driving to
    its nodes, two mid-distance episodes with the harder random traversal; and the face-the-path oracle."""
    from envs.scenes import generate, traversal
    from episodes.graphs import VIEWS, TraversalGraph, view_poses
    from episodes.sets import load_episode_set
    from evaluation.oracles import FacePathFirst, PlannerDrive, PoseLocaliser
    from policies.pignav.config import PigNavConfig
    from policies.pignav.model import PigNavNet
    from policies.pignav.policy import PigNavPolicy
    from policies.pignav.topological import TopologicalNavigator
    from rollouts.closed_loop import run_episodes as evaluate
    from rollouts.traversal import render_traversals

    u = env.unwrapped
    episodes = load_episode_set(style, "val_graded", "val_graded")[10:12]  # the mid bin
    routes = [traversal(generate(style, seed), ep, np.random.default_rng(i), kind="random")
              for i, (seed, ep) in enumerate(episodes)]  # fmt: skip
    images = render_traversals(env, episodes, [view_poses(r) for r in routes], progress=False)
    graphs = {i: TraversalGraph(seen.reshape(len(r), VIEWS, *seen.shape[1:]), r.astype(np.float32))
              for i, (r, seen) in enumerate(zip(routes, images, strict=True))}  # fmt: skip
    config = PigNavConfig(depth=1, image_size=32, patch_size=16, head_hidden=32)
    policy = PigNavPolicy(PigNavNet(config), config, u.num_envs)
    navigator = TopologicalNavigator(policy, graphs, PoseLocaliser(u))
    result = evaluate(env, PlannerDrive(navigator, u), episodes, progress=False)
    out = {"graph_oracle_success": [r.success for r in result.records],
           "graph_nodes": [len(g) for g in graphs.values()]}  # fmt: skip

    # face the path: the policy is told to stand still; after the turn the path lies ahead
    class Still:
        kind, metadata = "still", {}

        def reset(self, env_ids):
            pass

        def act(self, obs):
            return torch.zeros(len(obs["policy"]), 2)

    from envs.scenes.scene_env_cfg import STATE_WAYPOINTS

    obs, _ = env.reset(seed=3)
    face = FacePathFirst(Still(), u.num_envs)
    face.reset(torch.arange(u.num_envs))
    for _ in range(60):
        obs, *_ = env.step(face.act(obs))
    ahead = obs["policy"][:, STATE_WAYPOINTS].view(u.num_envs, -1, 2)[:, 1]
    out["faced_bearing_deg"] = torch.rad2deg(torch.atan2(ahead[:, 1], ahead[:, 0])).abs().tolist()

    # the scan's circle: CIRCLE_STEPS at SCAN_TURN turn the robot once around
    from policies.pignav.scan import CIRCLE_STEPS, SCAN_TURN

    turned = torch.zeros(u.num_envs)
    for _ in range(CIRCLE_STEPS):
        before = u.robot_pose()[:, 2].clone()
        env.step(torch.tensor([[-SCAN_TURN, SCAN_TURN]]).expand(u.num_envs, -1))
        turned += (u.robot_pose()[:, 2] - before + torch.pi) % (2 * torch.pi) - torch.pi
    out["circle_deg"] = torch.rad2deg(turned).tolist()
    return out


def without_cameras(style: str) -> dict:
    """State-only, as PPO trains: resets and steps work and the state stays finite."""
    with open_env(style, num_envs=4, device="cpu", seed=0, cameras=False) as env:
        obs, _ = env.reset(seed=0)
        for _ in range(60):
            obs, *_ = env.step(torch.rand(4, 2) * 2 - 1)
        env.unwrapped.reset()
        return {"finite_state": bool(torch.isfinite(obs["policy"]).all()), "keys": sorted(obs)}


if __name__ == "__main__":
    style, *mode = sys.argv[1:]
    print("PROBE " + json.dumps(without_cameras(style) if mode == ["no-cameras"] else main(style)))
