"""Driving policies in running envs: closed-loop runs over fixed episode sets, recording episodes
(demonstrations, DAgger), replays, the metrics of each episode and the frames of its video."""
