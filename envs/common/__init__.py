"""Pieces every goalnav task shares: the robot, its cameras, the physics settings."""
