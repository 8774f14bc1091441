"""Kit-less simulation settings: Newton physics (MuJoCo Warp) on CPU or CUDA."""

from __future__ import annotations

import warp as wp
from isaaclab.sim import SimulationCfg
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonShapeCfg
from isaaclab_newton.physics.mjwarp_manager import NewtonMJWarpManager


class CPUGraphMJWarpManager(NewtonMJWarpManager):
    """MuJoCo Warp whose physics step is recorded once and replayed as a Warp CPU graph.

    Isaac Lab captures the step as a CUDA graph on GPUs only, so on a CPU every step pays Python's
    cost of launching each of its Warp kernels. Warp 1.17 records CPU launches as well (executing
    them while it records) and replays them from C++. The recording is dropped wherever Isaac Lab
    would capture its CUDA graph again (solver setup, a new decimation)."""

    _cpu_graph: wp.Graph | None = None

    @classmethod
    def _simulate_full(cls) -> None:
        if cls._cpu_graph is not None:
            wp.capture_launch(cls._cpu_graph)
            return
        with wp.ScopedCapture(device="cpu") as capture:
            super()._simulate_full()
        cls._cpu_graph = capture.graph

    @classmethod
    def _invalidate_graph(cls) -> None:
        cls._cpu_graph = None
        super()._invalidate_graph()


def newton_sim_cfg(
    physics_dt: float,
    decimation: int,
    device: str = "cpu",
    nconmax: int = 32,
    njmax: int = 80,
    contact_gap: float | None = None,
    cpu_graph: bool = True,
) -> SimulationCfg:
    """Newton + MuJoCo Warp with the implicit-fast integrator (the default Euler one blows up).
    nconmax bounds the contact candidates per env: raise it for scenes with many colliders.
    contact_gap: distance [m] at which shapes start making contacts (Isaac Lab's default: 0.01).
    cpu_graph: on a CPU, replay each physics step as a recorded Warp graph (CPUGraphMJWarpManager)."""
    shapes = NewtonShapeCfg() if contact_gap is None else NewtonShapeCfg(gap=contact_gap)
    cuda = device.startswith("cuda")
    solver = MJWarpSolverCfg(integrator="implicitfast", cone="pyramidal", njmax=njmax, nconmax=nconmax)
    if cpu_graph and not cuda:
        solver.class_type = CPUGraphMJWarpManager
    return SimulationCfg(
        dt=physics_dt,
        device=device,
        render_interval=decimation,
        physics=NewtonCfg(solver_cfg=solver, num_substeps=1, default_shape_cfg=shapes, use_cuda_graph=cuda),
    )
