"""Simulation throughput benchmark: env-steps/s with and without cameras, by env count and resolution;
startup time with a cold and a warm Warp kernel cache; the wall time of each `make demo` stage.

    python evaluation/bench.py [--profile quick|paper] [--device cuda] [--out results/bench]
    python evaluation/bench.py --scaling [--profile quick|paper]   # 1 vs 2 workers / processes, side by side

--profile quick (default) is a short smoke run; paper measures every configuration: up to 256 envs on the
CPU, up to 4096 on a GPU (--device cuda, the default where one is present).

Each configuration runs in its own process (one simulation per process): warm-up steps, then the
median of several timed runs of random actions. Startup is the time from the worker's first import
to its first env step; a cold start points Warp at an empty kernel cache. `make demo` stage times
are read from the files the stages write (they time themselves). Writes bench.json and bench.md.

--scaling (the arena on the CPU) measures, in one run: a PPO-sized torch update loop with torch's default threads and with
goalnav's, alone and beside a busy process; rendered env-steps/s of 1 and 2 Ray simulation workers (64 envs, 64x64
each; all workers step at once after a shared start line, and the rate is their env-steps over the span
from the first start to the last end), the wall time of evaluating the 100 arena test episodes with
cameras on 1 and 2 workers (random policy with --video), and PIG-Nav training samples/s under torchrun
with 1 and 2 processes (quick-profile model, random images, batch 32 per process). The load average before
and after each measurement is recorded beside it. Writes scaling.json and scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storage import atomic_write_text, workspace_root
from tools.cli import add_profile, make_parser, parse

# (num_envs, camera size or None) per plan; large renders are kept few, they take minutes on a CPU
FULL = {
    "configs": [(n, None) for n in (1, 16, 64, 256)]
    + [(n, 64) for n in (1, 16, 64, 256)]
    + [(64, 128), (16, 224)],
    "steps": 50,
    "repeats": 3,
    "warmup": 20,
    "startup": ["cold", "warm"],  # Warp kernel cache, at 64 envs with 64x64 cameras
}
GPU = {  # the lent GPU machine: up to 4096 envs
    "configs": [(n, None) for n in (1, 64, 1024, 4096)]
    + [(n, 64) for n in (64, 1024, 4096)]
    + [(1024, 128), (1024, 224)],
    "steps": 50,
    "repeats": 3,
    "warmup": 20,
    "startup": ["cold", "warm"],
}
QUICK = {"configs": [(16, None), (64, None), (16, 64), (64, 64)], "steps": 20, "repeats": 3, "warmup": 10,
         "startup": []}  # fmt: skip


def worker(
    env_name: str, num_envs: int, size: int, cameras: bool, steps: int, repeats: int, warmup: int, device
) -> dict:
    """Time one configuration in this process; returns the measurement."""
    start = time.perf_counter()
    import torch

    from envs.registry import launch, make_env_cfg

    cfg = make_env_cfg(
        env_name,
        num_envs,
        device,
        cameras=cameras,
        camera_width=size,
        camera_height=size,
        layout="random" if env_name == "arena" else "train",
    )
    with launch(env_name, cfg) as env:
        env.reset(seed=0)
        actions = torch.rand(num_envs, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
        env.step(actions)
        startup = time.perf_counter() - start
        for _ in range(warmup):
            env.step(actions)
        rates = []
        for _ in range(repeats):
            t = time.perf_counter()
            for _ in range(steps):
                env.step(actions)
            rates.append(steps * num_envs / (time.perf_counter() - t))
    return {
        "env": env_name,
        "num_envs": num_envs,
        "camera": f"{size}x{size}" if cameras else "none",
        "device": cfg.sim.device,
        "env_steps_per_s": round(statistics.median(rates), 1),
        "runs": [round(r, 1) for r in rates],
        "startup_s": round(startup, 1),
    }


def timed_steps(env, state, shard) -> dict:
    """In a simulation worker: warm up, wait at the start line for the other workers, time the steps."""
    import torch

    steps, warmup, line, workers = shard
    num_envs = env.unwrapped.num_envs
    env.reset(seed=0)
    actions = torch.rand(num_envs, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for _ in range(warmup):
        env.step(actions)
    Path(line, str(os.getpid())).touch()
    while len(list(Path(line).iterdir())) < workers:
        time.sleep(0.01)
    start = time.time()
    for _ in range(steps):
        env.step(actions)
    return {"start": start, "end": time.time(), "env_steps": steps * num_envs}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def sim_scaling(workers: int, steps: int, warmup: int, num_envs: int = 64, size: int = 64) -> dict:
    """Rendered env-steps/s of `workers` simulations stepping at once (Ray workers, one simulation each)."""
    from compute import threads_per_process
    from envs.registry import make_env_cfg
    from rollouts.workers import WorkerPool

    cfg = make_env_cfg(
        "arena", num_envs, "cpu", cameras=True, camera_width=size, camera_height=size, layout="random"
    )
    before = load()
    with (
        tempfile.TemporaryDirectory() as line,
        WorkerPool("arena", cfg, workers, threads_per_process(workers)) as pool,
    ):
        parts, _ = pool.run(lambda env: None, timed_steps, [(steps, warmup, line, workers)] * workers)
    span = max(p["end"] for p in parts.values()) - min(p["start"] for p in parts.values())
    rate = sum(p["env_steps"] for p in parts.values()) / span
    return {"measure": f"rendered env-steps/s, {num_envs} envs x {size}x{size} per worker", "workers": workers,
            "value": round(rate, 1), "load_before": before, "load_after": load()}  # fmt: skip


def eval_scaling(workers: int, episodes: int) -> dict:
    """Wall time of evaluating the arena test episodes with cameras (random policy, --video)."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(Path(__file__).parents[1] / "evaluation" / "run.py"), "--policy", "random",
                   "--env", "arena", "--split", "test", "--episodes", str(episodes), "--num-envs", "50", "--device",
                   "cpu", "--video", "--no-plots", "--out", out, "--workers", str(workers)]  # fmt: skip
        before, start = load(), time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-1500:])
        summary = json.loads(Path(out, "summary.json").read_text())
    return {"measure": f"{episodes} arena test episodes with cameras: command wall time (s)", "workers": workers,
            "value": round(wall, 1), "rollout_seconds": summary["wall_seconds"], "load_before": before,
            "load_after": load()}  # fmt: skip


