"""Image-goal scenes, direct workflow: a new seeded layout per env at every reset."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from envs.common import kinematics
from envs.common.goal_env import GoalNavEnv
from envs.scenes import geodesic
from envs.scenes.layout import (
    CELL,
    GRID_SHAPE,
    LANDMARK_KINDS,
    LANDMARKS_PER_KIND,
    WALL_HEIGHT,
    cell_to_xy,
    generate,
    seeds,
)
from envs.scenes.scene_env_cfg import (
    BORDERS,
    NUM_WAYPOINTS_IN_STATE,
    PARKED_Z,
    SCENE_SIZE,
    WALLS,
    SceneEnvCfg,
)

INSTRUCTION = "go to where the goal image was taken"
LAYOUT_SEEDS_PER_SPLIT = 100_000  # resets draw layouts from the first this many seeds of the split
WAYPOINT_SPACING = 0.25  # [m] between privileged path waypoints
FLOOR_Z = -0.002  # [m] centre of the 1 cm floor tile: its top sits 3 mm above the collision plane
CONTACT_MARGIN = 0.01  # [m] the robot outline this close to a wall cell counts as touching it


# generate() is deterministic: a reset that samples an episode and then builds its layout generates it once
layout_of = lru_cache(maxsize=1024)(generate)


def parked(n: int, count: int) -> np.ndarray:
    """(n, count, 3) spots high above the scene, one per piece: parked pieces must not overlap (contacts)."""
    spots = np.zeros((n, count, 3))
    spots[:, :, 0] = (np.arange(count) - count / 2) * (CELL + 0.1)
    spots[:, :, 2] = PARKED_Z
    return spots


class SceneEnv(GoalNavEnv):
    """Reach the goal image's pose. ``policy`` holds the privileged state (goal and next waypoints)."""

    cfg: SceneEnvCfg

    def __init__(self, cfg: SceneEnvCfg, render_mode: str | None = None, **kwargs):
        super().__init__(cfg, render_mode, **kwargs)
        n, dev = self.num_envs, self.device
        self.layouts: list = [None] * n
        self.planners: list[geodesic.GeodesicPlanner | None] = [None] * n
        self.layout_seed = [-1] * n
        self.wall_grid = torch.zeros(n, *GRID_SHAPE, dtype=torch.bool, device=dev)  # walls only, no landmarks
        self.time_limit = torch.full((n,), self.max_episode_length, dtype=torch.long, device=dev)
        self._walls = [self.scene[name] for name in WALLS]
        self._landmarks = {kind: [self.scene[f"landmark_{kind}_{k}"] for k in range(LANDMARKS_PER_KIND)]
                           for kind in LANDMARK_KINDS}  # fmt: skip
        self._borders = [self.scene[name] for name in BORDERS]
        self._floor = self.scene["floor"]
        # per-env colours matter only to the cameras; without them the visual shapes are not built
        self._color = {}
        if cfg.cameras:
            from isaaclab_newton.physics import NewtonManager

            pieces = [*self._walls, *self._borders, self._floor, *sum(self._landmarks.values(), [])]
            self._color = {
                id(a): NewtonManager.create_visual_shape_color_writer(a, ("body",)) for a in pieces
            }

    # -- what GoalNavEnv asks of a task

    def distance_to_goal(self, xy: torch.Tensor, env_ids: torch.Tensor) -> torch.Tensor:
        xy_np = xy.detach().cpu().numpy()
        out = [self.planners[e].distance(xy_np[i : i + 1])[0] if self.planners[e] else 0.0
               for i, e in enumerate(env_ids.tolist())]  # fmt: skip
        return torch.tensor(out, dtype=torch.float32, device=self.device)

    def wall_contact(self, pose: torch.Tensor) -> torch.Tensor:
        outline = kinematics.footprint_world(pose)  # (N, P, 2)
        centre = pose[:, None, :2]
        grown = centre + (outline - centre) * (1 + CONTACT_MARGIN / 0.08)  # ~1 cm further out
        points = torch.cat([grown, outline], dim=1)
        ij = torch.floor(points.flip(-1) / CELL + torch.tensor(GRID_SHAPE, device=self.device) / 2).long()
        ij = ij.clamp(min=0, max=GRID_SHAPE[0] - 1)
        env = torch.arange(self.num_envs, device=self.device)[:, None].expand_as(ij[..., 0])
        return self.wall_grid[env, ij[..., 0], ij[..., 1]].any(dim=1)

    def episode_label(self, env_id: int) -> str:
        """The layout's palette (lavender and olive appear only in test layouts)."""
        return self.layouts[env_id].palette.name

    def _privileged_state(self) -> torch.Tensor:
        """Pose (x, y, cos, sin); the goal in the robot frame (x, y, distance, cos and sin of its bearing,
        cos and sin of the heading difference); geodesic distance; the next waypoints in the robot frame;
        body velocity (v, w)."""
        pose = self.robot_pose()
        goal_rel = kinematics.to_robot_frame(pose, self.goal_pose[:, None, :2])[:, 0]
        distance = torch.linalg.norm(goal_rel, dim=-1, keepdim=True)
        dyaw = (self.goal_pose[:, 2] - pose[:, 2]).unsqueeze(-1)
        waypoints = kinematics.to_robot_frame(pose, self._waypoints(pose, NUM_WAYPOINTS_IN_STATE))
        geodesic_distance = self.distance_to_goal(pose[:, :2], self.all_envs)
        return torch.cat(
            [pose[:, :2], torch.cos(pose[:, 2:3]), torch.sin(pose[:, 2:3]), goal_rel, distance,
             goal_rel / distance.clamp_min(1e-6), torch.cos(dyaw), torch.sin(dyaw),
             geodesic_distance.unsqueeze(-1), waypoints.flatten(1),
             self.robot.data.root_link_lin_vel_b.torch[:, 0:1], self.robot.data.root_link_ang_vel_b.torch[:, 2:3]],
            dim=-1,
        )  # fmt: skip

    def _start_episodes(self, env_ids: torch.Tensor) -> None:
        episodes = [self._episode_for(e, self.sample_episode) for e in env_ids.tolist()]
        for env_id, (seed, episode) in zip(env_ids.tolist(), episodes, strict=True):
            layout = layout_of(self.cfg.style, seed)
            self.layouts[env_id], self.layout_seed[env_id] = layout, seed
            self.planners[env_id] = episode.planner or geodesic.GeodesicPlanner(
                layout.occupancy, episode.goal_xy
            )
            self.wall_grid[env_id] = torch.as_tensor(layout.wall_cells, device=self.device)
            self.instructions[env_id] = INSTRUCTION
        layouts = [self.layouts[e] for e in env_ids.tolist()]
        self._build_scenes(env_ids, layouts)
        start = torch.tensor(np.stack([ep.start_xy for _, ep in episodes]), dtype=torch.float32)
        yaw = torch.tensor([ep.start_yaw for _, ep in episodes], dtype=torch.float32)
        self.goal_pose[env_ids] = torch.tensor(
            [[*ep.goal_xy, ep.goal_yaw] for _, ep in episodes], dtype=torch.float32, device=self.device
        )
        steps = geodesic.time_limit_steps(np.array([ep.geodesic for _, ep in episodes]),
                                          speed=self.cfg.time_limit_speed, control_hz=1 / self.step_dt)  # fmt: skip
        self.time_limit[env_ids] = (
            torch.as_tensor(steps, device=self.device).long().clamp(max=self.max_episode_length)
        )
        self.place_robot(env_ids, start, yaw, sync=False)
        self._place_goal_camera(env_ids)

    # -- episodes and scene building

    def sample_episode(self) -> tuple[int, geodesic.SceneEpisode]:
        """(layout seed, episode) drawn from the cfg's split, style and distance range."""
        start = int(self._rng.integers(LAYOUT_SEEDS_PER_SPLIT))
        seed = seeds(self.cfg.layout, 1, start=start)[0]
        episode = geodesic.sample_episode(layout_of(self.cfg.style, seed), self._rng, self.cfg.min_geodesic,
                                          self.cfg.max_geodesic, goal_heading=self.cfg.goal_heading)  # fmt: skip
        return seed, episode

    def _build_scenes(self, env_ids: torch.Tensor, layouts: list) -> None:
        """Move the wall blocks and landmarks of each env to its layout and paint its palette."""
        n, dev = len(env_ids), self.device
        origins = self.scene.env_origins[env_ids]
        walls = parked(n, len(self._walls))
        for i, layout in enumerate(layouts):
            cells = np.argwhere(layout.wall_cells[1:-1, 1:-1]) + 1
            walls[i, : len(cells), :2] = cell_to_xy(cells)
            walls[i, : len(cells), 2] = WALL_HEIGHT / 2
        self._write_poses(
            self._walls, env_ids, torch.as_tensor(walls, dtype=torch.float32, device=dev), origins
        )
        for kind, pool in self._landmarks.items():
            spots = parked(n, len(pool))
            colors = np.full((n, len(pool), 3), 0.5)
            for i, layout in enumerate(layouts):
                for k, lm in enumerate(lm for lm in layout.landmarks if lm.kind == kind):
                    spots[i, k] = (lm.x, lm.y, lm.size / 2)
                    colors[i, k] = lm.color
            self._write_poses(pool, env_ids, torch.as_tensor(spots, dtype=torch.float32, device=dev), origins)
            for k, asset in enumerate(pool):
                self._paint(asset, env_ids, colors[:, k])
        # a pinwheel of four 7.5 m sides (N, S, E, W) that covers the outer ring without overlaps
        h, q = SCENE_SIZE / 2 - CELL / 2, CELL / 2
        z = WALL_HEIGHT / 2
        border = torch.tensor(
            [[-q, h, z], [q, -h, z], [h, q, z], [-h, -q, z]], dtype=torch.float32, device=dev
        )
        yaw = torch.tensor([0.0, 0.0, np.pi / 2, np.pi / 2], device=dev)
        self._write_poses(self._borders, env_ids, border.expand(n, -1, -1), origins, yaw)
        self._write_poses([self._floor], env_ids, torch.tensor([[[0.0, 0.0, FLOOR_Z]]], device=dev).expand(n, -1, -1),
                          origins)  # fmt: skip
        wall_rgb = np.array([layout.palette.wall for layout in layouts])
        for asset in [*self._walls, *self._borders]:
            self._paint(asset, env_ids, wall_rgb)
        self._paint(self._floor, env_ids, np.array([layout.palette.floor for layout in layouts]))

    def _write_poses(self, assets: list, env_ids: torch.Tensor, xyz: torch.Tensor, origins: torch.Tensor,
                     yaw: torch.Tensor | None = None) -> None:  # fmt: skip
        """xyz: (n, len(assets), 3) positions in the env frame; yaw: (len(assets),) or None."""
        for k, asset in enumerate(assets):
            pose = torch.zeros(len(env_ids), 7, device=self.device)
            pose[:, :3] = xyz[:, k] + torch.cat([origins[:, :2], torch.zeros_like(origins[:, :1])], dim=-1)
            pose[:, 3:] = kinematics.yaw_to_quat(
                torch.full((len(env_ids),), 0.0 if yaw is None else float(yaw[k]), device=self.device)
            )
            asset.write_root_pose_to_sim_index(root_pose=pose, env_ids=env_ids)

    def _paint(self, asset, env_ids: torch.Tensor, rgb: np.ndarray) -> None:
        if not self._color:
            return
        colors = torch.as_tensor(np.asarray(rgb), dtype=torch.float32, device=self.device).view(
            len(env_ids), 1, 3
        )
        self._color[id(asset)](colors.contiguous(), env_ids.to(torch.int32))

    # -- privileged information

    def privileged_labels(self, num_waypoints: int = 8) -> dict[str, torch.Tensor]:
        """Poses, the geodesic distance and the next shortest-path waypoints (env frame), per env."""
        pose = self.robot_pose()
        return {
            "robot_pose": pose,
            "goal_pose": self.goal_pose.clone(),
            "target_xy": self.goal_pose[:, :2].clone(),
            "geodesic_distance": self.distance_to_goal(pose[:, :2], self.all_envs),
            "path_waypoints": self._waypoints(pose, num_waypoints),
        }

    def _waypoints(self, pose: torch.Tensor, n: int) -> torch.Tensor:
        """(N, n, 2) the next n shortest-path waypoints of each env (env frame), WAYPOINT_SPACING apart."""
        xy = pose[:, :2].detach().cpu().numpy()
        waypoints = np.stack([self.planners[e].waypoints(xy[e : e + 1], n, WAYPOINT_SPACING)[0]
                              for e in range(self.num_envs)])  # fmt: skip
        return torch.as_tensor(waypoints, dtype=torch.float32, device=self.device)

    def occupancy(self) -> np.ndarray:
        """(N, H, W) occupancy grids (walls and landmarks) of the current layouts."""
        return np.stack([layout.occupancy for layout in self.layouts])
