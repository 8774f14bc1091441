"""Configuration of the coloured-sphere arena (``GoalNav-Arena``)."""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import CameraCfg
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.utils import configclass

from envs.arena.layout import ARENA_SIZE, SPHERE_RADIUS  # noqa: F401  (re-exported)
from envs.common.goal_env_cfg import GoalNavEnvCfg
from envs.common.robot import ASSETS_DIR, DIFF_DRIVE_CFG

WALL_THICKNESS = 0.05  # [m]
WALL_HEIGHT = 0.25  # [m]
STATE_DIM = 19  # see ArenaEnv._privileged_state
STATE_TARGET = slice(4, 6)  # the target in the robot frame (x forward, y left)


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
class ArenaEnvCfg(GoalNavEnvCfg):
    """The coloured-sphere arena: drive to the sphere the instruction (or goal image) names."""

    episode_length_s = 20.0  # 600 steps at 30 Hz
    observation_space = STATE_DIM
    # every env at the same origin: each is its own physics world and is rendered alone, and an episode
    # then plays out the same in any env (measured: 10 m apart, the same episode diverged after 26 steps)
    scene: ArenaSceneCfg = ArenaSceneCfg(num_envs=16, env_spacing=0.0, replicate_physics=True)

    # episodes
    layout: str = "paper"
    """'paper' (spheres in a row along the far wall) or 'random' (spheres and start drawn each episode)."""
    instruction_style: str = "color"
    """'color' ("go to the red sphere") or 'spatial' (adds "to your left/right" or "straight ahead")."""
    lateral_threshold_deg: float = 15.0
    """Bearing beyond which the spatial cue says left or right instead of straight ahead."""
    success_radius: float = 0.3
    """Success: robot within this distance [m] of the target sphere's centre."""
    goal_view_distance: float = 0.6
    """The goal image is taken this far [m] in front of the target sphere, facing it."""
