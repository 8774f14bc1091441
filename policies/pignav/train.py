"""PIG-Nav training, top to bottom: [MAE on rendered frames] -> pretraining on a mix of scene styles ->
fine-tuning on the target env with a fraction of its demonstrations. Closed-loop validation in the target
env every k steps keeps each stage's best checkpoint. Running it again resumes from the last validation."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from policies.checkpoint import FILENAME, load_checkpoint, save_checkpoint
from policies.pignav.config import FUSIONS, INITS, VIT_SIZES, PigNavConfig
from policies.pignav.mae import init_from_mae_imagenet, pretrain_mae
from policies.pignav.model import PigNavNet
from policies.pignav.policy import PigNavPolicy
from policies.pignav.processing import DemoSet, compute_losses, load_demos, mix, sample_batch
from policies.training import append_csv, better, learning_rate, validate

LOSSES = ["total", "waypoints", "goal", "distance", "path"]
LOG_FIELDS = ["stage", "step", "samples", *(f"loss_{k}" for k in LOSSES), "val_success", "val_spl", "val_steps",
              "seconds"]  # fmt: skip
ARCHITECTURE = ("fusion", "size", "depth", "image_size", "patch_size", "context", "fusion_depth", "head_hidden",
                "waypoints", "path_waypoints", "goal_weight", "distance_weight", "path_weight")  # fmt: skip


def mae_sim_encoder(model: PigNavNet, config: PigNavConfig, data: DemoSet, runs_dir: Path, seed: int) -> Path:
    """Initialise the encoder from our MAE on these frames; the MAE is trained once per setting and kept."""
    tag = f"vit-{config.size}-d{config.depth or 'full'}-{config.image_size}px-p{config.patch_size}-{config.mae_steps}"
    path = (
        runs_dir / "mae-sim" / f"{tag}-{'+'.join(Path(s).parent.name for s in data.sources)}" / "encoder.pt"
    )
    if path.exists():
        print(f"MAE encoder from {path}")
    else:
        losses = pretrain_mae(model.encoder, data.frames, config.mae_steps, config.batch_size,
                              config.mae_mask_ratio, seed=seed)  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"encoder": model.encoder.state_dict(), "losses": losses, "sources": data.sources}, path)
        print(f"MAE loss {losses[0]:.3f} -> {sum(losses[-50:]) / len(losses[-50:]):.3f}; wrote {path}")
    model.encoder.load_state_dict(torch.load(path, weights_only=False)["encoder"])
    return path


def stage_variant(config: PigNavConfig, stage: str) -> str:
    """The table label of a stage's checkpoint: the pretraining stage's is zero-shot."""
    return config.variant() if stage == "finetune" else replace(config, fraction=0.0).variant()


def train_step(model: PigNavNet, optimizer, batch: dict, config: PigNavConfig) -> dict[str, torch.Tensor]:
    """One optimiser step on a batch from `sample_batch`; returns the (detached) losses."""
    model.train()
    out = model(batch["obs"], batch["goal"], batch.get("context"))
    losses = compute_losses(out, batch, config, {name: model.heads.std(name) for name in out})
    optimizer.zero_grad()
    losses["total"].backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    model.eval()
    return {k: v.detach() for k, v in losses.items()}


def train(env, env_name: str, config: PigNavConfig, out_dir: Path, demo_dirs: dict[str, Path],
          val_episodes: list, seed: int = 0, fresh: bool = False, pretrained: Path | None = None,
          mae_weights: Path | None = None, runs_dir: Path = Path("runs")) -> Path:  # fmt: skip
    """Train in the running `env` (cameras on, used for validation); writes out_dir/policy.pt (the last
    stage's best validation), pretrain.pt / finetune.pt (each stage's best) and logs."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    resume_path, log_path = out_dir / "last.pt", out_dir / "train_log.csv"
    stages = []  # (name, demo directories, optimiser steps, fraction of the data)
    if config.pretrain_envs and pretrained is None:
        stages.append(("pretrain", [demo_dirs[e] for e in config.pretrain_envs], config.pretrain_steps, 1.0))
    if config.fraction > 0:
        stages.append(("finetune", [demo_dirs[env_name]], config.finetune_steps, config.fraction))
    model = PigNavNet(config)
    policy = PigNavPolicy(model, config, env.unwrapped.num_envs, "cpu")
    state = {"stage": 0, "step": 0, "best": {}, "done": False, "init": config.init}
    saved = torch.load(resume_path, weights_only=False) if resume_path.exists() and not fresh else None
    if saved is not None and saved["config"] == config.to_dict():
        model.load_state_dict(saved["model"])
        state = saved["state"]
        print(f"resuming from {resume_path} (stage {state['stage']}, step {state['step']})")
    else:
        if saved is not None:
            print(f"{resume_path} was made with other settings; starting afresh")
        log_path.unlink(missing_ok=True)
        if pretrained is not None:
            model.load_state_dict(load_checkpoint(pretrained, config.kind, env_name)["state_dict"])
            state["init"] = f"checkpoint {pretrained}"
        elif config.init == "mae-imagenet":
            init_from_mae_imagenet(model.encoder, mae_weights)
    if state["done"]:
        print(f"{out_dir / FILENAME} is already trained; pass --fresh to train again")
        return out_dir / FILENAME
    writer = SummaryWriter(out_dir / "tensorboard")
    start_time = time.perf_counter()

    for stage_index in range(state["stage"], len(stages)):
        name, dirs, steps, fraction = stages[stage_index]
        data = load_demos(dirs, config, config.demos, fraction)
        if name == "pretrain" and config.pseudo_dirs:
            pseudo = load_demos([Path(d) for d in config.pseudo_dirs], config, None)
            print(
                f"mixing in {pseudo.episodes} pseudo-labelled episodes ({len(pseudo)} steps), {config.pseudo_ratio:.0%} of each batch"
            )
            data = mix(data, pseudo, config.pseudo_ratio)
        print(f"{name}: {data.episodes} episodes, {len(data)} steps from {', '.join(map(str, dirs))}")
        if stage_index == 0 and state["step"] == 0 and pretrained is None:  # a fresh model
            model.heads.set_target_stats(data.targets)  # the heads predict standardised targets
            if config.init == "mae-sim":
                state["init"] = f"mae-sim {mae_sim_encoder(model, config, data, runs_dir, seed)}"
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        if saved is not None and state["step"] > 0 and "optimizer" in saved:
            optimizer.load_state_dict(saved["optimizer"])
        running = {k: 0.0 for k in LOSSES}
        bar = tqdm(
            range(state["step"] + 1, steps + 1), desc=name, unit="step", initial=state["step"], total=steps
        )
        for step in bar:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step - 1, steps, config.lr)
            losses = train_step(model, optimizer, sample_batch(data, config, generator), config)
            global_step = sum(s[2] for s in stages[:stage_index]) + step
            for key, value in losses.items():
                writer.add_scalar(f"{name}/loss_{key}", value.item(), global_step)
                running[key] += value.item()
            bar.set_postfix(loss=f"{losses['total'].item():.3f}")
            if step % config.val_every and step != steps:
                continue
            period = step - (step - 1) // config.val_every * config.val_every  # steps since the last row
            row = {"stage": name, "step": step, "samples": step * config.batch_size,
                   **{f"loss_{k}": v / period for k, v in running.items()},
                   **validate(env, policy, val_episodes, seed), "seconds": round(time.perf_counter() - start_time, 1)}  # fmt: skip
            running = {k: 0.0 for k in LOSSES}
            for key in ("val_success", "val_spl", "val_steps"):
                writer.add_scalar(f"val/{key[4:]}", row[key], global_step)
            bar.write(f"{name} step {step}: loss {row['loss_total']:.4f}, val success {row['val_success']:.1%}, "
                      f"steps {row['val_steps']:.0f}")  # fmt: skip
            if better(row, state["best"].get(name)):
                state["best"][name] = row
                save_checkpoint(out_dir / f"{name}.pt", config.kind, env_name, model.state_dict(), config.to_dict(),
                                variant=stage_variant(config, name), validation=row, init=state["init"],
                                data={"stage": name, "sources": data.sources, "fraction": fraction,
                                      "episodes": data.episodes, "steps": len(data)})  # fmt: skip
            append_csv(log_path, row, LOG_FIELDS)
            # where a rerun resumes: after this step, or at the start of the next stage
            state["stage"], state["step"] = (stage_index + 1, 0) if step == steps else (stage_index, step)
            state["done"] = state["stage"] >= len(stages)
            torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "state": state}, resume_path)  # fmt: skip
        bar.close()
        if stage_index + 1 < len(stages):  # the next stage starts from this one's best
            model.load_state_dict(torch.load(out_dir / f"{name}.pt", weights_only=False)["state_dict"])
        saved = None
    writer.close()
    last = stages[-1][0]
    shutil.copyfile(out_dir / f"{last}.pt", out_dir / FILENAME)
    best = state["best"][last]
    summary = {"checkpoint": str(out_dir / FILENAME), "kind": config.kind, "variant": config.variant(),
               "init": state["init"], "best_validation": state["best"], "config": config.to_dict(),
               "train_seconds": time.perf_counter() - start_time}  # fmt: skip
    (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    print(
        f"best {last} validation: success {best['val_success']:.1%} (step {best['step']}); wrote {out_dir / FILENAME}"
    )
    return out_dir / FILENAME


def add_args(parser) -> None:
    group = parser.add_argument_group("pignav and late_fusion")
    group.add_argument("--size", choices=sorted(VIT_SIZES), default=None, help="ViT size (default tiny)")
    group.add_argument(
        "--depth",
        type=int,
        default=None,
        help="ViT blocks (default: 4 at --profile quick, all of the size's at paper)",
    )
    group.add_argument("--image-size", type=int, default=None, help="model input resolution in px")
    group.add_argument("--patch-size", type=int, default=None)
    group.add_argument("--init", choices=INITS, default=None, help="encoder initialisation (default mae-sim)")
    group.add_argument(
        "--mae-weights", type=Path, default=None, help="timm MAE ViT-B/16 safetensors (mae-imagenet)"
    )
    group.add_argument("--pretrain-envs", nargs="*", default=None, metavar="ENV",
                       help="scene styles mixed for pretraining (default: none)")  # fmt: skip
    group.add_argument("--pseudo", nargs="*", default=None, metavar="DIR",
                       help="pseudo-labelled datasets (policies/idm/label.py) mixed into pretraining")  # fmt: skip
    group.add_argument("--pseudo-ratio", type=float, default=None,
                       help="share of each pretraining batch drawn from --pseudo (default 0.5)")  # fmt: skip
    group.add_argument(
        "--pretrained",
        type=Path,
        default=None,
        help="start from this checkpoint (e.g. another run's pretrain.pt) instead of pretraining",
    )
    group.add_argument(
        "--fraction",
        type=float,
        default=None,
        help="share of the target env's demonstrations to fine-tune on (0: zero-shot; default 1)",
    )
    group.add_argument("--pretrain-steps", type=int, default=None)
    group.add_argument("--finetune-steps", type=int, default=None)
    group.add_argument("--batch-size", type=int, default=None)
    group.add_argument("--val-episodes", type=int, default=20, help="validation episodes per check")
    for head in ("goal", "distance", "path"):
        group.add_argument(
            f"--no-{head}-head", action="store_true", help=f"switch the {head} head off (ablation)"
        )


def config_from_args(args, profile: dict) -> PigNavConfig:
    config = PigNavConfig.from_dict({**PigNavConfig().to_dict(), **profile})
    config.fusion = FUSIONS[0] if args.policy == "pignav" else FUSIONS[1]
    flags = {"size": args.size, "depth": args.depth, "image_size": args.image_size, "patch_size": args.patch_size,
             "init": args.init, "pretrain_envs": args.pretrain_envs, "pseudo_dirs": args.pseudo, "pseudo_ratio": args.pseudo_ratio, "fraction": args.fraction,
             "pretrain_steps": args.pretrain_steps, "finetune_steps": args.finetune_steps,
             "batch_size": args.batch_size, "context": args.context, "demos": args.demos, "val_every": args.val_every}  # fmt: skip
    for key, value in flags.items():
        if value is not None:
            setattr(config, key, value)
    for head in ("goal", "distance", "path"):
        if getattr(args, f"no_{head}_head"):
            setattr(config, f"{head}_weight", 0.0)
    return config


def check_config(config: PigNavConfig, env: str) -> str | None:
    """What is wrong with these settings, or None."""
    if not 0 <= config.fraction <= 1:
        return f"--fraction must be in [0, 1], got {config.fraction}"
    if config.fraction == 0 and not config.pretrain_envs:
        return "--fraction 0 (zero-shot) needs --pretrain-envs or --pretrained"
    if env in config.pretrain_envs and config.fraction == 0:
        return f"zero-shot on {env} cannot pretrain on {env}; leave it out of --pretrain-envs"
    if config.pseudo_dirs and not config.pretrain_envs:
        return "--pseudo data is mixed into pretraining: add --pretrain-envs"
    if not 0 < config.pseudo_ratio < 1:
        return f"--pseudo-ratio must be in (0, 1), got {config.pseudo_ratio}"
    if config.image_size % config.patch_size:
        return f"--image-size {config.image_size} is not a multiple of --patch-size {config.patch_size}"
    if config.context < 0 or config.demos < 1 or config.val_every < 1:
        return "--context must be >= 0, --demos and --val-every >= 1"
    if config.init == "mae-imagenet" and (config.size, config.patch_size) != ("base", 16):
        return "--init mae-imagenet is a ViT-B/16: use --size base --patch-size 16"
    return None


def main(args, parser) -> int:
    """The `policies/train.py --policy pignav|late_fusion` command."""
    from envs.cli import env_cfg_from_args
    from envs.registry import ENVS, EnvConfigError, eval_layout, launch
    from evaluation.episodes import load_episode_set
    from policies.pignav.config import PROFILES
    from policies.pignav.mae import MAEWeightsMissing, mae_imagenet_weights
    from policies.training import ensure_demos

    config = config_from_args(args, PROFILES[args.profile])
    pretrained = args.pretrained
    if pretrained is not None:
        try:
            meta = load_checkpoint(pretrained, config.kind, args.env)
        except ValueError as err:
            parser.error(str(err))
        differs = [k for k in ARCHITECTURE if meta["config"][k] != getattr(config, k)]
        if differs:
            parser.error(
                f"{pretrained} has another architecture ({', '.join(differs)}); pass the same model flags"
            )
        for key in (
            "pretrain_envs",
            "pseudo_dirs",
            "pseudo_ratio",
            "init",
        ):  # what the checkpoint was made from
            setattr(config, key, meta["config"].get(key, getattr(config, key)))
    problem = check_config(config, args.env)
    if problem:
        parser.error(problem)
    unknown = [e for e in config.pretrain_envs if e not in ENVS]
    if unknown:
        parser.error(f"unknown --pretrain-envs {', '.join(unknown)}; choose from {', '.join(ENVS)}")
    if config.init == "mae-imagenet" and pretrained is None:
        try:
            mae_imagenet_weights(args.mae_weights)
        except MAEWeightsMissing as err:
            parser.error(str(err))
    demo_dirs = {e: Path("data") / e / "demos" for e in {*config.pretrain_envs, args.env}}
    demo_dirs[args.env] = args.demos_dir
    needed = [*([] if pretrained else config.pretrain_envs), *([args.env] if config.fraction > 0 else [])]
    for env_name in needed:
        ensure_demos(
            env_name, config.demos, demo_dirs[env_name], args.expert if env_name == "arena" else "planner"
        )
    try:
        args.layout = eval_layout(args.env, "val", args.layout)
    except EnvConfigError as err:
        parser.error(str(err))
    val_episodes = load_episode_set(args.env, args.layout, "val")[: args.val_episodes]
    args.num_envs = min(args.num_envs, len(val_episodes))  # more envs than episodes would idle
    cfg = env_cfg_from_args(parser, args, cameras=True)
    with launch(args.env, cfg) as env:
        train(env, args.env, config, args.out, demo_dirs, val_episodes, args.seed, args.fresh, pretrained,
              args.mae_weights)  # fmt: skip
    return 0
