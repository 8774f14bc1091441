"""RL agent configs for the image-goal scenes."""
