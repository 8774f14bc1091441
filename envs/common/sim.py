"""Kit-less simulation settings: Newton physics (MuJoCo Warp) on CPU or CUDA."""

from __future__ import annotations

from collections.abc import Callable

import warp as wp
from isaaclab.sim import SimulationCfg
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonShapeCfg
from isaaclab_newton.physics.mjwarp_manager import NewtonMJWarpManager


class NewtonCPUGraphMJWarpManager(NewtonMJWarpManager):
    """MuJoCo Warp whose physics step is recorded once and replayed as a Warp CPU graph.

    Isaac Lab captures the step as a CUDA graph on GPUs only, so on a CPU every step pays Python's
    cost of launching each of its Warp kernels. Warp 1.17 records CPU launches as well (without
    running them) and replays them from C++. The recording is dropped wherever Isaac Lab
    would capture its CUDA graph again (solver setup, a new decimation). The name must start with
    "Newton": Isaac Lab picks the asset backends by the manager's class name."""

    _cpu_graphs: dict[str, wp.Graph] = {}  # one per step function Isaac Lab would capture

    @classmethod
    def _replay(cls, name: str, step: Callable[[], None]) -> None:
        if name not in cls._cpu_graphs:
            with wp.ScopedCapture(device="cpu") as capture:  # records without running
                step()
            cls._cpu_graphs[name] = capture.graph
        wp.capture_launch(cls._cpu_graphs[name])

    @classmethod
    def _simulate_full(cls) -> None:  # actuators and solver (all actuators graph-safe)
        cls._replay("full", super()._simulate_full)

    @classmethod
    def _simulate_physics_only(cls) -> None:  # the solver (actuators stepped eagerly)
        cls._replay("physics", super()._simulate_physics_only)

    @classmethod
    def _invalidate_graph(cls) -> None:
        cls._cpu_graphs = {}
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
    cpu_graph: on a CPU, replay each physics step as a recorded Warp graph (NewtonCPUGraphMJWarpManager)."""
    shapes = NewtonShapeCfg() if contact_gap is None else NewtonShapeCfg(gap=contact_gap)
    cuda = device.startswith("cuda")
    solver = MJWarpSolverCfg(integrator="implicitfast", cone="pyramidal", njmax=njmax, nconmax=nconmax)
    if cpu_graph and not cuda:
        solver.class_type = NewtonCPUGraphMJWarpManager
    return SimulationCfg(
        dt=physics_dt,
        device=device,
        render_interval=decimation,
        physics=NewtonCfg(solver_cfg=solver, num_substeps=1, default_shape_cfg=shapes, use_cuda_graph=cuda),
    )
