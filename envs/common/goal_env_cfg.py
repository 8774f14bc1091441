"""Settings every goalnav task shares: control rates, cameras, the shaped reward, contact buffers."""

from __future__ import annotations

from isaaclab.envs import DirectRLEnvCfg
from isaaclab.sim import SimulationCfg
from isaaclab.utils import configclass

from envs.common.robot import camera_cfg
from envs.common.sim import newton_sim_cfg


@configclass
class GoalNavEnvCfg(DirectRLEnvCfg):
    # control: 60 Hz physics, 30 Hz actions. Measured on CPU: 60 Hz drives like 120 Hz (straight, turn,
    # arc within 4%) at 1.8x the speed; 30 Hz halves the arc turn rate.
    physics_dt: float = 1.0 / 60.0
    decimation = 2
    action_space = 2  # [left, right] wheel speed, normalised to [-1, 1]
    state_space = 0
    sim: SimulationCfg = newton_sim_cfg(physics_dt=1.0 / 60.0, decimation=2)
    nconmax: int = 32
    """MuJoCo contact candidates per env (raise it for scenes with many colliders)."""
    contact_gap: float | None = None
    """Distance [m] at which shapes start making contacts (None: Isaac Lab's default, 0.01)."""
    cpu_graph: bool = True
    """On a CPU, replay each physics step as a recorded Warp graph instead of launching its kernels
    from Python (see envs/common/sim.py)."""

    end_on_collision: bool = False
    """End the episode (terminated, not successful) on the first wall contact."""

    # cameras
    cameras: bool = True
    """Render the egocentric and goal cameras. Off for state-only training (much faster)."""
    camera_width: int = 64
    camera_height: int = 64
    camera_hfov_deg: float = 90.0

    # rewards (PPO shaping)
    rew_progress: float = 10.0
    """Per metre of distance to the goal closed."""
    rew_success: float = 10.0
    rew_collision: float = -0.1
    """Per step in contact with a wall."""
    rew_time: float = -0.05
    """Per step."""

    def configure(self) -> None:
        """Apply the camera, contact and device settings; the env calls this before building the scene."""
        viewers = self.sim.visualizer_cfgs  # chosen by the caller (envs/viz.py); keep them
        self.sim = newton_sim_cfg(self.physics_dt, self.decimation, device=self.sim.device, nconmax=self.nconmax,
                                  contact_gap=self.contact_gap, cpu_graph=self.cpu_graph)  # fmt: skip
        self.sim.visualizer_cfgs = viewers
        if self.cameras:
            w, h, fov = self.camera_width, self.camera_height, self.camera_hfov_deg
            self.scene.ego_camera = camera_cfg(
                "{ENV_REGEX_NS}/Robot/base/ego_camera", w, h, fov, on_robot=True
            )
            self.scene.goal_camera = camera_cfg("{ENV_REGEX_NS}/goal_camera", w, h, fov, on_robot=False)
        else:
            self.scene.ego_camera = self.scene.goal_camera = None
