"""Uniformly random wheel commands: the floor every policy must beat."""

from policies.random.policy import RandomPolicy

__all__ = ["RandomPolicy"]
