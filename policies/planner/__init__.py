"""The shortest-path planner with a path-following controller (image-goal scenes; privileged)."""

from policies.planner.policy import PlannerPolicy

__all__ = ["PlannerPolicy"]
