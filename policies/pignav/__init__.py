"""PIG-Nav: early-fusion image-goal navigation (ViT over observation and goal patches), its late-fusion
baseline, MAE initialisation and the waypoint controller's policy."""

from policies.pignav.config import PROFILES, PigNavConfig
from policies.pignav.policy import PigNavPolicy

__all__ = ["PROFILES", "PigNavConfig", "PigNavPolicy"]
