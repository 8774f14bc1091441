"""Kit-less simulation settings: Newton physics (MuJoCo Warp) on CPU or CUDA."""

from __future__ import annotations

from isaaclab.sim import SimulationCfg
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonShapeCfg


def newton_sim_cfg(
    physics_dt: float,
    decimation: int,
    device: str = "cpu",
    nconmax: int = 32,
    njmax: int = 80,
    contact_gap: float | None = None,
) -> SimulationCfg:
    """Newton + MuJoCo Warp with the implicit-fast integrator (the default Euler one blows up).
    nconmax bounds the contact candidates per env: raise it for scenes with many colliders.
    contact_gap: distance [m] at which shapes start making contacts (Isaac Lab's default: 0.01)."""
    shapes = NewtonShapeCfg() if contact_gap is None else NewtonShapeCfg(gap=contact_gap)
    return SimulationCfg(
        dt=physics_dt,
        device=device,
        render_interval=decimation,
        physics=NewtonCfg(
            solver_cfg=MJWarpSolverCfg(
                integrator="implicitfast", cone="pyramidal", njmax=njmax, nconmax=nconmax
            ),
            num_substeps=1,
            default_shape_cfg=shapes,
            use_cuda_graph=device.startswith("cuda"),
        ),
    )
