"""The privileged PPO expert (trained by experts/train.py) behind the policy interface."""

from policies.expert.policy import ExpertPolicy

__all__ = ["ExpertPolicy"]
