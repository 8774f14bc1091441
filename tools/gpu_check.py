"""Is this machine ready for goalnav's GPU work? One prepared check, in under 10 minutes on a GPU server,
from a clean checkout with the venv:

    python tools/gpu_check.py --out results/gpu_check          # on the GPU machine
    python tools/gpu_check.py --dry-run --out /tmp/gpu_check   # the same sequence on the CPU, tiny sizes

In order, each step recorded (passed, failed with its error, or skipped) and none stopping the others:
1. CUDA as torch sees it (devices, names, memory) and as Warp sees it.
2. An arena and a rooms simulation on the device, rendering cameras for a few steps, each in its own
   process (one simulation per process): rendered env-steps/s at 64 and 1024 arena envs (64x64 camera)
   and 64 rooms envs, with evaluation/bench.py's worker.
3. One optimiser step of each learned kind on the device: siglip_bc (the offline tiny-siglip encoder, its
   weights random; SigLIP So400M cannot be downloaded), pignav and late_fusion at --profile paper sizes
   (ViT-B, 224 px, 3 context frames, batch 256), and the idm at --profile paper; seconds, peak GPU memory,
   and that every parameter and batch tensor was on the device.
4. torchrun with NCCL on every GPU present: a few steps of the one trainer on a tiny model under DDP; every
   process must exit 0 and hold the same weights.
5. PIG-Nav decisions/s at the quick and paper sizes, as evaluation/bench_policies.py measures them (training
   samples/s: the optimiser steps of 3, which include the first step's warm-up).

Writes gpu_check.json and gpu_check.md to --out; exit code 0 only when no step failed. `--dry-run` runs the
same sequence on the CPU at tiny sizes (4 arena and 2 rooms envs, 16x16 cameras, tiny models, no torchrun/NCCL) so a test
can exercise it (tests/test_gpu_check.py).

NOTE: this script has not yet run on a GPU; only --dry-run has run (on a 2-core CPU). Its first real run
is the check of the check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

from storage import atomic_write_text, workspace_root
from tools.cli import make_parser, parse
from tools.registry import TRAINED_KINDS

REPO = Path(__file__).resolve().parents[1]
# (env, envs, camera px) of the rendering runs; the dry run's are tiny
SIMS = {"gpu": [("arena", 64, 64), ("arena", 1024, 64), ("rooms", 64, 64)],
        "dry": [("arena", 4, 16), ("rooms", 2, 16)]}  # fmt: skip
SUBPROCESS_TIMEOUT = {"gpu": 300, "dry": 180}


class Report:
    """The steps' outcomes, in order."""

    def __init__(self):
        self.steps: list[dict] = []

    def run(self, name: str, fn, *args, **kwargs) -> dict | None:
        start = time.perf_counter()
        print(f"[gpu_check] {name} ...", flush=True)
        try:
            figures = fn(*args, **kwargs)
            row = {"step": name, "status": "passed", **(figures or {})}
        except Skipped as why:
            row = {"step": name, "status": "skipped", "why": str(why)}
        except Exception as err:  # noqa: BLE001 - every failure is reported, and the next step still runs
            row = {"step": name, "status": "failed", "error": f"{type(err).__name__}: {err}",
                   "traceback": traceback.format_exc()[-2000:]}  # fmt: skip
        row["seconds"] = round(time.perf_counter() - start, 1)
        print(f"[gpu_check] {name}: {row['status']} ({row['seconds']} s) "
              f"{row.get('error') or row.get('why') or ''}", flush=True)  # fmt: skip
        self.steps.append(row)
        return row

    @property
    def failed(self) -> list[str]:
        return [s["step"] for s in self.steps if s["status"] == "failed"]


class Skipped(Exception):
    pass


# -- 1. CUDA as torch and Warp see it


def cuda_visible(dry: bool) -> dict:
    info = {"torch": torch.__version__, "torch_cuda": torch.version.cuda, "torch_sees_cuda": torch.cuda.is_available(),
            "torch_devices": [{"name": torch.cuda.get_device_name(i),
                               "memory_gib": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1)}
                              for i in range(torch.cuda.device_count())]}  # fmt: skip
    import warp

    warp.init()
    info |= {"warp": warp.__version__, "warp_sees_cuda": warp.is_cuda_available(),
             "warp_devices": [str(d) for d in warp.get_cuda_devices()] if warp.is_cuda_available() else []}  # fmt: skip
    if not dry and not (info["torch_sees_cuda"] and info["warp_sees_cuda"]):
        raise RuntimeError(
            f"CUDA not visible: torch {info['torch_sees_cuda']}, Warp {info['warp_sees_cuda']}"
        )
    return info


