"""Live viewers for a running simulation: Isaac Lab's visualizers, chosen by name.

viser and rerun serve on loopback unless asked otherwise; Kit needs the Isaac Sim extra.
"""

from __future__ import annotations

import importlib.util

VIZ_CHOICES = ("none", "newton_gl", "viser", "rerun", "kit")
# what each viewer needs installed, and how to get it
REQUIRES = {
    "viser": ("viser", "it ships with goalnav; run `make setup`"),
    "rerun": ("rerun", "install it with `uv sync --extra rerun` (about 220 MB)"),
    "newton_gl": ("pyglet", "run `make setup`"),
    "kit": ("isaacsim", "install the Isaac Sim extra (README, 'Isaac Sim') or use the isaacsim container"),
}


class VizUnavailable(RuntimeError):
    """The viewer asked for is not installed here; the message says how to get it."""


def check_available(viz: str) -> None:
    """Raise VizUnavailable, saying how to install it, when the viewer's package is missing."""
    module, how = REQUIRES[viz]
    if importlib.util.find_spec(module) is None:
        raise VizUnavailable(f"--viz {viz} needs the {module!r} package, which is not installed: {how}")


def visualizer_cfgs(viz: str, host: str = "127.0.0.1", port: int | None = None) -> list:
    """Isaac Lab visualizer configs for `viz` (empty for none). `port`: viser's or rerun's web port."""
    if viz not in VIZ_CHOICES:
        raise ValueError(f"unknown viewer {viz!r}; choose one of: {', '.join(VIZ_CHOICES)}")
    if viz == "none":
        return []
    check_available(viz)
    if viz == "viser":
        from isaaclab_visualizers.viser import ViserVisualizerCfg

        patch_viser_viewer()

        return [
            ViserVisualizerCfg(bind_address=host, display_address=host, port=port or 8080, open_browser=False)
        ]
    if viz == "rerun":
        from isaaclab_visualizers.rerun import RerunVisualizerCfg

        return [RerunVisualizerCfg(bind_address=host, web_port=port or 9090, open_browser=False)]
    if viz == "newton_gl":
        from isaaclab_visualizers.newton import NewtonGLVisualizerCfg

        return [NewtonGLVisualizerCfg()]
    from isaaclab_visualizers.kit import KitVisualizerCfg

    return [KitVisualizerCfg()]


def _to_numpy(array):
    """A Warp array, torch tensor or array-like as a numpy array (None stays None)."""
    import numpy as np

    if array is None:
        return None
    if hasattr(array, "detach"):  # torch
        return array.detach().cpu().numpy()
    if hasattr(array, "numpy"):  # warp
        return array.numpy()
    return np.asarray(array)


def patch_viser_viewer() -> None:
    """Isaac Lab 3.0's viser visualizer calls `_to_numpy` on Newton's ViewerViser, which newton 1.6.1 lacks:
    the first frame a browser asked for stopped the server ("Error stepping visualizer 'ViserVisualizer':
    NewtonViewerViser object has no attribute '_to_numpy'"). Supply it where it is missing."""
    from isaaclab_visualizers.viser.viser_visualizer import NewtonViewerViser

    if not hasattr(NewtonViewerViser, "_to_numpy"):
        NewtonViewerViser._to_numpy = staticmethod(_to_numpy)


def apply_viz(cfg, viz: str, host: str = "127.0.0.1", port: int | None = None):
    """Set the env cfg's visualizers; returns the cfg."""
    cfg.sim.visualizer_cfgs = visualizer_cfgs(viz, host, port)
    return cfg
