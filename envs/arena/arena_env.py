"""The coloured-sphere arena, direct workflow."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from isaaclab.envs import DirectRLEnv

from envs.arena import layout
from envs.arena.arena_env_cfg import ARENA_SIZE, CAMERA_HEIGHT, SPHERE_RADIUS, ArenaEnvCfg, image_space
from envs.common import kinematics
from envs.common.robot import BASE_HEIGHT, MAX_WHEEL_SPEED, WHEEL_JOINTS


class ArenaEnv(DirectRLEnv):
    """Drive to the target sphere. Observations: ``policy`` (privileged state), ``rgb``, ``goal_rgb``."""

    cfg: ArenaEnvCfg

    def __init__(self, cfg: ArenaEnvCfg, render_mode: str | None = None, **kwargs):
        self._rng = np.random.default_rng(cfg.seed)
        # Fixed episode sets: a callable env_id -> (episode id, layout.Episode) or None (then sample).
        self.episode_source = None
        self.episode_id = [-1] * cfg.scene.num_envs
        cfg.configure()
        super().__init__(cfg, render_mode, **kwargs)
        self.robot = self.scene["robot"]
        self.spheres = [self.scene[f"sphere_{c}"] for c in layout.COLORS]
        self._wheel_ids = torch.tensor(
            self.robot.find_joints(list(WHEEL_JOINTS), preserve_order=True)[0], device=self.device
        )
        self._ego_camera = self.scene["ego_camera"] if cfg.cameras else None
        self._goal_camera = self.scene["goal_camera"] if cfg.cameras else None

        n, dev = self.num_envs, self.device
        self.instructions: list[str] = [""] * n
        self.target_index = torch.zeros(n, dtype=torch.long, device=dev)
        self.sphere_xy = torch.zeros(n, len(layout.COLORS), 2, device=dev)  # arena frame
        self.goal_pose = torch.zeros(n, 3, device=dev)  # goal-image pose (x, y, yaw), arena frame
        self.wheel_targets = torch.zeros(n, 2, device=dev)
        # per-episode bookkeeping
        self.start_distance = torch.zeros(n, device=dev)
        self.path_length = torch.zeros(n, device=dev)
        self.collisions = torch.zeros(n, dtype=torch.long, device=dev)
        self.in_contact = torch.zeros(n, dtype=torch.bool, device=dev)
        self.success = torch.zeros(n, dtype=torch.bool, device=dev)
        self._prev_xy = torch.zeros(n, 2, device=dev)
        self._prev_distance = torch.zeros(n, device=dev)
        self._distance = torch.zeros(n, device=dev)  # to the target, computed once per step in _get_dones
        self._goal_rgb = torch.zeros(n, cfg.camera_height, cfg.camera_width, 3, dtype=torch.uint8, device=dev)
        self._goal_stale = torch.ones(n, dtype=torch.bool, device=dev)

    def seed(self, seed: int = -1) -> int:
        seed = super().seed(seed)
        self._rng = np.random.default_rng(seed)
        return seed

    def _configure_gym_env_spaces(self):
        super()._configure_gym_env_spaces()
        if self.cfg.cameras:
            for key in ("rgb", "goal_rgb"):
                self.single_observation_space[key] = image_space(self.cfg)

    # -- direct-workflow hooks

    def _pre_physics_step(self, actions: torch.Tensor) -> None:
        self.extras.pop("episode", None)  # holds only the episodes that end in this step
        self.actions = actions.clamp(-1.0, 1.0)
        self.wheel_targets = self.actions * MAX_WHEEL_SPEED

    def _apply_action(self) -> None:
        self.robot.actuators.target_command.set_velocity_index(
            value=self.wheel_targets, joint_ids=self._wheel_ids
        )

    def _get_observations(self) -> dict:
        obs = {"policy": self._privileged_state()}
        if self.cfg.cameras:
            obs["rgb"] = self._ego_camera.data.output["rgb"].torch[..., :3].clone()
            if self._goal_stale.any():  # render goal images only when a goal changed
                stale = self._goal_stale.nonzero().squeeze(-1)
                self._goal_rgb[stale] = self._goal_camera.data.output["rgb"].torch[stale, ..., :3]
                self._goal_stale[:] = False
            obs["goal_rgb"] = self._goal_rgb.clone()
        return obs

    def _get_rewards(self) -> torch.Tensor:
        distance = self._distance  # from _get_dones, which runs first; the robot has not moved since
        progress = self._prev_distance - distance
        self._prev_distance = distance
        reward = (
            self.cfg.rew_progress * progress
            + self.cfg.rew_success * self.success.float()
            + self.cfg.rew_collision * self.in_contact.float()
            + self.cfg.rew_time
        )
        return reward

    def _get_dones(self) -> tuple[torch.Tensor, torch.Tensor]:
        pose = self.robot_pose()
        self.path_length += torch.linalg.norm(pose[:, :2] - self._prev_xy, dim=-1)
        self._prev_xy = pose[:, :2].clone()
        contact = kinematics.footprint_outside(pose, ARENA_SIZE / 2)
        self.collisions += (contact & ~self.in_contact).long()
        self.in_contact = contact
        self._distance = torch.linalg.norm(self.target_xy() - pose[:, :2], dim=-1)
        self.success = self._distance < self.cfg.success_radius
        terminated = self.success | (self.in_contact & self.cfg.end_on_collision)
        time_out = self.episode_length_buf >= self.max_episode_length
        return terminated, time_out & ~terminated

    def _reset_idx(self, env_ids: Sequence[int] | None):
        if env_ids is None:
            env_ids = self.robot._ALL_INDICES
        env_ids = torch.as_tensor(env_ids, device=self.device, dtype=torch.long)
        self._log_finished_episodes(env_ids)
        super()._reset_idx(env_ids)

        episodes = []
        for env_id in env_ids.tolist():
            given = self.episode_source(env_id) if self.episode_source is not None else None
            if given is None:
                given = (-1, layout.sample_episode(self._rng, self.cfg.layout, ARENA_SIZE))
            self.episode_id[env_id], episode = given
            episodes.append(episode)
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
        if self.cfg.cameras:
            cam_pos = torch.zeros(len(env_ids), 3, device=self.device)
            cam_pos[:, :2] = self.goal_pose[env_ids, :2] + origins[:, :2]
            cam_pos[:, 2] = CAMERA_HEIGHT
            self._goal_camera.set_world_poses(
                cam_pos,
                kinematics.yaw_to_quat(self.goal_pose[env_ids, 2]),
                env_ids=env_ids,
                convention="world",
            )
            self._goal_stale[env_ids] = True

        # bookkeeping for the new episodes (place_robot already reset _prev_xy and _prev_distance)
        self.path_length[env_ids] = 0.0
        self.collisions[env_ids] = 0
        self.in_contact[env_ids] = False
        self.success[env_ids] = False
        self.start_distance[env_ids] = self._prev_distance[env_ids]
        # make the new poses visible to sensors rendered before the next physics step
        self.scene.write_data_to_sim()
        self.sim.forward()

    # -- queries and commands used by the hooks above, by experts, evaluation and tests

    def place_robot(
        self, env_ids: torch.Tensor, xy: torch.Tensor, yaw: torch.Tensor, sync: bool = True
    ) -> None:
        """Put the robot at rest at (x, y, yaw) in the arena frame of each env in env_ids."""
        env_ids = torch.as_tensor(env_ids, device=self.device, dtype=torch.long)
        n = len(env_ids)
        root = torch.zeros(n, 7, device=self.device)
        yaw = yaw.to(self.device)
        root[:, :2] = kinematics.axle_to_base(xy.to(self.device), yaw) + self.scene.env_origins[env_ids, :2]
        root[:, 2] = BASE_HEIGHT
        root[:, 3:] = kinematics.yaw_to_quat(yaw)
        self.robot.write_root_pose_to_sim_index(root_pose=root, env_ids=env_ids)
        self.robot.write_root_velocity_to_sim_index(
            root_velocity=torch.zeros(n, 6, device=self.device), env_ids=env_ids
        )
        zeros = torch.zeros(n, self.robot.num_joints, device=self.device)
        self.robot.write_joint_position_to_sim_index(position=zeros, env_ids=env_ids)
        self.robot.write_joint_velocity_to_sim_index(velocity=zeros, env_ids=env_ids)
        self._prev_xy[env_ids] = xy.to(self.device)
        self._prev_distance[env_ids] = torch.linalg.norm(
            self.target_xy()[env_ids] - self._prev_xy[env_ids], dim=-1
        )
        if sync:
            self.scene.write_data_to_sim()
            self.sim.forward()
            self.scene.update(0.0)

    def robot_pose(self) -> torch.Tensor:
        """(N, 3) x, y of the wheel-axle midpoint and yaw, in each env's arena frame."""
        pose_w = self.robot.data.root_link_pose_w.torch
        yaw = kinematics.quat_to_yaw(pose_w[:, 3:7])
        xy = kinematics.base_to_axle(pose_w[:, :2] - self.scene.env_origins[:, :2], yaw)
        return torch.cat([xy, yaw.unsqueeze(-1)], dim=-1)

    def target_xy(self) -> torch.Tensor:
        """(N, 2) target sphere centre, arena frame."""
        return self.sphere_xy[torch.arange(self.num_envs, device=self.device), self.target_index]

    def target_distance(self) -> torch.Tensor:
        return torch.linalg.norm(self.target_xy() - self.robot_pose()[:, :2], dim=-1)

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

    def _log_finished_episodes(self, env_ids: torch.Tensor) -> None:
        """Put the outcome of the episodes that just ended in ``extras['episode']`` (before reset)."""
        done = env_ids[self.episode_length_buf[env_ids] > 0]
        if len(done) == 0:
            return
        self.extras["episode"] = {
            "env_ids": done.clone(),
            "episode_id": torch.tensor([self.episode_id[i] for i in done.tolist()], dtype=torch.long),
            "success": self.success[done].clone(),
            "timed_out": self.reset_time_outs[done].clone(),
            "steps": self.episode_length_buf[done].clone(),
            "path_length": self.path_length[done].clone(),
            "collisions": self.collisions[done].clone(),
            "final_distance": self.target_distance()[done],
            "final_pose": self.robot_pose()[done],
            "start_distance": self.start_distance[done].clone(),
        }
        self.extras.setdefault("log", {})["Metrics/success_rate"] = self.success[done].float().mean()
