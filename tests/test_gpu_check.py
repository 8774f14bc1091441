"""tools/gpu_check.py, the prepared GPU check, in its dry run: the same sequence on the CPU at tiny sizes
(simulations in subprocesses, one optimiser step per learned kind, policy throughput), NCCL skipped; and
its torchrun worker under gloo, the code the NCCL step runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from tools import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def test_the_dry_run_passes_every_step_and_writes_its_figures(tmp_path):
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    status = {s["step"]: s["status"] for s in report["steps"]}
    assert report["dry_run"] and report["failed"] == [] and status.pop("torchrun with NCCL") == "skipped"
    assert set(status.values()) == {"passed"}, report["steps"]
    steps = {s["step"]: s for s in report["steps"]}
    sims = [s for name, s in steps.items() if name.startswith("simulation")]
    assert {s["env"] for s in sims} == {"arena", "rooms"}
    assert all(s["device"] == "cpu" and s["camera"] == "16x16" and s["env_steps_per_s"] > 0 for s in sims)
    for kind in ("siglip_bc", "pignav", "late_fusion", "idm"):
        assert steps[f"one optimiser step: {kind}"]["loss"] > 0
    rows = steps["PIG-Nav throughput"]["pignav"]["dry"]
    assert [r["batch"] for r in rows] == [1, 4] and all(r["decisions_per_s"] > 0 for r in rows)
    assert "| torchrun with NCCL | skipped |" in (tmp_path / "gpu_check.md").read_text()
    assert "has not yet run on a GPU" in gpu_check.__doc__


def test_the_torchrun_worker_trains_one_model_in_every_process(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(ROOT / "tools" / "gpu_check.py"), "--ddp-worker", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert [r["device"] for r in ranks] == ["cpu", "cpu"] and {r["backend"] for r in ranks} == {"gloo"}
    for name, value in ranks[0]["weights"].items():
        torch.testing.assert_close(ranks[1]["weights"][name], value, rtol=0, atol=0)