# -- 2. simulations rendering cameras, each in its own process


def simulation(env: str, num_envs: int, size: int, device: str, timeout: int) -> dict:
    """evaluation/bench.py's worker: warm-up, then the median of 3 timed runs of 20 steps of random actions."""
    command = [sys.executable, str(REPO / "evaluation" / "bench.py"), "--env", env, "--device", device,
               "--profile", "quick", "--worker", str(num_envs), str(size), "1"]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"exit code {proc.returncode}: {proc.stderr[-1500:]}")
    result = json.loads(line[len("RESULT ") :])
    if not result["device"].startswith(device.split(":")[0]):
        raise RuntimeError(f"the simulation ran on {result['device']}, not {device}")
    return result


# -- 3. one optimiser step of each learned kind


def peak_memory(device: torch.device) -> dict:
    if device.type != "cuda":
        return {}
    return {"peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2)}


def one_step(recipe, model, batch, device: torch.device) -> dict:
    """One trainer step of `recipe` on `batch`, moved to `device` the trainer's way; checks where every
    parameter and batch tensor lives."""
    from training.trainer import to_device, train_step

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model = model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = to_device(batch, device)
    start = time.perf_counter()
    losses = train_step(recipe, model, optimizer, batch)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    where = {p.device for p in model.parameters()} | {t.device for t in _tensors(batch)}
    if where != {device}:
        raise RuntimeError(f"parameters or batch tensors on {sorted(map(str, where))}, not only {device}")
    loss = losses["total"].item()
    if not torch.isfinite(torch.tensor(loss)):
        raise RuntimeError(f"loss {loss}")
    params = sum(p.numel() for p in model.parameters())
    return {
        "loss": round(loss, 4),
        "step_seconds": round(seconds, 3),
        "parameters": params,
        **peak_memory(device),
    }


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _tensors(v)


def pignav_config(fusion: str, dry: bool):
    from policies.pignav.config import PROFILES, PigNavConfig

    if dry:
        return PigNavConfig(fusion=fusion, depth=1, image_size=32, patch_size=16, head_hidden=32, batch_size=8,
                            context=1, init="scratch")  # fmt: skip
    return PigNavConfig.from_dict({**PigNavConfig().to_dict(), **PROFILES["paper"], "fusion": fusion})


def random_demos(config, n: int = 64):
    from policies.pignav.processing import DemoSet

    size, g = config.image_size, torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (n, size, size, 3), dtype=torch.uint8, generator=g)
    targets = {"waypoints": torch.randn(n, config.waypoints, 4, generator=g), "goal": torch.randn(n, 4, generator=g),
               "distance": torch.rand(n, 1, generator=g), "path": torch.randn(n, config.path_waypoints, 2, generator=g)}  # fmt: skip
    episode = torch.arange(n) // (n // 8)  # 8 episodes of consecutive frames
    return DemoSet(frames, frames[:: n // 8], episode, episode * (n // 8), targets, ["random"])


def step_pignav(fusion: str, device: torch.device, dry: bool) -> dict:
    from policies.pignav.model import PigNavNet
    from policies.pignav.recipe import PigNavRecipe

    config = pignav_config(fusion, dry)
    recipe = PigNavRecipe(config, "arena", {}, Path("."))
    batch = next(recipe.batches(random_demos(config), torch.Generator().manual_seed(0)))
    figures = one_step(recipe, PigNavNet(config), batch, device)
    return {"size": config.size, "image_size": config.image_size, "context": config.context,
            "batch_size": config.batch_size, **figures}  # fmt: skip


def step_siglip_bc(device: torch.device, dry: bool) -> dict:
    from policies.encoders import make_encoder
    from policies.siglip_bc.config import PROFILES, SiglipBCConfig
    from policies.siglip_bc.recipe import BCData, SiglipBCRecipe

    encoder = make_encoder(
        "tiny-siglip", str(device)
    )  # offline, random weights: the frozen encoder on the device
    frames = torch.randint(0, 256, (8, 64, 64, 3), dtype=torch.uint8)
    embedded = encoder.encode_images(frames)
    if embedded.device != device:
        raise RuntimeError(f"the frozen encoder's embeddings are on {embedded.device}, not {device}")
    config = SiglipBCConfig(encoder="tiny-siglip", **({} if dry else PROFILES["paper"]))
    recipe = SiglipBCRecipe(config, "arena", encoder, None)
    n = 4 * config.batch_size
    data = BCData(torch.randn(n, encoder.dim), torch.rand(n, 2) * 2 - 1, torch.zeros(n, dtype=torch.long), 1)
    batch = next(recipe.batches(data, torch.Generator().manual_seed(0)))
    return {
        "encoder": encoder.name,
        "hidden": config.hidden,
        **one_step(recipe, recipe.build_model(), batch, device),
    }


def step_idm(device: torch.device, dry: bool) -> dict:
    from policies.idm.config import PROFILES, IDMConfig
    from policies.idm.model import IDMNet
    from policies.idm.processing import PairSet
    from policies.idm.recipe import IDMRecipe

    config = (
        IDMConfig(image_size=16, channels=[8], head_hidden=16, batch_size=8)
        if dry
        else IDMConfig(**PROFILES["paper"])
    )
    n, g = 64, torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (n + config.gap, 64, 64, 3), dtype=torch.uint8, generator=g)
    data = PairSet(frames, torch.arange(n), torch.randn(n, 5, generator=g), 1)
    recipe = IDMRecipe(config, [], [])
    batch = next(recipe.batches(data, torch.Generator().manual_seed(0)))
    return {"batch_size": config.batch_size, **one_step(recipe, IDMNet(config), batch, device)}


# -- 4. torchrun with NCCL: the one trainer under DDP


class TinyRecipe:
    """The trainer's smallest recipe: fit y = 2x for a few steps (each process starts from its own weights,
    which DDP must replace with rank 0's)."""

    kind, env, checkpoint_name, weight_decay = "gpu_check", "none", "policy.pt", 0.0

    def __init__(self):
        from training.config import DictConfig

        class Config(DictConfig):
            def to_dict(self) -> dict:
                return {"model": "line"}

        self.config = Config()

    def build_model(self):
        from compute import distributed

        torch.manual_seed(distributed.rank())
        self.model = torch.nn.Linear(1, 1)
        return self.model

    def stages(self):
        from training import Stage

        return [Stage("fit", lambda: None, 4)]

    def prepare(self, model, data) -> str:
        return "random"

    def batches(self, data, generator):
        while True:
            x = torch.rand(8, 1, generator=generator)
            yield x, 2 * x

    def loss(self, model, batch):
        x, y = batch
        return {"total": ((model(x) - y) ** 2).mean()}

    def learning_rate(self, step, total):
        return 0.1

    def checkpoint_metadata(self, stage, data):
        return {}


def ddp_worker(out: Path) -> None:
    """Under torchrun: a few trainer steps on the tiny recipe; saves this process's weights and device."""
    from compute import distributed
    from training import Trainer

    recipe = TinyRecipe()
    Trainer(out / "run", recipe, progress=False).fit()
    weights = {k: v.cpu() for k, v in recipe.model.state_dict().items()}
    torch.save({"weights": weights, "device": str(next(recipe.model.parameters()).device),
                "backend": torch.distributed.get_backend()}, out / f"rank{distributed.rank()}.pt")  # fmt: skip


def torchrun_nccl(timeout: int) -> dict:
    gpus = torch.cuda.device_count()
    if gpus < 1:
        raise RuntimeError("no GPU for NCCL")
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(gpus),
                   __file__, "--ddp-worker", out]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(f"torchrun exit code {proc.returncode}: {proc.stderr[-1500:]}")
        ranks = [torch.load(Path(out) / f"rank{r}.pt", weights_only=False) for r in range(gpus)]
    devices = [r["device"] for r in ranks]
    if devices != [f"cuda:{r}" for r in range(gpus)] or {r["backend"] for r in ranks} != {"nccl"}:
        raise RuntimeError(
            f"ranks trained on {devices} with {[r['backend'] for r in ranks]}, not each its GPU with NCCL"
        )
    for r in ranks[1:]:
        for name, value in r["weights"].items():
            if not torch.equal(value, ranks[0]["weights"][name]):
                raise RuntimeError(f"rank weights differ after DDP steps ({name})")
    return {"processes": gpus, "devices": devices, "backend": "nccl"}


