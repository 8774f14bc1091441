"""The differential-drive robot: its asset config, wheel kinematics and egocentric camera."""

from __future__ import annotations

import math
from pathlib import Path

import isaaclab.sim as sim_utils
from isaaclab.actuators import ImplicitActuatorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab.sensors import CameraCfg
from isaaclab_newton.renderers import NewtonWarpRendererCfg

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
ROBOT_USD = ASSETS_DIR / "robot" / "goalnav_bot.usda"

# These mirror assets/make_assets.py, which wrote the USD.
WHEEL_RADIUS = 0.033  # [m]
TRACK = 0.12  # [m] distance between the wheel centres
BODY_RADIUS = 0.085  # [m] radius of a circle that covers the base footprint
CAMERA_POS = (0.065, 0.0, 0.05)  # [m] camera relative to the base centre
AXLE_X = 0.025  # [m] the wheel axle sits this far ahead of the base centre; poses refer to its midpoint
BASE_HEIGHT = 0.055  # [m] base centre above the floor at rest
MAX_WHEEL_SPEED = 16.0  # [rad/s] an action of +1; ~0.5 m/s top speed once wheel slip is counted
WHEEL_JOINTS = ("left_wheel_joint", "right_wheel_joint")  # action order: [left, right]

DIFF_DRIVE_CFG = ArticulationCfg(
    prim_path="{ENV_REGEX_NS}/Robot",
    spawn=sim_utils.UsdFileCfg(usd_path=str(ROBOT_USD)),
    init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, 0.0)),  # the USD already lifts the base
    actuators={
        # Velocity drive: stiffness 0, damping turns the speed error into torque, capped at 0.3 N*m.
        # A soft gain (0.02) keeps the torque below what the tyres can transmit, so the wheels roll
        # instead of slipping; 0.5 slipped, which made identical envs diverge (measured: straight
        # 100% and turn-in-place 99% of the ideal speed, 90% of top speed in 0.17 s).
        "wheels": ImplicitActuatorCfg(
            joint_names_expr=[".*_wheel_joint"],
            stiffness=0.0,
            damping=0.02,
            joint_effort_limit=0.3,
            joint_velocity_limit=MAX_WHEEL_SPEED * 1.25,
        )
    },
)


def fastest_time(start_xy, start_yaw: float, goal_xy, reach: float) -> float:
    """[s] A lower bound on reaching within `reach` of `goal_xy`: spin in place at full wheel speed to face
    it, then drive straight at top speed (time-optimal for a differential drive with bounded wheel
    speeds, Balkcom & Mason 2002); no acceleration, no obstacles."""
    speed = MAX_WHEEL_SPEED * WHEEL_RADIUS
    dx, dy = goal_xy[0] - start_xy[0], goal_xy[1] - start_xy[1]
    distance = math.hypot(dx, dy)
    if distance <= reach:
        return 0.0
    turn = abs((math.atan2(dy, dx) - start_yaw + math.pi) % (2 * math.pi) - math.pi)
    return turn / (2 * speed / TRACK) + (distance - reach) / speed


def focal_length_for_fov(hfov_deg: float, horizontal_aperture: float = 20.955) -> float:
    """Pinhole focal length [mm] that gives a horizontal field of view in degrees."""
    return horizontal_aperture / 2.0 / math.tan(math.radians(hfov_deg) / 2.0)


def camera_cfg(prim_path: str, width: int, height: int, hfov_deg: float, on_robot: bool) -> CameraCfg:
    """An RGB camera rendered by the Newton Warp ray tracer, looking along its +X axis."""
    return CameraCfg(
        prim_path=prim_path,
        offset=CameraCfg.OffsetCfg(pos=CAMERA_POS if on_robot else (0.0, 0.0, 0.0), convention="world"),
        spawn=sim_utils.PinholeCameraCfg(
            focal_length=focal_length_for_fov(hfov_deg), clipping_range=(0.02, 20.0)
        ),
        width=width,
        height=height,
        data_types=["rgb"],
        # a camera on a moving body must follow it
        update_latest_camera_pose=on_robot,
        renderer_cfg=NewtonWarpRendererCfg(),
    )
