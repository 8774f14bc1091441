"""Uniformly random wheel commands: the floor every policy must beat."""

from policies.random_policy.policy import RandomPolicy

__all__ = ["RandomPolicy"]