def train_worker(steps: int, warmup: int) -> None:
    """Under torchrun: PIG-Nav (quick profile) training steps on random images; rank 0 prints the rate."""
    import torch

    from compute import distributed
    from policies.pignav.config import PigNavConfig
    from policies.pignav.model import PigNavNet
    from training.trainer import train_step

    distributed.start("cpu")  # a CPU measurement: gloo, even where a GPU would make it NCCL
    torch.manual_seed(distributed.rank())
    config = PigNavConfig()
    model = PigNavNet(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    batch = {
        k: torch.rand(config.batch_size, 3, config.image_size, config.image_size) for k in ("obs", "goal")
    }

    class Loss:  # the forward and backward of a real step, on a stand-in target
        def loss(self, model, batch):
            return {"total": sum(o.square().mean() for o in model(batch["obs"], batch["goal"]).values())}

    synced = distributed.synced(model)
    for _ in range(warmup):
        train_step(Loss(), model, optimizer, batch, synced)
    distributed.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        train_step(Loss(), model, optimizer, batch, synced)
    elapsed = max(distributed.all_gather(time.perf_counter() - start))
    if distributed.is_main():
        samples = steps * config.batch_size * distributed.world_size()
        print("RESULT " + json.dumps({"samples_per_s": round(samples / elapsed, 1)}))


def train_scaling(processes: int, steps: int, warmup: int) -> dict:
    """PIG-Nav training samples/s of `processes` torchrun processes (DDP, gloo)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
               __file__, "--train-worker", str(steps), str(warmup)]  # fmt: skip
    before = load()
    proc = subprocess.run(command, capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(proc.stderr[-1500:])
    return {"measure": "PIG-Nav training samples/s (quick model, batch 32 per process)", "workers": processes,
            "value": json.loads(line[len("RESULT ") :])["samples_per_s"], "load_before": before,
            "load_after": load()}  # fmt: skip


def update_worker(threads: int, seconds: float = 4.0) -> None:
    """A PPO-sized update loop (17 inputs, 64x64 policy and value MLPs, minibatch 64, Adam) with `threads`
    torch threads; prints its iterations/s."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = nn.ModuleDict({k: nn.Sequential(nn.Linear(17, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, n))
                         for k, n in (("pi", 2), ("vf", 1))})  # fmt: skip
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)
    x = torch.randn(64, 17)
    iterations, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        loss = net["pi"](x).square().mean() + net["vf"](x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        iterations += 1
    print("RESULT " + json.dumps({"it_per_s": round(iterations / (time.perf_counter() - start), 1)}))


def threads_scaling() -> list[dict]:
    """The update loop with torch's default threads (every core) and with ours, alone and beside a busy
    process (a spinning Python loop started here)."""
    from compute import cores, threads_per_process

    rows = []
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for label, threads in (("torch default", cores()), ("goalnav default", threads_per_process(1))):
                before = load()
                proc = subprocess.run([sys.executable, __file__, "--update-worker", str(threads)],
                                      capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": str(threads)})  # fmt: skip
                line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
                rows.append({"measure": f"PPO-sized update loop it/s, {label} ({threads} threads), "
                                        f"{'beside a busy process' if busy else 'alone'}", "workers": 1,
                             "value": json.loads(line[len("RESULT ") :])["it_per_s"], "load_before": before,
                             "load_after": load()})  # fmt: skip
                print(rows[-1])
        finally:
            if spinner is not None:
                spinner.kill()
    return rows


def scaling(args) -> int:
    """1 vs 2 workers / processes, side by side in one run (see the module's docstring)."""
    steps, warmup, episodes, train_steps = (20, 5, 20, 10) if args.profile == "quick" else (150, 20, 100, 60)
    results = threads_scaling()
    for workers in (1, 2):
        results.append(sim_scaling(workers, steps, warmup))
        print(results[-1])
    for processes in (1, 2):
        results.append(train_scaling(processes, train_steps, 5))
        print(results[-1])
    for workers in (1, 2):
        results.append(eval_scaling(workers, episodes))
        print(results[-1])
    info = machine_info()
    lines = ["# Scaling out: 1 vs 2 workers / processes", "", "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if v is not None), "",
             "| measure | workers / processes | value | load before | load after |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    lines += [f"| {r['measure']} | {r['workers']} | {r['value']:,} | {r['load_before']} | {r['load_after']} |"
              for r in results]  # fmt: skip
    atomic_write_text(
        args.out / "scaling.json", json.dumps({"machine": info, "results": results}, indent=2) + "\n"
    )
    atomic_write_text(args.out / "scaling.md", "\n".join(lines) + "\n")
    print(f"wrote {args.out / 'scaling.json'} and {args.out / 'scaling.md'}")
    return 0


def machine_info() -> dict:
    import torch

    try:
        import warp

        warp_version = warp.__version__
    except ImportError:  # policy benchmarks also run where only torch is installed
        warp_version = None
    cpu = platform.processor()
    try:
        cpu = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "warp": warp_version,
        "date": time.strftime("%Y-%m-%d"),
    }


def demo_stages(env: str, root: Path | None = None) -> list[dict]:
    """Wall time of each `make demo` stage, as the stage recorded it under the workspace root (or `root`);
    missing stages are left out."""
    from tools.collect import TIME_FILE
    from training.checkpoint import read_checkpoint

    def recorded(path: Path, key: str) -> float | None:
        if not path.exists():
            return None
        meta = read_checkpoint(path) if path.suffix == ".zip" else json.loads(path.read_text())
        return meta.get(key)

    root = root or workspace_root()
    runs, results = root / "runs" / env, root / "results" / env  # as runs_dir / results_dir lay them out
    stages = [("expert training (PPO)", runs / "expert" / "expert.zip", "train_seconds"),
              ("expert evaluation", results / "expert" / "summary.json", "wall_seconds"),
              ("random evaluation", results / "random" / "summary.json", "wall_seconds"),
              ("demonstration collection", root / "data" / env / "demos" / TIME_FILE, "seconds")]  # fmt: skip
    for policy in ("siglip_bc", "pignav"):
        stages += [(f"{policy} training", runs / policy / "train_summary.json", "train_seconds"),
                   (f"{policy} evaluation", results / policy / "summary.json", "wall_seconds")]  # fmt: skip
    rows = [(stage, path, recorded(path, key)) for stage, path, key in stages]
    return [
        {"stage": stage, "seconds": round(s, 1), "source": str(path)}
        for stage, path, s in rows
        if s is not None
    ]


def markdown(results: list[dict], info: dict, stages: list[dict]) -> str:
    lines = [
        "# Simulation throughput",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if v is not None),
        "",
        "| env | envs | camera | device | Warp cache | env-steps/s (median) | runs | startup (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        runs = ", ".join(f"{x:,.0f}" for x in r["runs"])
        lines.append(f"| {r['env']} | {r['num_envs']} | {r['camera']} | {r['device']} | {r['warp_cache']} | "
                     f"{r['env_steps_per_s']:,.0f} | {runs} | {r['startup_s']} |")  # fmt: skip
    if stages:
        lines += ["", "## `make demo` stages (as each stage recorded its wall time)", "",
                  "| stage | minutes | recorded in |", "| --- | --- | --- |"]  # fmt: skip
        lines += [f"| {r['stage']} | {r['seconds'] / 60:.1f} | `{r['source']}` |" for r in stages]
        lines.append(f"| total | {sum(r['seconds'] for r in stages) / 60:.1f} | |")
    return "\n".join(lines) + "\n"


def run_worker(args, num_envs: int, size: int | None, cold: bool = False) -> dict | None:
    """One configuration in a fresh process; a cold start gets an empty Warp kernel cache."""
    cmd = [sys.executable, __file__, "--env", args.env, "--worker", str(num_envs), str(size or 64),
           "1" if size else "0"]  # fmt: skip
    cmd += ["--profile", args.profile, "--device", args.device]
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ | ({"WARP_CACHE_PATH": cache} if cold else {})
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        print(f"failed: {num_envs} envs, camera {size or 'none'}:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    result = json.loads(line[len("RESULT ") :]) | {"warp_cache": "cold" if cold else "warm"}
    print(f"{result['num_envs']:>4} envs  camera {result['camera']:>7}  {result['warp_cache']} Warp cache  "
          f"{result['env_steps_per_s']:>9,.0f} env-steps/s  startup {result['startup_s']} s")  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--env", default="arena")
    add_profile(parser, "quick: a short smoke run; paper: every configuration (GPU: up to 4096 envs)")
    parser.add_argument("--out", type=Path, default=None, help="default: results/bench")
    parser.add_argument(
        "--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)"
    )
    parser.add_argument("--scaling", action="store_true",
                        help="1 vs 2 workers / training processes (the arena on the CPU)")  # fmt: skip
    parser.add_argument("--worker", nargs=3, metavar=("NUM_ENVS", "SIZE", "CAMERAS"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--train-worker", nargs=2, type=int, metavar=("STEPS", "WARMUP"), help=argparse.SUPPRESS
    )
    parser.add_argument("--update-worker", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    args = parse(parser, argv)
    args.out = args.out or workspace_root() / "results" / "bench"
    if args.update_worker:
        update_worker(args.update_worker)
        return 0
    if args.train_worker:
        train_worker(*args.train_worker)
        return 0
    if args.scaling:
        if args.env != "arena" or args.device not in (None, "cpu"):
            parser.error("--scaling measures the arena on the CPU; leave out --env and --device")
        return scaling(args)
    from envs.registry import EnvConfigError, check_device

    try:
        args.device = check_device(args.device)
    except EnvConfigError as err:
        parser.error(str(err))
    plan = QUICK if args.profile == "quick" else GPU if args.device.startswith("cuda") else FULL
    if args.worker:
        n, size, cams = int(args.worker[0]), int(args.worker[1]), args.worker[2] == "1"
        result = worker(args.env, n, size, cams, plan["steps"], plan["repeats"], plan["warmup"], args.device)
        print("RESULT " + json.dumps(result))
        return 0
    runs = [(n, size, False) for n, size in plan["configs"]] + [
        (64, 64, c == "cold") for c in plan["startup"]
    ]
    results = [r for n, size, cold in runs if (r := run_worker(args, n, size, cold)) is not None]
    info, stages = machine_info(), demo_stages(args.env)
    atomic_write_text(args.out / "bench.json",
                      json.dumps({"machine": info, "results": results, "demo_stages": stages}, indent=2) + "\n")  # fmt: skip
    atomic_write_text(args.out / "bench.md", markdown(results, info, stages))
    print(f"wrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
