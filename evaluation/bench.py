"""Simulation throughput benchmark: env-steps/s with and without cameras, by env count and resolution.

    python evaluation/bench.py [--quick] [--out results/bench]

Each configuration runs in its own process (one simulation per process): warm-up steps, then the
median of several timed runs of random actions. Writes bench.json and bench.md with machine info.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from envs.cli import ArgumentParser

# (num_envs, camera size or None) per plan; large renders are kept few, they take minutes on a CPU
FULL = {
    "configs": [(n, None) for n in (1, 16, 64, 256)]
    + [(n, 64) for n in (1, 16, 64, 256)]
    + [(64, 128), (16, 224)],
    "steps": 50,
    "repeats": 3,
    "warmup": 20,
}
QUICK = {"configs": [(16, None), (64, None), (16, 64), (64, 64)], "steps": 20, "repeats": 3, "warmup": 10}


def worker(
    env_name: str, num_envs: int, size: int, cameras: bool, steps: int, repeats: int, warmup: int, device
) -> dict:
    """Time one configuration in this process; returns the measurement."""
    import torch

    from envs.registry import launch, make_env_cfg

    start = time.perf_counter()
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
        startup = time.perf_counter() - start
        actions = torch.rand(num_envs, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
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


def markdown(results: list[dict], info: dict) -> str:
    lines = [
        "# Simulation throughput",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if v is not None),
        "",
        "| env | envs | camera | device | env-steps/s (median) | runs | startup (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        runs = ", ".join(f"{x:,.0f}" for x in r["runs"])
        lines.append(
            f"| {r['env']} | {r['num_envs']} | {r['camera']} | {r['device']} | {r['env_steps_per_s']:,.0f} | {runs} | {r['startup_s']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="arena")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", type=Path, default=Path("results/bench"))
    parser.add_argument("--device", default=None)
    parser.add_argument("--worker", nargs=3, metavar=("NUM_ENVS", "SIZE", "CAMERAS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.worker:
        n, size, cams = int(args.worker[0]), int(args.worker[1]), args.worker[2] == "1"
        print(
            "RESULT "
            + json.dumps(
                worker(args.env, n, size, cams, plan["steps"], plan["repeats"], plan["warmup"], args.device)
            )
        )
        return 0
    results = []
    for n, size in plan["configs"]:
        cams = size is not None
        cmd = [
            sys.executable,
            __file__,
            "--env",
            args.env,
            "--worker",
            str(n),
            str(size or 64),
            "1" if cams else "0",
        ]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--device", args.device] if args.device else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            print(
                f"failed: {n} envs, camera {size if cams else 'none'}:\n{proc.stderr[-1500:]}",
                file=sys.stderr,
            )
            continue
        results.append(json.loads(line[len("RESULT ") :]))
        r = results[-1]
        print(f"{r['num_envs']:>4} envs  camera {r['camera']:>7}  {r['env_steps_per_s']:>9,.0f} env-steps/s")
    info = machine_info()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps({"machine": info, "results": results}, indent=2) + "\n")
    (args.out / "bench.md").write_text(markdown(results, info))
    print(f"wrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
