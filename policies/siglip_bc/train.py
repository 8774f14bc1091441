"""SigLIP-BC training: demonstrations -> embedding cache -> MLP on MSE, validated in closed loop,
then optional DAgger rounds. Resumes from the last validation when run again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter

from experts import expert_zip
from experts.collect import collect
from experts.dataset import episode_files
from policies.checkpoint import FILENAME, save_checkpoint
from policies.context import context_indices
from policies.encoders import FrozenEncoder
from policies.encoders.cache import build_cache, load_cache
from policies.siglip_bc.config import SiglipBCConfig
from policies.siglip_bc.policy import KIND, SiglipBCPolicy, build_model
from policies.siglip_bc.processing import episode_inputs
from policies.training import append_csv, better, ensure_demos, validate

LOG_FIELDS = ["round", "epoch", "samples", "train_loss", "val_success", "val_spl", "val_steps", "seconds"]


def training_data(demos_dir: Path, dagger_dir: Path, encoder: FrozenEncoder, config: SiglipBCConfig):
    """(inputs, labels, episode starts, episodes): the first `config.demos` demonstrations + DAgger data."""
    episodes = load_cache(build_cache(demos_dir, encoder))[: config.demos]
    if episode_files(dagger_dir):
        episodes += load_cache(build_cache(dagger_dir, encoder))
    return (*episode_inputs(episodes, config.renormalize), len(episodes))


def train_epoch(model, optimizer, inputs, labels, starts, config: SiglipBCConfig) -> float:
    model.train()
    order, total = torch.randperm(len(labels)), 0.0
    for batch in order.split(config.batch_size):
        x = inputs[context_indices(batch, starts[batch], config.context)].flatten(1)
        loss = F.mse_loss(model(x), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    model.eval()
    return total / len(labels)


def train(env, env_name: str, config: SiglipBCConfig, encoder: FrozenEncoder, out_dir: Path, demos_dir: Path,
          expert, val_episodes: list, seed: int = 0, fresh: bool = False) -> Path:  # fmt: skip
    """Train in the running `env` (cameras on); writes out_dir/policy.pt (the best validation) and logs.
    `expert` maps privileged states to wheel commands: it labels the DAgger rollouts."""
    torch.manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    resume_path, log_path = out_dir / "last.pt", out_dir / "train_log.csv"
    dagger_dir = demos_dir.parent / "dagger" / out_dir.name
    model = build_model(config, encoder.dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    num_envs = env.unwrapped.num_envs
    policy = SiglipBCPolicy(model, encoder, config, num_envs, "cpu")
    state = {"round": 0, "epoch": 0, "best": None, "done": False}
    if resume_path.exists() and not fresh:
        saved = torch.load(resume_path, weights_only=False)
        if saved["config"] == config.to_dict() and saved["encoder"] == encoder.name:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            state = saved["state"]
            print(f"resuming from {resume_path} (round {state['round']}, epoch {state['epoch']})")
        else:
            print(f"{resume_path} was made with other settings; starting afresh")
    if state["done"]:
        print(f"{out_dir / FILENAME} is already trained; pass --fresh to train again")
        return out_dir / FILENAME
    if state["epoch"] == 0 and state["round"] == 0 and log_path.exists():
        log_path.unlink()
    writer = SummaryWriter(out_dir / "tensorboard")
    start_time = time.perf_counter()

    for round_index in range(state["round"], config.dagger_iterations + 1):
        if round_index > 0 and state["epoch"] == 0:  # DAgger: the student drives, the expert labels
            target = round_index * config.dagger_episodes
            have = len(episode_files(dagger_dir))
            if have < target:
                dagger_dir.mkdir(parents=True, exist_ok=True)
                collect(env, expert, dagger_dir, env_name, target - have, have, seed + 7919 * round_index,
                        action_noise=0.0, keep_all=True, driver=policy)  # fmt: skip
        inputs, labels, starts, n_episodes = training_data(demos_dir, dagger_dir, encoder, config)
        epochs = config.epochs if round_index == 0 else config.dagger_epochs
        val_every = config.val_every if round_index == 0 else epochs
        for epoch in range(state["epoch"] + 1, epochs + 1):
            loss = train_epoch(model, optimizer, inputs, labels, starts, config)
            step = round_index * 1000 + epoch
            writer.add_scalar("train/loss", loss, step)
            if epoch % val_every and epoch != epochs:
                continue
            row = {"round": round_index, "epoch": epoch, "samples": len(labels), "train_loss": loss,
                   **validate(env, policy, val_episodes, seed), "seconds": time.perf_counter() - start_time}  # fmt: skip
            for key in ("val_success", "val_spl", "val_steps"):
                writer.add_scalar(f"val/{key[4:]}", row[key], step)
            print(f"round {round_index} epoch {epoch}: loss {loss:.4f}, val success {row['val_success']:.1%}, "
                  f"steps {row['val_steps']:.0f}")  # fmt: skip
            if better(row, state["best"]):
                state["best"] = row
                save_checkpoint(out_dir / FILENAME, KIND, env_name, model.state_dict(), config.to_dict(),
                                encoder=encoder.name, variant=config.variant(), validation=row,
                                data={"demos": str(demos_dir), "demo_episodes": config.demos,
                                      "dagger": str(dagger_dir), "episodes": n_episodes, "steps": len(labels)})  # fmt: skip
            append_csv(log_path, row, LOG_FIELDS)
            # where a rerun resumes: after this epoch, or at the start of the next round
            state["round"], state["epoch"] = (round_index + 1, 0) if epoch == epochs else (round_index, epoch)
            state["done"] = state["round"] > config.dagger_iterations
            torch.save({"config": config.to_dict(), "encoder": encoder.name, "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(), "state": state}, resume_path)  # fmt: skip
    writer.close()
    best = state["best"]
    summary = {"checkpoint": str(out_dir / FILENAME), "encoder": encoder.name, "variant": config.variant(),
               "best_validation": best, "config": config.to_dict(), "train_seconds": time.perf_counter() - start_time}  # fmt: skip
    (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"best validation: success {best['val_success']:.1%} (round {best['round']}, epoch {best['epoch']}); "
          f"wrote {out_dir / FILENAME}")  # fmt: skip
    return out_dir / FILENAME


def add_args(parser) -> None:
    group = parser.add_argument_group("siglip_bc")
    group.add_argument("--encoder", default="auto",
                       help="siglip-so400m, siglip-b16, clip-b32, tiny-siglip or pixels; auto: siglip-so400m "
                            "if its weights are here, else the offline pixels encoder")  # fmt: skip
    group.add_argument("--encoder-weights", type=Path, default=None, help="local open_clip model folder")
    group.add_argument("--renormalize", action="store_true", help="L2-normalise the joint embedding again")
    group.add_argument("--dagger", type=int, default=None, help="DAgger rounds (default 0)")
    group.add_argument("--dagger-episodes", type=int, default=None, help="student episodes per DAgger round")
    group.add_argument("--epochs", type=int, default=None)
    group.add_argument("--hidden", type=int, nargs="+", default=None, help="MLP widths (default 512 512)")


def config_from_args(args, profile: dict) -> SiglipBCConfig:
    config = SiglipBCConfig.from_dict({**SiglipBCConfig().to_dict(), **profile})
    flags = {"renormalize": args.renormalize or None, "context": args.context, "dagger_iterations": args.dagger,
             "dagger_episodes": args.dagger_episodes, "epochs": args.epochs, "val_every": args.val_every,
             "demos": args.demos, "hidden": args.hidden}  # fmt: skip
    for key, value in flags.items():
        if value is not None:
            setattr(config, key, value)
    return config


def main(args, parser) -> int:
    """The `policies/train.py --policy siglip_bc` command."""
    from envs.cli import env_cfg_from_args
    from envs.registry import EnvConfigError, eval_layout, launch
    from evaluation.episodes import load_episode_set
    from policies.encoders import EncoderWeightsMissing, make_encoder, resolve_encoder_name
    from policies.siglip_bc.config import PROFILES

    config = config_from_args(args, PROFILES[args.profile])
    if config.context < 1 or config.epochs < 1 or config.demos < 1 or config.dagger_iterations < 0:
        parser.error("--context, --epochs and --demos must be >= 1 and --dagger >= 0")
    try:
        config.encoder = resolve_encoder_name(args.encoder, args.encoder_weights)
        encoder = make_encoder(config.encoder, "cpu", args.encoder_weights)
        expert_zip.read_metadata(args.expert, args.env)
    except (ValueError, EncoderWeightsMissing) as err:
        parser.error(str(err))
    ensure_demos(args.env, config.demos, args.demos_dir, args.expert)
    build_cache(args.demos_dir, encoder)
    try:
        args.layout = eval_layout(args.env, "val", args.layout)
    except EnvConfigError as err:
        parser.error(str(err))
    cfg = env_cfg_from_args(parser, args, cameras=True)
    val_episodes = load_episode_set(args.env, args.layout, "val")
    with launch(args.env, cfg) as env:
        expert = expert_zip.Expert(args.expert, args.env, cfg.sim.device)
        train(
            env,
            args.env,
            config,
            encoder,
            args.out,
            args.demos_dir,
            expert,
            val_episodes,
            args.seed,
            args.fresh,
        )
    return 0
