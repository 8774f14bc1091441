"""Open-loop accuracy of a PIG-Nav or late-fusion checkpoint on demonstrations: how far its waypoints
and distance are from the expert's, frame by frame, beside a baseline that predicts the mean target of
the model's training data. It tells models apart where closed-loop success sits at the floor
(`python evaluation/open_loop.py --checkpoint RUN/pretrain.pt --demos data/halls/demos`)."""

from __future__ import annotations

import torch

from policies.images import to_model_images
from policies.pignav.config import PigNavConfig
from policies.pignav.model import PigNavNet
from policies.pignav.processing import DemoSet, context_images


@torch.no_grad()
def open_loop_errors(model: PigNavNet, config: PigNavConfig, data: DemoSet, batch: int = 256) -> dict:
    """Mean errors [m] over every frame of `data`, of the model and of its training-mean baseline."""
    model.eval()
    heads = model.heads
    sums = {"waypoint_error_m": 0.0, "lookahead_waypoint_error_m": 0.0, "distance_error_m": 0.0}
    baseline = dict.fromkeys(sums, 0.0)
    for index in torch.arange(len(data)).split(batch):
        obs = to_model_images(data.frames[index], config.image_size)
        goal = to_model_images(data.goals[data.episode[index]], config.image_size)
        out = model(obs, goal, context_images(data, index, config) if config.context else None)
        target = data.targets
        for result, prediction in (
            (sums, out),
            (baseline, {k: getattr(heads, f"{k}_mean") for k in heads.shapes}),
        ):
            xy = (prediction["waypoints"][..., :2] - target["waypoints"][index][..., :2]).norm(dim=-1)
            xy = xy.expand(len(index), -1) * config.waypoint_spacing  # (B, K) metres
            result["waypoint_error_m"] += xy.mean(-1).sum().item()
            result["lookahead_waypoint_error_m"] += xy[:, config.lookahead].sum().item()
            if "distance" in prediction:
                error = (prediction["distance"] - target["distance"][index]).abs() * config.distance_scale
                result["distance_error_m"] += error.expand(len(index), 1).sum().item()
    report = {"frames": len(data), "episodes": data.episodes, "sources": data.sources}
    for prefix, result in (("", sums), ("mean_target_baseline_", baseline)):
        report |= {
            prefix + k: v / len(data) for k, v in result.items() if "distance" in out or "distance" not in k
        }
    return report
