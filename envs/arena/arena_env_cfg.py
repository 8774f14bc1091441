"""Configuration of the coloured-sphere arena (``GoalNav-Arena``)."""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.envs import DirectRLEnvCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import CameraCfg
from isaaclab.sim import SimulationCfg
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.utils import configclass

from envs.common.robot import ASSETS_DIR, DIFF_DRIVE_CFG, camera_cfg
from envs.common.sim import newton_sim_cfg

ARENA_SIZE = 3.0  # [m] inner side of the square arena
WALL_THICKNESS = 0.05  # [m]
WALL_HEIGHT = 0.25  # [m]
SPHERE_RADIUS = 0.1  # [m], as written by assets/make_assets.py
STATE_DIM = 19  # see ArenaEnv._privileged_state


def _static_box(
    prim_path: str,
    size: tuple[float, float, float],
    pos: tuple[float, float, float],
    color,
    friction: float = 1.0,
) -> AssetBaseCfg:
    return AssetBaseCfg(
        prim_path=prim_path,
        spawn=sim_utils.CuboidCfg(
            size=size,
            collision_props=[sim_utils.UsdPhysicsCollisionCfg()],
            visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=color),
            physics_material=RigidBodyMaterialBaseCfg(static_friction=1.0, dynamic_friction=1.0),
        ),
        init_state=AssetBaseCfg.InitialStateCfg(pos=pos),
    )


def _sphere(color: str) -> ArticulationCfg:
    # the spheres are fixed-base articulations so that a reset can move them per env
    return ArticulationCfg(
        prim_path=f"{{ENV_REGEX_NS}}/sphere_{color}",
        spawn=sim_utils.UsdFileCfg(usd_path=str(ASSETS_DIR / "markers" / f"sphere_{color}.usda")),
        init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, SPHERE_RADIUS), joint_pos={}, joint_vel={}),
        actuators={},
    )


_WALL = 0.70, 0.74, 0.80  # bluish grey: tells walls from the pale sky
_H = ARENA_SIZE / 2 + WALL_THICKNESS / 2  # wall centre offset from the arena centre
_L = ARENA_SIZE + 2 * WALL_THICKNESS


@configclass
class ArenaSceneCfg(InteractiveSceneCfg):
    """A 3 m x 3 m walled floor, five coloured spheres and the robot, replicated per env."""

    # one collision plane for all envs; low friction so the caster slides (see assets/make_assets.py)
    ground = AssetBaseCfg(
        prim_path="/World/ground",
        spawn=sim_utils.UsdFileCfg(usd_path=str(ASSETS_DIR / "ground" / "ground_plane.usda")),
    )
    wall_north = _static_box(
        "{ENV_REGEX_NS}/wall_north", (_L, WALL_THICKNESS, WALL_HEIGHT), (0.0, _H, WALL_HEIGHT / 2), _WALL
    )
    wall_south = _static_box(
        "{ENV_REGEX_NS}/wall_south", (_L, WALL_THICKNESS, WALL_HEIGHT), (0.0, -_H, WALL_HEIGHT / 2), _WALL
    )
    wall_east = _static_box(
        "{ENV_REGEX_NS}/wall_east", (WALL_THICKNESS, _L, WALL_HEIGHT), (_H, 0.0, WALL_HEIGHT / 2), _WALL
    )
    wall_west = _static_box(
        "{ENV_REGEX_NS}/wall_west", (WALL_THICKNESS, _L, WALL_HEIGHT), (-_H, 0.0, WALL_HEIGHT / 2), _WALL
    )
    light = AssetBaseCfg(prim_path="/World/light", spawn=sim_utils.DistantLightCfg(intensity=2500.0))

    robot: ArticulationCfg = DIFF_DRIVE_CFG
    sphere_red: ArticulationCfg = _sphere("red")
    sphere_green: ArticulationCfg = _sphere("green")
    sphere_blue: ArticulationCfg = _sphere("blue")
    sphere_yellow: ArticulationCfg = _sphere("yellow")
    sphere_magenta: ArticulationCfg = _sphere("magenta")

    # cameras; ArenaEnvCfg.__post_init__ drops them when `cameras` is off
    ego_camera: CameraCfg | None = None
    goal_camera: CameraCfg | None = None


@configclass
class ArenaEnvCfg(DirectRLEnvCfg):
    """The coloured-sphere arena: drive to the sphere the instruction (or goal image) names."""

    # control: 60 Hz physics, 30 Hz actions, 20 s episodes (600 steps). Measured on CPU: 60 Hz drives
    # like 120 Hz (straight, turn, arc within 4%) at 1.8x the speed; 30 Hz halves the arc turn rate.
    physics_dt: float = 1.0 / 60.0
    decimation = 2
    episode_length_s = 20.0
    action_space = 2  # [left, right] wheel speed, normalised to [-1, 1]
    observation_space = STATE_DIM
    state_space = 0
    sim: SimulationCfg = newton_sim_cfg(physics_dt=1.0 / 60.0, decimation=2)
    scene: ArenaSceneCfg = ArenaSceneCfg(num_envs=16, env_spacing=ARENA_SIZE + 1.0, replicate_physics=True)

    # episodes
    layout: str = "paper"
    """'paper' (spheres in a row along the far wall) or 'random' (spheres and start drawn each episode)."""
    instruction_style: str = "color"
    """'color' ("go to the red sphere") or 'spatial' (adds "to your left/right" or "straight ahead")."""
    lateral_threshold_deg: float = 15.0
    """Bearing beyond which the spatial cue says left or right instead of straight ahead."""
    success_radius: float = 0.3
    """Success: robot within this distance [m] of the target sphere's centre."""
    end_on_collision: bool = False
    """End the episode (terminated, not successful) on the first wall contact."""
    goal_view_distance: float = 0.6
    """The goal image is taken this far [m] in front of the target sphere, facing it."""

    # cameras
    cameras: bool = True
    """Render the egocentric and goal cameras. Off for state-only training (much faster)."""
    camera_width: int = 64
    camera_height: int = 64
    camera_hfov_deg: float = 90.0

    # rewards (PPO shaping)
    rew_progress: float = 10.0
    """Per metre of distance to the target closed."""
    rew_success: float = 10.0
    rew_collision: float = -0.1
    """Per step in contact with a wall."""
    rew_time: float = -0.05
    """Per step."""

    def configure(self) -> None:
        """Apply the camera and device settings; the env calls this before building the scene."""
        viewers = self.sim.visualizer_cfgs  # chosen by the caller (envs/viz.py); keep them
        self.sim = newton_sim_cfg(self.physics_dt, self.decimation, device=self.sim.device)
        self.sim.visualizer_cfgs = viewers
        if self.cameras:
            w, h, fov = self.camera_width, self.camera_height, self.camera_hfov_deg
            self.scene.ego_camera = camera_cfg(
                "{ENV_REGEX_NS}/Robot/base/ego_camera", w, h, fov, on_robot=True
            )
            self.scene.goal_camera = camera_cfg("{ENV_REGEX_NS}/goal_camera", w, h, fov, on_robot=False)
        else:
            self.scene.ego_camera = None
            self.scene.goal_camera = None
