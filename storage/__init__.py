"""Files that survive a kill: the workspace root (runs/, data/, results/), atomic writes whose temporary
names no reader mistakes for finished files, and locks that keep two runs out of one folder."""

from storage.atomic import TMP_MARK, DamagedFile, atomic_path, atomic_write_text, clean_debris, read_json
from storage.lock import FolderInUse, FolderLock
from storage.paths import data_dir, repo_root, results_dir, runs_dir, set_root, workspace_root

__all__ = [
    "TMP_MARK",
    "DamagedFile",
    "FolderInUse",
    "FolderLock",
    "atomic_path",
    "atomic_write_text",
    "clean_debris",
    "data_dir",
    "read_json",
    "repo_root",
    "results_dir",
    "runs_dir",
    "set_root",
    "workspace_root",
]
