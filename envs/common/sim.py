"""Kit-less simulation settings: Newton physics (MuJoCo Warp) on CPU or CUDA."""

from __future__ import annotations

from isaaclab.sim import SimulationCfg
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg


def newton_sim_cfg(physics_dt: float, decimation: int, device: str = "cpu") -> SimulationCfg:
    """Newton + MuJoCo Warp with the implicit-fast integrator (the default Euler one blows up)."""
    return SimulationCfg(
        dt=physics_dt,
        device=device,
        render_interval=decimation,
        physics=NewtonCfg(
            solver_cfg=MJWarpSolverCfg(integrator="implicitfast", cone="pyramidal", njmax=80, nconmax=32),
            num_substeps=1,
            use_cuda_graph=device.startswith("cuda"),
        ),
    )
