"""The privileged PPO expert (stable-baselines3 on the state observation, cameras off): its settings,
training, checkpoint and the policy and labeller built from it."""

from experts.ppo.expert import Expert, ExpertPolicy

__all__ = ["Expert", "ExpertPolicy"]