# -- 5. policy throughput


def decisions_per_s(config, device: torch.device, batch: int, repeats: int) -> dict:
    """PIG-Nav policy decisions/s (network and controller) on random images, as evaluation/bench_policies.py
    measures them: the median of `repeats` timed calls after a warm-up."""
    import statistics

    from policies.pignav import PigNavPolicy
    from policies.pignav.model import PigNavNet

    size = config.image_size
    policy = PigNavPolicy(PigNavNet(config), config, batch, str(device))
    frames = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, device=device)
    obs = {"rgb": frames, "goal_rgb": frames.flip(0)}
    runs = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        policy.act(obs)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:  # the first call warms up
            runs.append(time.perf_counter() - start)
    seconds = statistics.median(runs)
    return {
        "batch": batch,
        "decisions_per_s": round(batch / seconds, 1),
        "latency_ms": round(1000 * seconds, 2),
    }


def policy_throughput(device: torch.device, dry: bool) -> dict:
    """PIG-Nav decisions/s at the quick and paper sizes (training samples/s: the optimiser steps above)."""
    from policies.pignav.config import PigNavConfig

    if dry:
        sizes, batches, repeats = {"dry": pignav_config("early", True)}, [1, 4], 1
    else:
        sizes, batches, repeats = (
            {"quick": PigNavConfig(), "paper": pignav_config("early", False)},
            [1, 64, 256],
            3,
        )
    rows = {}
    for name, config in sizes.items():
        try:
            rows[name] = [decisions_per_s(config, device, b, repeats) for b in batches]
        except torch.OutOfMemoryError as err:
            rows[name] = f"out of GPU memory: {err}"
            torch.cuda.empty_cache()
    return {"pignav": rows}


