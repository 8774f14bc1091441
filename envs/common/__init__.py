"""Pieces every goalnav task shares: the robot, its cameras, the physics settings."""

from envs.common.logs import show_repeated_warnings_once

show_repeated_warnings_once()  # before any scene is built
