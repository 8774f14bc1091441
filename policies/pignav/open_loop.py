"""Open-loop accuracy of a PIG-Nav or late-fusion model on demonstrations: how far its waypoints and
distance are from the expert's, frame by frame, for hindsight goals a fixed number of steps ahead and for
each episode's final goal, always beside a baseline that predicts the mean target of the model's training
data. It tells models apart where closed-loop success sits at the floor
(`python evaluation/open_loop.py --checkpoint RUN/pretrain.pt --demos data/halls/demos`)."""

from __future__ import annotations

import torch

from policies.images import to_model_images
from policies.pignav.config import PigNavConfig
from policies.pignav.model import PigNavNet
from policies.pignav.processing import DemoSet, context_images, hindsight_targets

HINDSIGHT_STEPS = (15, 60, 150)  # goals about 0.2, 0.8 and 2 m ahead at the planner's pace


@torch.no_grad()
def open_loop_errors(model: PigNavNet, config: PigNavConfig, data: DemoSet, batch: int = 256, stride: int = 1,
                     deltas: tuple[int, ...] = HINDSIGHT_STEPS) -> dict:  # fmt: skip
    """Mean errors [m] over every `stride`-th frame of `data`, of the model and of its training-mean
    baseline: for each episode's final goal ("final") and for hindsight goals `deltas` steps ahead. The model
    runs on its own device; `data` stays on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    frames = torch.arange(0, len(data), stride)
    kinds = {"final": None, **({f"hindsight_{d}": d for d in deltas} if data.pose is not None else {})}
    report = {"frames": len(frames), "episodes": data.episodes, "sources": data.sources}
    for kind, delta in kinds.items():
        sums = {
            "model": dict.fromkeys(
                ("waypoint_error_m", "lookahead_waypoint_error_m", "distance_error_m"), 0.0
            )
        }
        sums["baseline"] = dict(sums["model"])
        for index in frames.split(batch):
            obs = to_model_images(data.frames[index], config.image_size)
            if delta is None:
                goal_images, targets = (
                    data.goals[data.episode[index]],
                    {k: v[index] for k, v in data.targets.items()},
                )
            else:
                g = torch.minimum(index + delta, data.end[index])
                goal_images, targets = data.frames[g], hindsight_targets(data, index, g, config)
            context = context_images(data, index, config).to(device) if config.context else None
            out = model(obs.to(device), to_model_images(goal_images, config.image_size).to(device), context)
            out = {k: v.cpu() for k, v in out.items()}
            mean = {
                k: getattr(model.heads, f"{k}_mean").cpu().expand(len(index), *model.heads.shapes[k])
                for k in out
            }
            for name, prediction in (("model", out), ("baseline", mean)):
                xy = (prediction["waypoints"][..., :2] - targets["waypoints"][..., :2]).norm(dim=-1)
                xy = xy * config.waypoint_spacing  # (B, K) metres
                sums[name]["waypoint_error_m"] += xy.mean(-1).sum().item()
                sums[name]["lookahead_waypoint_error_m"] += xy[:, config.lookahead].sum().item()
                if "distance" in prediction:
                    error = (prediction["distance"] - targets["distance"]).abs() * config.distance_scale
                    sums[name]["distance_error_m"] += error.sum().item()
        report[kind] = {
            f"{prefix}{k}": v / len(frames)
            for name, prefix in (("model", ""), ("baseline", "mean_target_baseline_"))
            for k, v in sums[name].items()
            if "distance" in model.heads.shapes or "distance" not in k
        }
    return report


def open_loop_score(report: dict) -> float:
    """One number to keep the best checkpoint by: minus the mean lookahead-waypoint error [m] over the
    goal kinds measured (the waypoint the controller steers at)."""
    errors = [v["lookahead_waypoint_error_m"] for k, v in report.items() if isinstance(v, dict)]
    return -sum(errors) / len(errors)


def open_loop_report(ckpt: dict, path, demos: list, episodes: int, heldout: bool, device: str = "cpu"
                     ) -> tuple[dict, None]:  # fmt: skip
    """evaluation/open_loop.py on a PIG-Nav or late-fusion checkpoint, its model on `device`: on every episode
    of `demos`, or with `heldout` only on those its config held out of training."""
    from dataclasses import replace

    from policies.pignav.policy import PigNavPolicy
    from policies.pignav.processing import load_demos

    policy = PigNavPolicy.from_checkpoint(ckpt, num_envs=1, device=device)
    config = policy.config if heldout else replace(policy.config, heldout=0.0)
    data = load_demos(demos, config, episodes, heldout=heldout)
    return {"checkpoint": str(path), **open_loop_errors(policy.model, policy.config, data)}, None
