"""Configuration of the image-goal scenes (``GoalNav-Rooms``, ``GoalNav-Maze``, ``GoalNav-Halls``)."""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import CameraCfg
from isaaclab.utils import configclass

from envs.common.goal_env_cfg import GoalNavEnvCfg
from envs.common.robot import ASSETS_DIR, DIFF_DRIVE_CFG
from envs.scenes.layout import CELL, GRID_SHAPE, LANDMARK_KINDS, LANDMARKS_PER_KIND, MAX_WALL_CELLS

SCENE_SIZE = GRID_SHAPE[1] * CELL  # [m] side of the square scene
PARKED_Z = 25.0  # unused wall blocks and landmarks wait high up, beyond the cameras' 20 m range
# (not below the floor: MuJoCo's ground plane is a half-space, and everything under it is in contact)
NCONMAX = 160  # contact candidates per env: the ground plane pairs with every piece in the broadphase
# Wall colliders are 3 mm inside their visual boxes, so neighbours are 6 mm apart: beyond the contact
# gap of 2 x 2 mm (resting contacts between pieces would fill MuJoCo's buffers), and a robot pushing
# against a wall keeps its camera (5 mm behind its front) outside the wall.
CONTACT_GAP = 0.002
NUM_WAYPOINTS_IN_STATE = 3
STATE_DIM = 14 + 2 * NUM_WAYPOINTS_IN_STATE  # see SceneEnv._privileged_state
STATE_WAYPOINTS = slice(12, 12 + 2 * NUM_WAYPOINTS_IN_STATE)  # the next waypoints, robot frame (x, y) each
WALLS = [f"wall_{i:02d}" for i in range(MAX_WALL_CELLS)]
BORDERS = ["border_north", "border_south", "border_east", "border_west"]
LANDMARKS = [f"landmark_{kind}_{k}" for kind in LANDMARK_KINDS for k in range(LANDMARKS_PER_KIND)]


def piece(name: str, usd: str) -> ArticulationCfg:
    """A scene piece from assets/scenes/ (a fixed-base articulation: a reset can move and recolour it)."""
    return ArticulationCfg(
        prim_path=f"{{ENV_REGEX_NS}}/{name}",
        spawn=sim_utils.UsdFileCfg(usd_path=str(ASSETS_DIR / "scenes" / f"{usd}.usda")),
        init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, PARKED_Z), joint_pos={}, joint_vel={}),
        actuators={},
    )


@configclass
class SceneSceneCfg(InteractiveSceneCfg):
    """An 8 m x 8 m floor with a border, a pool of wall blocks and landmarks, and the robot, per env.
    The wall blocks, borders and landmarks are added by SceneEnvCfg.configure()."""

    ground = AssetBaseCfg(
        prim_path="/World/ground",
        spawn=sim_utils.UsdFileCfg(usd_path=str(ASSETS_DIR / "ground" / "ground_plane.usda")),
    )
    light = AssetBaseCfg(prim_path="/World/light", spawn=sim_utils.DistantLightCfg(intensity=2500.0))
    robot: ArticulationCfg = DIFF_DRIVE_CFG
    floor: ArticulationCfg = piece("floor", "floor_tile")
    ego_camera: CameraCfg | None = None
    goal_camera: CameraCfg | None = None


@configclass
class SceneEnvCfg(GoalNavEnvCfg):
    """Image-goal navigation in procedurally generated indoor layouts: reach the pose the goal image
    was taken from. Each env has its own layout; every reset draws a new one from `layout`'s seeds."""

    episode_length_s = 60.0  # the buffer size; each episode's own limit scales with its geodesic length
    observation_space = STATE_DIM
    # every env at the same origin, as in the arena (envs/arena/arena_env_cfg.py says why)
    scene: SceneSceneCfg = SceneSceneCfg(num_envs=16, env_spacing=0.0, replicate_physics=True)
    nconmax: int = NCONMAX
    contact_gap: float | None = CONTACT_GAP

    style: str = "rooms"
    """Scene style: rooms, maze or halls (see envs/scenes/layout.py)."""
    layout: str = "train"
    """Which layout seeds resets draw from: train, val or test (disjoint; test also has held-out palettes)."""
    min_geodesic: float = 2.0
    max_geodesic: float = 8.0
    """Start-goal geodesic distance range [m]."""
    goal_heading: str = "random"
    """'random' or 'landmark' (the goal image faces the nearest visible landmark)."""
    success_radius: float = 0.5
    """Success: geodesic distance to the goal below this [m]."""
    time_limit_speed: float = 0.25
    """Time limit: geodesic length at this speed [m/s], times 2.5, at least 5 s."""

    def configure(self) -> None:
        """Add the scene pieces, then the shared camera and sim settings."""
        for name in BORDERS:
            setattr(self.scene, name, piece(name, "border_wall"))
        for name in WALLS:
            setattr(self.scene, name, piece(name, "wall_block"))
        for name in LANDMARKS:
            setattr(self.scene, name, piece(name, "_".join(name.split("_")[:2])))
        super().configure()


@configclass
class RoomsEnvCfg(SceneEnvCfg):
    style: str = "rooms"


@configclass
class MazeEnvCfg(SceneEnvCfg):
    style: str = "maze"


@configclass
class HallsEnvCfg(SceneEnvCfg):
    style: str = "halls"
