"""RL agent configs for the arena."""
