"""From intentions to wheel commands: the waypoint controller (PIG-Nav, the planner) and the
forward-unicycle action mapping (the PPO expert)."""

from control.controller import steer_to
from control.unicycle import to_wheels

__all__ = ["steer_to", "to_wheels"]
