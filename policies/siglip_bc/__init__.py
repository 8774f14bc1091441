"""Behaviour cloning on frozen vision-language embeddings (the frozen-SigLIP study, then beyond it)."""

from policies.siglip_bc.config import PROFILES, SiglipBCConfig
from policies.siglip_bc.policy import SiglipBCPolicy

__all__ = ["PROFILES", "SiglipBCConfig", "SiglipBCPolicy"]
