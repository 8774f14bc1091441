"""The coloured-sphere arena, direct workflow."""

from __future__ import annotations

import numpy as np
import torch

from envs.arena import layout
from envs.arena.arena_env_cfg import ARENA_SIZE, SPHERE_RADIUS, ArenaEnvCfg
from envs.common import kinematics
from envs.common.goal_env import GoalNavEnv


class ArenaEnv(GoalNavEnv):
    """Drive to the target sphere. Observations: ``policy`` (privileged state), ``rgb``, ``goal_rgb``."""

    cfg: ArenaEnvCfg

    def __init__(self, cfg: ArenaEnvCfg, render_mode: str | None = None, **kwargs):
        super().__init__(cfg, render_mode, **kwargs)
        self.spheres = [self.scene[f"sphere_{c}"] for c in layout.COLORS]
        self.target_index = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.sphere_xy = torch.zeros(self.num_envs, len(layout.COLORS), 2, device=self.device)  # arena frame

    def distance_to_goal(self, xy: torch.Tensor, env_ids: torch.Tensor) -> torch.Tensor:
        return torch.linalg.norm(self.target_xy()[env_ids] - xy, dim=-1)

    def wall_contact(self, pose: torch.Tensor) -> torch.Tensor:
        return kinematics.footprint_outside(pose, ARENA_SIZE / 2)

    def episode_label(self, env_id: int) -> str:
        return layout.COLORS[int(self.target_index[env_id])]

    def _start_episodes(self, env_ids: torch.Tensor) -> None:

        sample = lambda: layout.sample_episode(self._rng, self.cfg.layout, ARENA_SIZE)  # noqa: E731
        episodes = [self._episode_for(env_id, sample) for env_id in env_ids.tolist()]
        origins = self.scene.env_origins[env_ids]
        spheres = torch.tensor(
            np.stack([e.sphere_xy for e in episodes]), dtype=torch.float32, device=self.device
        )
        start = torch.tensor(
            np.stack([e.start_xy for e in episodes]), dtype=torch.float32, device=self.device
        )
        yaw = torch.tensor([e.start_yaw for e in episodes], dtype=torch.float32, device=self.device)
        self.sphere_xy[env_ids] = spheres
        self.target_index[env_ids] = torch.tensor([e.target for e in episodes], device=self.device)
        for i, env_id in enumerate(env_ids.tolist()):
            self.instructions[env_id] = episodes[i].instruction(
                self.cfg.instruction_style, self.cfg.lateral_threshold_deg
            )

        self.place_robot(env_ids, start, yaw, sync=False)

        # spheres
        for k, sphere in enumerate(self.spheres):
            pose = torch.zeros(len(env_ids), 7, device=self.device)
            pose[:, :2] = spheres[:, k] + origins[:, :2]
            pose[:, 2] = SPHERE_RADIUS
            pose[:, 6] = 1.0
            sphere.write_root_pose_to_sim_index(root_pose=pose, env_ids=env_ids)

        # goal image pose, in front of the target and facing it
        goal = [
            layout.goal_view_pose(e.sphere_xy[e.target], e.start_xy, self.cfg.goal_view_distance)
            for e in episodes
        ]
        self.goal_pose[env_ids] = torch.tensor(
            [[*xy, gyaw] for xy, gyaw in goal], dtype=torch.float32, device=self.device
        )
        self._place_goal_camera(env_ids)

    # -- queries and commands used by the hooks above, by experts, evaluation and tests

    def target_xy(self) -> torch.Tensor:
        """(N, 2) target sphere centre, arena frame."""
        return self.sphere_xy[torch.arange(self.num_envs, device=self.device), self.target_index]

    def privileged_labels(self, num_waypoints: int = 8) -> dict[str, torch.Tensor]:
        """Labels for datasets: poses, geodesic distance and the shortest path (a straight line here)."""
        pose = self.robot_pose()
        target = self.target_xy()
        alpha = torch.linspace(1.0 / num_waypoints, 1.0, num_waypoints, device=self.device).view(1, -1, 1)
        waypoints = pose[:, None, :2] + alpha * (target - pose[:, :2])[:, None, :]
        return {
            "robot_pose": pose,
            "goal_pose": self.goal_pose.clone(),
            "target_xy": target,
            "geodesic_distance": torch.linalg.norm(target - pose[:, :2], dim=-1),
            "path_waypoints": waypoints,
        }

    def _privileged_state(self) -> torch.Tensor:
        """Pose (x, y, cos, sin), target in the robot frame (x, y, distance, cos and sin of its bearing),
        body velocity (v, w), then the other four spheres in the robot frame (x, y each), colour order."""
        pose = self.robot_pose()
        rel = kinematics.to_robot_frame(pose, self.sphere_xy)  # (N, 5, 2)
        idx = torch.arange(self.num_envs, device=self.device)
        target_rel = rel[idx, self.target_index]
        is_other = torch.ones(rel.shape[:2], dtype=torch.bool, device=self.device)
        is_other[idx, self.target_index] = False
        others = rel[is_other]
        vel_b = self.robot.data.root_link_lin_vel_b.torch[:, 0:1]
        yaw_rate = self.robot.data.root_link_ang_vel_b.torch[:, 2:3]
        distance = torch.linalg.norm(target_rel, dim=-1, keepdim=True)
        return torch.cat(
            [
                pose[:, :2],
                torch.cos(pose[:, 2:3]),
                torch.sin(pose[:, 2:3]),
                target_rel,
                distance,
                target_rel / distance.clamp_min(1e-6),  # cos and sin of the bearing to the target
                vel_b,
                yaw_rate,
                others.view(self.num_envs, -1),
            ],
            dim=-1,
        )
