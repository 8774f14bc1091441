"""Privileged diagnostics for image-goal navigation: each replaces one learned part with the simulator's
truth, so that the results say how far that part is from its ceiling. They read the env's true poses
and layouts, which no policy may; their results are labelled "oracle" and never stand for a policy's.

    pose     the graph navigator localises by the true poses (nodes, goal, shortcuts): the learned policy
             drives; the ceiling of the local policy with the graph
    planner  learned localisation picks the node to go to; the shortest-path planner drives there:
             localisation alone
    face     turn in place to face the shortest path at the start, then the policy: the value of facing
             the goal
"""

from __future__ import annotations

import math

import numpy as np
import torch

from control.controller import steer_to
from envs.scenes import GeodesicPlanner, in_line_of_sight

ORACLES = ("pose", "planner", "face")
GRAPH_ORACLES = ("pose", "planner")  # they change the graph navigator
FACED_DEG = 15.0  # the path's bearing below which the robot counts as facing it
TURN = 0.5  # wheel command of the in-place turn


def oracle_variant(name: str) -> str:
    """How a results row names the oracle."""
    return {"pose": "oracle: localised by true pose", "planner": "oracle: planner drives to the node",
            "face": "oracle: faces the path first"}[name]  # fmt: skip


class PoseLocaliser:
    """The graph navigator's distances from the true poses: robot to node and node to goal positions,
    and shortcuts between nodes in line of sight (`evaluation.oracles`, privileged)."""

    name = "true pose (oracle)"

    def __init__(self, unwrapped):
        self.u = unwrapped

    def shortcuts(self, images: torch.Tensor, graph, env: int) -> np.ndarray:
        xy = graph.poses[:, :2].astype(float)
        d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
        layout = self.u.layouts[env]
        for i, j in zip(*np.nonzero(d < 1.0), strict=True):
            if i < j and not in_line_of_sight(layout, xy[i], xy[j]):
                d[i, j] = d[j, i] = np.inf
        return d

    def goal_distances(self, images: torch.Tensor, graph, goal: torch.Tensor, env: int) -> np.ndarray:
        goal_xy = self.u.goal_pose[env, :2].cpu().numpy()
        return np.linalg.norm(graph.poses[:, :2] - goal_xy, axis=-1)

    def to_nodes(self, obs: dict, obs_images: torch.Tensor, queries: list) -> np.ndarray:
        robot = self.u.robot_pose()[:, :2].cpu().numpy()
        return np.array([np.linalg.norm(robot[e] - plan.graph.poses[k, :2]) for e, plan, k in queries])


class PlannerDrive:
    """The graph navigator picks the node (learned localisation); the shortest-path planner drives to that
    node's pose, or to the goal node's once the navigator goes for the goal (privileged)."""

    def __init__(self, navigator, unwrapped):
        self.navigator, self.u, self.kind = navigator, unwrapped, navigator.kind
        self.metadata = navigator.metadata
        self.planners: dict[tuple[int, int], GeodesicPlanner] = {}  # (env, node) -> its planner

    def reset(self, env_ids: torch.Tensor) -> None:
        ended = set(env_ids.tolist())
        self.planners = {key: p for key, p in self.planners.items() if key[0] not in ended}
        self.navigator.reset(env_ids)

    def act(self, obs: dict) -> torch.Tensor:
        from envs.common.kinematics import to_robot_frame  # Isaac Lab: only once a simulation runs

        pose = self.u.robot_pose()
        wheels = torch.zeros(self.u.num_envs, 2, device=pose.device)
        for e, (plan, i) in self.navigator.targets(obs).items():
            node = plan.goal_node if i is None else plan.route[i]
            key = (e, node)
            if key not in self.planners:
                self.planners[key] = GeodesicPlanner(self.u.layouts[e].occupancy, plan.graph.poses[node, :2])
            ahead = self.planners[key].waypoints(pose[e : e + 1, :2].cpu().numpy(), 2, 0.25)[0, 1]
            point = torch.as_tensor(ahead, dtype=torch.float32, device=pose.device)
            wheels[e] = steer_to(to_robot_frame(pose[e : e + 1], point[None, None])[:, 0])[0]
        return wheels


class FacePathFirst:
    """Turn in place until the shortest path's next waypoint (0.5 m ahead) is within FACED_DEG of the
    heading, then hand over to `policy` for the rest of the episode (privileged)."""

    def __init__(self, policy, num_envs: int, max_turn_steps: int = 150):
        self.policy, self.kind, self.metadata = policy, policy.kind, policy.metadata
        self.facing = torch.ones(num_envs, dtype=torch.bool)
        self.turned = torch.zeros(num_envs, dtype=torch.long)
        self.max_turn_steps = max_turn_steps

    def reset(self, env_ids: torch.Tensor) -> None:
        self.facing[env_ids.cpu()] = True
        self.turned[env_ids.cpu()] = 0
        self.policy.reset(env_ids)

    def act(self, obs: dict) -> torch.Tensor:
        from envs.scenes.scene_env_cfg import STATE_WAYPOINTS  # Isaac Lab: only once a simulation runs

        wheels = self.policy.act(obs)
        waypoint = obs["policy"][:, STATE_WAYPOINTS].view(len(wheels), -1, 2)[:, 1].cpu()
        bearing = torch.atan2(waypoint[:, 1], waypoint[:, 0])
        done = (bearing.abs() < math.radians(FACED_DEG)) | (self.turned >= self.max_turn_steps)
        self.facing &= ~done
        turn = torch.sign(bearing) * TURN
        turning = torch.stack([-turn, turn], dim=-1).to(wheels.device)
        self.turned += self.facing.long()
        return torch.where(self.facing[:, None].to(wheels.device), turning, wheels)
