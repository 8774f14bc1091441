"""Isaac Lab warnings that say the same thing once per asset: shown once per process.

Newton's articulation data warns "Failed to get root com velocity" for every fixed-base articulation
when the scene is built: the arena's 5 spheres, the scenes' 52 wall blocks and 8 landmarks per env
template, 60 identical lines at every start. Fixed-base pieces have no root velocity; that is expected.
"""

from __future__ import annotations

import logging

REPEATED = {
    "isaaclab_newton.assets.articulation.articulation_data": ("Failed to get root com velocity",),
    "isaaclab_newton.assets.rigid_object.rigid_object_data": ("Failed to get root com velocity",),
}


class ShowOnce(logging.Filter):
    """Let the first record that starts with one of `prefixes` through (marked as shown once), drop the
    rest; other records pass."""

    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes
        self.seen: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        prefix = next((p for p in self.prefixes if message.startswith(p)), None)
        if prefix is None:
            return True
        self.seen[prefix] = self.seen.get(prefix, 0) + 1
        if self.seen[prefix] > 1:
            return False
        record.msg, record.args = f"{message} (fixed-base pieces; shown once)", None
        return True


def show_repeated_warnings_once() -> None:
    """Install the filters (idempotent)."""
    for name, prefixes in REPEATED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, ShowOnce) for f in logger.filters):
            logger.addFilter(ShowOnce(prefixes))
