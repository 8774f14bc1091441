"""Privileged experts (PPO on state) and demonstration collection."""
