"""Inverse dynamics model: relative motion and wheel action between frames t and t+k, from images alone;
trained on demonstrations, used to pseudo-label action-free videos for PIG-Nav pretraining."""

from policies.idm.config import IDMConfig
from policies.idm.model import IDMNet

__all__ = ["IDMConfig", "IDMNet"]