# -- the report


def markdown(report: dict) -> str:
    lines = ["# GPU check", "", f"{'DRY RUN on the CPU at tiny sizes. ' if report['dry_run'] else ''}"
             f"Device {report['device']}; {report['date']}.", "",
             "| step | status | seconds | figures |", "| --- | --- | --- | --- |"]  # fmt: skip
    for s in report["steps"]:
        figures = {k: v for k, v in s.items() if k not in ("step", "status", "seconds", "traceback")}
        text = json.dumps(figures, default=str).replace("|", "/")
        lines.append(f"| {s['step']} | {s['status']} | {s['seconds']} | {text[:600]} |")
    lines += ["", f"Failed: {', '.join(report['failed']) or 'none'}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu_check.json and .md (default: "
                        "results/gpu_check)")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true",
                        help="the same sequence on the CPU at tiny sizes, without torchrun/NCCL (for tests)")  # fmt: skip
    parser.add_argument("--ddp-worker", type=Path, default=None, help=argparse_suppress())
    args = parse(parser, argv)
    if args.ddp_worker is not None:
        ddp_worker(args.ddp_worker)
        return 0
    out = args.out or workspace_root() / "results" / "gpu_check"
    mode = "dry" if args.dry_run else "gpu"
    device = torch.device("cpu" if args.dry_run else "cuda:0")  # with its index: tensors report theirs
    timeout = SUBPROCESS_TIMEOUT[mode]
    report = Report()
    report.run("cuda visible to torch and Warp", cuda_visible, args.dry_run)
    for env, n, size in SIMS[mode]:
        report.run(
            f"simulation {env} {n} envs {size}x{size} cameras", simulation, env, n, size, str(device), timeout
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")  # the learned steps still say what they can, marked failed by step 1
    for kind in TRAINED_KINDS:  # every learned kind of the registry; the PPO expert trains in the sims
        if kind == "expert":
            continue
        fn, *extra = GPU_STEPS.get(kind, (_no_step,))
        report.run(f"one optimiser step: {kind}", fn, *extra, device, args.dry_run)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if args.dry_run:
        report.run("torchrun with NCCL", _skip, "dry run: no GPUs, no NCCL")
    else:
        report.run("torchrun with NCCL", torchrun_nccl, timeout)
    report.run("PIG-Nav throughput", policy_throughput, device, args.dry_run)
    result = {"dry_run": args.dry_run, "device": str(device), "date": time.strftime("%Y-%m-%d %H:%M"),
              "host_cores": os.cpu_count(), "steps": report.steps, "failed": report.failed}  # fmt: skip
    atomic_write_text(out / "gpu_check.json", json.dumps(result, indent=2, default=str) + "\n")
    atomic_write_text(out / "gpu_check.md", markdown(result))
    print(
        f"wrote {out / 'gpu_check.json'} and {out / 'gpu_check.md'}; failed: {', '.join(report.failed) or 'none'}"
    )
    return 1 if report.failed else 0


def _skip(why: str):
    raise Skipped(why)


def _no_step(device, dry: bool):
    raise RuntimeError("this kind has no GPU step in tools/gpu_check.py GPU_STEPS: add one")


# each learned kind's one optimiser step (a kind the registry gains fails the check until it has one)
GPU_STEPS = {"siglip_bc": (step_siglip_bc,), "pignav": (step_pignav, "early"), "late_fusion": (step_pignav, "late"),
             "idm": (step_idm,)}  # fmt: skip


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
