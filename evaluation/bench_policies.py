"""Policy throughput: frozen-embedding cache build, decisions/s and latency by batch, BC and PIG-Nav
training samples/s.

    python evaluation/bench_policies.py [--profile quick|paper] [--device cpu] [--out results/bench]

--profile quick (default): fewer repeats and batch sizes, the quick profile's PIG-Nav size only; paper: every
size up to the paper's ViT-B at 224 px.

No simulator: fake 64x64 observations, so it also runs where only torch is installed. Medians of
several timed runs after a warm-up. Pretrained encoders are included when their weights are here.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

from evaluation.bench import machine_info
from policies.encoders import ENCODERS, EncoderWeightsMissing, make_encoder
from policies.pignav import PigNavConfig, PigNavPolicy
from policies.pignav.model import PigNavNet
from policies.pignav.processing import DemoSet
from policies.pignav.recipe import PigNavRecipe
from policies.siglip_bc import SiglipBCConfig, SiglipBCPolicy
from policies.siglip_bc.policy import build_model
from policies.siglip_bc.recipe import BCData, SiglipBCRecipe
from storage import atomic_write_text, workspace_root
from tools.cli import add_profile, make_parser, parse
from training.trainer import train_step

# (name, ViT size, blocks or None for all, input px): the quick profile's, then the study's sizes
SIZES = [
    ("tiny-4", "tiny", 4, 64),
    ("tiny", "tiny", None, 96),
    ("small", "small", None, 96),
    ("base", "base", None, 224),
]


def timed(fn, repeats: int, warmup: int = 1) -> float:
    """Median seconds of `fn()`."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_encoder(name: str, device: str, batches: list[int], repeats: int, size: int = 64) -> list[dict]:
    encoder = make_encoder(name, device)
    rows = []
    frames = torch.randint(0, 256, (256, size, size, 3), dtype=torch.uint8, device=device)
    seconds = timed(lambda: encoder.encode_images(frames), repeats)
    rows.append({"what": "embedding cache build", "policy": "siglip_bc", "encoder": name, "batch": 256,
                 "per_s": len(frames) / seconds, "unit": "frames/s", "latency_ms": 1000 * seconds})  # fmt: skip
    config = SiglipBCConfig(encoder=name)
    for batch in batches:
        policy = SiglipBCPolicy(build_model(config, encoder.dim), encoder, config, batch, device)
        obs = {"rgb": frames[:batch].repeat(batch // len(frames) + 1, 1, 1, 1)[:batch],
               "instruction": ["go to the red sphere"] * batch}  # fmt: skip
        seconds = timed(lambda obs=obs, policy=policy: policy.act(obs), repeats)
        rows.append({"what": "decisions", "policy": "siglip_bc", "encoder": name, "batch": batch,
                     "per_s": batch / seconds, "unit": "decisions/s", "latency_ms": 1000 * seconds})  # fmt: skip
    inputs, labels = (
        torch.randn(16384, encoder.dim, device=device),
        torch.rand(16384, 2, device=device) * 2 - 1,
    )
    starts = torch.zeros(16384, dtype=torch.long, device=device)
    recipe = SiglipBCRecipe(config, "arena", encoder, demos_dir=None)
    model = recipe.build_model().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    data, generator = BCData(inputs, labels, starts, 1), torch.Generator().manual_seed(0)
    batches = recipe.batches(data, generator)

    def epoch():
        for _ in range(recipe.batches_per_epoch(data)):
            train_step(recipe, model, optimizer, next(batches))

    seconds = timed(epoch, max(1, repeats // 2))
    rows.append({"what": "BC training", "policy": "siglip_bc", "encoder": name, "batch": config.batch_size,
                 "per_s": len(labels) / seconds, "unit": "samples/s", "latency_ms": None})  # fmt: skip
    return rows


def bench_pignav(config: PigNavConfig, device: str, batches: list[int], repeats: int) -> list[dict]:
    """Decisions/s of the policy (network and controller) and training samples/s, on random images."""
    label = f"vit-{config.size}/{config.depth or 'full'} {config.image_size}px"
    model, rows, size = PigNavNet(config).to(device), [], config.image_size
    frames = torch.randint(0, 256, (max(batches), size, size, 3), dtype=torch.uint8, device=device)
    for batch in batches:
        policy = PigNavPolicy(model, config, batch, device)
        obs = {"rgb": frames[:batch], "goal_rgb": frames[:batch].flip(0)}
        seconds = timed(lambda obs=obs, policy=policy: policy.act(obs), repeats)
        rows.append({"what": "decisions", "policy": config.kind, "encoder": label, "batch": batch,
                     "per_s": batch / seconds, "unit": "decisions/s", "latency_ms": 1000 * seconds})  # fmt: skip
    n = 512
    targets = {"waypoints": torch.zeros(n, config.waypoints, 4), "goal": torch.zeros(n, 4),
               "distance": torch.zeros(n, 1), "path": torch.zeros(n, config.path_waypoints, 2)}  # fmt: skip
    data = DemoSet(frames[:1].cpu().expand(n, -1, -1, -1), frames[:1].cpu().expand(8, -1, -1, -1), torch.arange(n) % 8,
                   torch.zeros(n, dtype=torch.long), targets, ["random"])  # fmt: skip
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(0)

    def to_device(value):
        return (
            value.to(device)
            if isinstance(value, torch.Tensor)
            else {k: v.to(device) for k, v in value.items()}
        )

    recipe, batches = PigNavRecipe(config, "arena", {}, Path(".")), None

    def step():
        nonlocal batches
        batches = batches or recipe.batches(data, generator)
        batch = next(batches)
        train_step(recipe, model, optimizer, {k: to_device(v) for k, v in batch.items()})

    seconds = timed(step, max(2, repeats))
    rows.append({"what": "training", "policy": config.kind, "encoder": label, "batch": config.batch_size,
                 "per_s": config.batch_size / seconds, "unit": "samples/s", "latency_ms": 1000 * seconds})  # fmt: skip
    return rows


def markdown(rows: list[dict], info: dict) -> str:
    lines = ["# Policy throughput", "", "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if v), "",
             "| what | policy | encoder / model | batch | throughput | latency per batch (ms) |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        latency = "-" if r["latency_ms"] is None else f"{r['latency_ms']:.1f}"
        lines.append(f"| {r['what']} | {r['policy']} | {r['encoder']} | {r['batch']} | "
                     f"{r['per_s']:,.0f} {r['unit']} | {latency} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    add_profile(parser, "quick: fewer repeats and batch sizes, the quick PIG-Nav size; paper: every size")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cpu, cuda or cuda:N (default: cuda if available, else cpu)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="default: results/bench")
    parser.add_argument("--sizes", nargs="+", choices=[s[0] for s in SIZES], default=None,
                        help="PIG-Nav model sizes (default: all at --profile paper, tiny-4 at quick)")  # fmt: skip
    parser.add_argument(
        "--batches", nargs="+", type=int, default=None, help="batch sizes (default: 1 64, paper 1 16 64 256)"
    )
    args = parse(parser, argv)
    args.out = args.out or workspace_root() / "results" / "bench"
    quick = args.profile == "quick"
    batches, repeats = ([1, 64], 3) if quick else ([1, 16, 64, 256], 5)
    batches = args.batches or batches
    rows = []
    for name, spec in ENCODERS.items():
        try:
            rows += bench_encoder(name, args.device, batches, repeats)
        except EncoderWeightsMissing:
            print(f"skipped {name}: its weights ({spec.hf_repo}) are not in the Hugging Face cache")
            continue
        for r in rows[-len(batches) - 2 :]:
            print(
                f"{r['what']:>22}  {r['encoder']:>13}  batch {r['batch']:>4}  {r['per_s']:>10,.0f} {r['unit']}"
            )
    sizes = [s for s in SIZES if s[0] in args.sizes] if args.sizes else SIZES[:1] if quick else SIZES
    for _, size, depth, pixels in sizes:
        for fusion in ("early", "late"):
            config = PigNavConfig(fusion=fusion, size=size, depth=depth, image_size=pixels, patch_size=16)
            rows += bench_pignav(config, args.device, batches, repeats)
            for r in rows[-len(batches) - 1 :]:
                print(f"{r['what']:>22}  {r['policy']:>11}  {r['encoder']:>18}  batch {r['batch']:>4}  "
                      f"{r['per_s']:>10,.0f} {r['unit']}")  # fmt: skip
    info = {**machine_info(), "device": args.device}
    atomic_write_text(
        args.out / "policies.json", json.dumps({"machine": info, "results": rows}, indent=2) + "\n"
    )
    atomic_write_text(args.out / "policies.md", markdown(rows, info))
    print(f"wrote {args.out / 'policies.json'} and {args.out / 'policies.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
