"""Where goalnav reads and writes: one workspace root, the repository unless $GOALNAV_ROOT (or a
command's --root) says otherwise, so every command works from any folder."""

from __future__ import annotations

import os
from pathlib import Path

ROOT_VARIABLE = "GOALNAV_ROOT"


def repo_root() -> Path:
    """The repository (assets, episode sets, code)."""
    return Path(__file__).resolve().parents[1]


def set_root(root: Path | str | None) -> Path:
    """Use `root` for runs/, data/ and results/ in this process and the processes it starts."""
    if root is not None:
        os.environ[ROOT_VARIABLE] = str(Path(root).expanduser().resolve())
    return workspace_root()


def workspace_root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE) or repo_root())


def runs_dir(env: str, name: str) -> Path:
    """Trained models: runs/<env>/<name>/ (name: expert, siglip_bc, pignav, ...)."""
    return workspace_root() / "runs" / env / name


def data_dir(env: str, name: str = "demos") -> Path:
    """Datasets: data/<env>/<name>/."""
    return workspace_root() / "data" / env / name


def results_dir(env: str, name: str) -> Path:
    """Evaluation results: results/<env>/<name>/."""
    return workspace_root() / "results" / env / name
