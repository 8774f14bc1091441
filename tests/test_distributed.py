"""Training under torchrun: 2 processes on the CPU (gloo) hold identical weights after their updates,
though they started from different ones and drew different batches; rank 0 alone writes the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from training.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def torchrun(out: Path, *extra: str, ok: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(ROOT / "tests" / "ddp_probe.py"), str(out), *extra]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if not ok:
        return proc
    # a finished job exits 0: no process may abort in its teardown (compute.distributed.stop)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert all(f"rank {r} finished" in proc.stdout for r in (0, 1))
    assert "terminate called" not in proc.stderr, proc.stderr[-3000:]
    return proc


def test_two_processes_hold_identical_weights_after_updates(tmp_path):
    torchrun(tmp_path)
    first, second = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=0, atol=0)
    # the weights moved towards y = 2x from rank 0's start, and rank 0 wrote them
    checkpoint = read_checkpoint(tmp_path / "run" / "policy.pt", "line")
    torch.testing.assert_close(checkpoint["state_dict"]["body.weight"], first["body.weight"], rtol=0, atol=0)
    last = read_checkpoint(tmp_path / "run" / "last.pt", "line")
    generators = last["generators"]  # each process drew its own batches, and each resumes with its own
    assert len(generators) == 2 and not torch.equal(generators[0], generators[1])
    # run again: both processes find the finished run and stop
    assert "already trained" in torchrun(tmp_path).stdout


def test_a_failed_process_ends_the_job_at_once(tmp_path):
    """The barrier at exit is for processes that finished: rank 1, failing while rank 0 waits for it in a
    collective, must leave at once rather than wait at that barrier (both would wait until the 3-hour
    timeout)."""
    proc = torchrun(tmp_path, "1", ok=False, timeout=150)
    assert proc.returncode != 0 and "rank 1 fails on purpose" in proc.stderr
    assert "rank 0 finished" not in proc.stdout
