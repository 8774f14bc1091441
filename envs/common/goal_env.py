"""What every goalnav task shares: the diff-drive robot, the egocentric and goal cameras, the shaped
reward, episode bookkeeping and ``extras['episode']``. A task places its goals and says how far away
they are (`distance_to_goal`) and when the robot touches a wall (`wall_contact`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from isaaclab.envs import DirectRLEnv

from envs.common import kinematics
from envs.common.robot import AXLE_X, BASE_HEIGHT, CAMERA_POS, MAX_WHEEL_SPEED, WHEEL_JOINTS

CAMERA_HEIGHT = BASE_HEIGHT + CAMERA_POS[2]  # [m] above the floor
TIP_OVER_UP_Z = math.cos(math.radians(70))  # the base tilted more than 70 deg: the robot has tipped over


class GoalNavEnv(DirectRLEnv):
    """Observations: ``policy`` (privileged state), ``rgb`` and ``goal_rgb`` (when cameras are on)."""

    def __init__(self, cfg, render_mode: str | None = None, **kwargs):
        self._rng = np.random.default_rng(cfg.seed)
        # Fixed episode sets: a callable env_id -> (episode id, episode) or None (then sample).
        self.episode_source = None
        self.episode_id = [-1] * cfg.scene.num_envs
        cfg.configure()
        super().__init__(cfg, render_mode, **kwargs)
        self.robot = self.scene["robot"]
        self._wheel_ids = torch.tensor(
            self.robot.find_joints(list(WHEEL_JOINTS), preserve_order=True)[0], device=self.device
        )
        self._ego_camera = self.scene["ego_camera"] if cfg.cameras else None
        self._goal_camera = self.scene["goal_camera"] if cfg.cameras else None

        n, dev = self.num_envs, self.device
        self.all_envs = torch.arange(n, device=dev)
        self.instructions: list[str] = [""] * n
        self.goal_pose = torch.zeros(n, 3, device=dev)  # goal-image pose (x, y, yaw), env frame
        self.wheel_targets = torch.zeros(n, 2, device=dev)
        self.time_limit: torch.Tensor | None = None  # per-env step limits; None: the cfg's episode length
        # per-episode bookkeeping
        self.start_distance = torch.zeros(n, device=dev)
        self.path_length = torch.zeros(n, device=dev)
        self.collisions = torch.zeros(n, dtype=torch.long, device=dev)
        self.in_contact = torch.zeros(n, dtype=torch.bool, device=dev)
        self.success = torch.zeros(n, dtype=torch.bool, device=dev)
        self.tipped = torch.zeros(n, dtype=torch.bool, device=dev)
        self._prev_xy = torch.zeros(n, 2, device=dev)
        self._prev_distance = torch.zeros(n, device=dev)
        self._distance = torch.zeros(n, device=dev)  # to the goal, computed once per step in _get_dones
        self._goal_rgb = torch.zeros(n, cfg.camera_height, cfg.camera_width, 3, dtype=torch.uint8, device=dev)
        self._goal_stale = torch.ones(n, dtype=torch.bool, device=dev)

    # -- what a task defines

    def distance_to_goal(self, xy: torch.Tensor, env_ids: torch.Tensor) -> torch.Tensor:
        """(n,) distance [m] from points (n, 2) in the env frame to the goal of each env in env_ids."""
        raise NotImplementedError

    def wall_contact(self, pose: torch.Tensor) -> torch.Tensor:
        """(N,) True where the robot at `pose` touches a wall."""
        raise NotImplementedError

    def _start_episodes(self, env_ids: torch.Tensor) -> None:
        """Draw (or take from `episode_source`) the next episodes of these envs and set them up:
        place_robot, goal_pose and _place_goal_camera."""
        raise NotImplementedError

    def _privileged_state(self) -> torch.Tensor:
        raise NotImplementedError

    def episode_label(self, env_id: int) -> str:
        """A short name for env `env_id`'s episode, to group results by (the arena: the target colour)."""
        raise NotImplementedError

    # -- direct-workflow hooks

    def seed(self, seed: int = -1) -> int:
        seed = super().seed(seed)
        self._rng = np.random.default_rng(seed)
        return seed

    def _configure_gym_env_spaces(self):
        super()._configure_gym_env_spaces()
        if self.cfg.cameras:
            import gymnasium as gym

            space = gym.spaces.Box(0, 255, (self.cfg.camera_height, self.cfg.camera_width, 3), dtype=np.uint8)
            for key in ("rgb", "goal_rgb"):
                self.single_observation_space[key] = space

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
        return (
            self.cfg.rew_progress * progress
            + self.cfg.rew_success * self.success.float()
            + self.cfg.rew_collision * self.in_contact.float()
            + self.cfg.rew_time
        )

    def _get_dones(self) -> tuple[torch.Tensor, torch.Tensor]:
        pose = self.robot_pose()
        self.path_length += torch.linalg.norm(pose[:, :2] - self._prev_xy, dim=-1)
        self._prev_xy = pose[:, :2].clone()
        contact = self.wall_contact(pose)
        self.collisions += (contact & ~self.in_contact).long()
        self.in_contact = contact
        self._distance = self.distance_to_goal(pose[:, :2], self.all_envs)
        self.success = self._distance < self.cfg.success_radius
        # A robot on its end has no heading (its forward axis is vertical): the episode ends, a failure.
        self.tipped = self.up_z() < TIP_OVER_UP_Z
        self.success &= ~self.tipped
        terminated = self.success | self.tipped | (self.in_contact & self.cfg.end_on_collision)
        limit = self.max_episode_length if self.time_limit is None else self.time_limit
        time_out = self.episode_length_buf >= limit
        return terminated, time_out & ~terminated

    def _reset_idx(self, env_ids: Sequence[int] | None):
        env_ids = torch.as_tensor(
            self.all_envs if env_ids is None else env_ids, device=self.device, dtype=torch.long
        )
        self._log_finished_episodes(env_ids)
        super()._reset_idx(env_ids)
        self._start_episodes(env_ids)
        self._begin_episodes(env_ids)

    # -- pieces of a reset, for the task's _start_episodes

    def _episode_for(self, env_id: int, sample):
        """The next episode of env `env_id`: from `episode_source` when it has one, else `sample()`."""
        given = self.episode_source(env_id) if self.episode_source is not None else None
        if given is None:
            given = (-1, sample())
        self.episode_id[env_id], episode = given
        if isinstance(episode, np.random.Generator):  # a seeded draw: this episode comes from that generator
            kept, self._rng = self._rng, episode
            try:
                episode = sample()
            finally:
                self._rng = kept
        return episode

    def _place_goal_camera(self, env_ids: torch.Tensor) -> None:
        """Move the goal cameras to `goal_pose`; their next image is the new goal image."""
        if not self.cfg.cameras:
            return
        yaw = self.goal_pose[env_ids, 2]
        forward = torch.stack([torch.cos(yaw), torch.sin(yaw)], dim=-1)
        cam_pos = torch.zeros(len(env_ids), 3, device=self.device)
        # where the ego camera is when the robot stands at the goal pose
        cam_pos[:, :2] = self.goal_pose[env_ids, :2] + (CAMERA_POS[0] - AXLE_X) * forward
        cam_pos[:, :2] += self.scene.env_origins[env_ids, :2]
        cam_pos[:, 2] = CAMERA_HEIGHT
        self._goal_camera.set_world_poses(
            cam_pos, kinematics.yaw_to_quat(yaw), env_ids=env_ids, convention="world"
        )
        self._goal_stale[env_ids] = True

    def _begin_episodes(self, env_ids: torch.Tensor) -> None:
        """Bookkeeping for the new episodes (place_robot set their start distance), and make the new poses
        visible to sensors rendered before the next physics step."""
        self.path_length[env_ids] = 0.0
        self.collisions[env_ids] = 0
        self.in_contact[env_ids] = False
        self.success[env_ids] = False
        self.tipped[env_ids] = False
        self.start_distance[env_ids] = self._prev_distance[env_ids]
        self.scene.write_data_to_sim()
        self.sim.forward()

    # -- queries and commands used by the hooks above, by experts, rollouts and tests

    def set_episode_source(self, source) -> None:
        """Where the next episodes come from: a callable env_id -> (episode id, episode), or None when the
        set is used up; None (the default) samples them. The episode may be a numpy Generator: the episode
        is then sampled with it (a seeded draw that does not depend on which env takes it)."""
        self.episode_source = source

    def observe(self) -> dict:
        """The observations now (renders the cameras), e.g. after `place_robot` outside a step."""
        return self._get_observations()

    def place_robot(
        self, env_ids: torch.Tensor, xy: torch.Tensor, yaw: torch.Tensor, sync: bool = True
    ) -> None:
        """Put the robot at rest at (x, y, yaw) in the env frame of each env in env_ids."""
        env_ids = torch.as_tensor(env_ids, device=self.device, dtype=torch.long)
        n = len(env_ids)
        root = torch.zeros(n, 7, device=self.device)
        xy = torch.as_tensor(xy, dtype=torch.float32, device=self.device)
        yaw = torch.as_tensor(yaw, dtype=torch.float32, device=self.device)
        root[:, :2] = kinematics.axle_to_base(xy, yaw) + self.scene.env_origins[env_ids, :2]
        root[:, 2] = BASE_HEIGHT
        root[:, 3:] = kinematics.yaw_to_quat(yaw)
        self.robot.write_root_pose_to_sim_index(root_pose=root, env_ids=env_ids)
        self.robot.write_root_velocity_to_sim_index(
            root_velocity=torch.zeros(n, 6, device=self.device), env_ids=env_ids
        )
        zeros = torch.zeros(n, self.robot.num_joints, device=self.device)
        self.robot.write_joint_position_to_sim_index(position=zeros, env_ids=env_ids)
        self.robot.write_joint_velocity_to_sim_index(velocity=zeros, env_ids=env_ids)
        self._prev_xy[env_ids] = xy
        self._prev_distance[env_ids] = self.distance_to_goal(self._prev_xy[env_ids], env_ids)
        if sync:
            self.scene.write_data_to_sim()
            self.sim.forward()
            self.scene.update(0.0)

    def robot_pose(self) -> torch.Tensor:
        """(N, 3) x, y of the wheel-axle midpoint and yaw, in each env's frame."""
        pose_w = self.robot.data.root_link_pose_w.torch
        yaw = kinematics.quat_to_yaw(pose_w[:, 3:7])
        xy = kinematics.base_to_axle(pose_w[:, :2] - self.scene.env_origins[:, :2], yaw)
        return torch.cat([xy, yaw.unsqueeze(-1)], dim=-1)

    def up_z(self) -> torch.Tensor:
        """(N,) the z component of the base's up axis: 1 upright, 0 on its side or end, -1 upside down."""
        x, y = self.robot.data.root_link_pose_w.torch[:, 3:5].unbind(-1)
        return 1.0 - 2.0 * (x * x + y * y)

    def goal_distance(self) -> torch.Tensor:
        """(N,) distance from each robot to its goal now."""
        return self.distance_to_goal(self.robot_pose()[:, :2], self.all_envs)

    def _log_finished_episodes(self, env_ids: torch.Tensor) -> None:
        """Put the outcome of the episodes that just ended in ``extras['episode']`` (before reset)."""
        done = env_ids[self.episode_length_buf[env_ids] > 0]
        if len(done) == 0:
            return
        self.extras["episode"] = {
            "env_ids": done.clone(),
            "episode_id": torch.tensor([self.episode_id[i] for i in done.tolist()], dtype=torch.long),
            "success": self.success[done].clone(),
            "tipped": self.tipped[done].clone(),
            "timed_out": self.reset_time_outs[done].clone(),
            "steps": self.episode_length_buf[done].clone(),
            "path_length": self.path_length[done].clone(),
            "collisions": self.collisions[done].clone(),
            "final_distance": self.goal_distance()[done],
            "final_pose": self.robot_pose()[done],
            "start_distance": self.start_distance[done].clone(),
        }
        self.extras.setdefault("log", {})["Metrics/success_rate"] = self.success[done].float().mean()
