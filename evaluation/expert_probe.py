"""What a PPO expert does on a fixed episode set (cameras off): its raw outputs u = (speed, turn) before
the clip to [-1, 1], how often the turn sits at the clip, gSDE's exploration noise at the visited states,
and the pace it drives at, beside (arena) the fastest the robot could: spin to face the target, then
straight at top speed. `--reference` drives a scripted controller on the privileged state instead (full
speed, steering at the target), whose pace counts what the bound leaves out: the wheels' acceleration,
slip and the 30 Hz control.

    python evaluation/expert_probe.py --env arena --layout paper --checkpoint runs/arena/expert
    python evaluation/expert_probe.py --env arena --layout paper --reference
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.cli import add_env_args, make_parser, parse


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    add_env_args(parser, num_envs=50)
    parser.add_argument("--checkpoint", type=Path, default=None, help="expert zip or run folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--episodes", type=int, default=None, help="the first N episodes of the set")
    parser.add_argument("--reference", action="store_true",
                        help="arena: drive the scripted reference controller instead of an expert")  # fmt: skip
    args = parse(parser, argv)
    if args.reference and args.env != "arena":
        parser.error("--reference drives the arena's scripted controller; the scenes have the planner")

    import numpy as np

    from envs.registry import eval_layout, open_env
    from episodes.sets import load_episode_set
    from experts.ppo.expert import ExpertPolicy
    from rollouts.closed_loop import run_episodes
    from storage import runs_dir

    layout = eval_layout(args.env, args.split, args.layout)
    episodes = load_episode_set(args.env, layout, args.split)[: args.episodes]
    checkpoint = args.checkpoint or runs_dir(args.env, "expert")
    outputs, noise = [], []
    with open_env(args.env, args.num_envs, args.device, cameras=False, layout=layout) as env:
        if args.reference:
            result = run_episodes(env, ScriptedReference(), episodes, seed=args.seed, progress=False)
        else:
            expert = ExpertPolicy(checkpoint, args.env, env.unwrapped.device)  # --device: the simulation's
            result = probe(env, expert, episodes, args.seed, outputs, noise)
        dt = env.unwrapped.step_dt  # seconds per policy step
    won = [r for r in result.records if r.success]
    # the arena has no walls, so spinning to face the target and driving straight bounds the pace
    if won and hasattr(episodes[0], "sphere_xy"):
        from envs.common.robot import fastest_time

        reach = env.unwrapped.cfg.success_radius
        bound = [fastest_time(e.start_xy, e.start_yaw, e.sphere_xy[e.target], reach) / dt
                 for e in (episodes[r.episode_id] for r in won)]  # fmt: skip
    else:
        bound = None
    report = {
        "episodes": len(result.records),
        "success_rate": len(won) / max(len(result.records), 1),
        "mean_steps_successful": float(np.mean([r.steps for r in won])) if won else None,
        "speed_m_per_s_successful": float(np.mean([r.path_length / r.steps for r in won])) / dt
        if won
        else None,
        "lower_bound_steps_successful": float(np.mean(bound)) if bound else None,
        "mean_collisions": float(np.mean([r.collisions for r in result.records])),
    }
    if outputs:
        u = np.concatenate(outputs)
        report |= {
            "u_speed_mean": float(u[:, 0].mean()),
            "u_speed_at_least_0": float((u[:, 0] >= 0).mean()),
            "u_turn_abs_mean": float(np.abs(u[:, 1]).mean()),
            "turn_at_clip": float((np.abs(u[:, 1]) >= 1).mean()),
            "gsde_noise_std": np.concatenate(noise).mean(0).round(3).tolist() if noise else None,
        }
    print(json.dumps(report, indent=1))
    return 0


def probe(env, policy, episodes: list, seed: int, outputs: list, noise: list):
    """Run the PPO expert `policy`, appending its raw outputs u and gSDE's noise std at each step."""
    import torch

    from rollouts.closed_loop import run_episodes

    sb3 = policy.expert.model.policy

    def act(obs: dict) -> torch.Tensor:
        state = obs["policy"].to(policy.expert.device)
        with torch.no_grad():
            latent = sb3.mlp_extractor.forward_actor(sb3.extract_features(state, sb3.pi_features_extractor))
            outputs.append(sb3.action_net(latent).cpu().numpy())
            if policy.expert.model.use_sde:  # gSDE: std of latent . noise matrix, per action
                std = sb3.action_dist.get_std(sb3.log_std)
                noise.append(torch.sqrt((latent**2) @ (std**2)).cpu().numpy())
        return policy.expert(state)

    policy.act = act
    return run_episodes(env, policy, episodes, seed=seed, progress=False)


class ScriptedReference:
    """Arena reference controller on the privileged state: full speed ahead, steering at the target
    (turn = `gain` x bearing), and spinning in place only while the target is more than `aligned` rad off.
    Measured on the paper set: spinning until within 0.3 rad took 150.9 steps, arcs as here 125.2 (the
    bound assumes wheels that reverse at once; these accelerate)."""

    kind, metadata = "reference", {}

    def __init__(self, aligned: float = 1.6, gain: float = 1.0):
        self.aligned, self.gain = aligned, gain

    def reset(self, env_ids) -> None:
        pass

    def act(self, obs: dict):
        import torch

        from envs.arena.arena_env_cfg import STATE_TARGET

        target = obs["policy"][:, STATE_TARGET]
        bearing = torch.atan2(target[:, 1], target[:, 0])
        turn = (self.gain * bearing).clamp(-1, 1)
        forward = (bearing.abs() < self.aligned).float()
        return torch.stack([forward - turn, forward + turn], dim=-1).clamp(-1, 1)


if __name__ == "__main__":
    raise SystemExit(main())
