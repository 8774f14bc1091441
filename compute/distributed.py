"""Training under torchrun: ``torchrun --nproc-per-node N tools/train.py ...`` starts N processes, each
told its rank through the environment. DistributedDataParallel averages their gradients (gloo on CPU,
NCCL on GPUs), so every process holds the same weights after each step; rank 0 alone writes
checkpoints, logs and summaries and runs validation. Without torchrun every function here is a no-op
for a single process."""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
from torch import nn

# Rank 0 validates (closed loop can take long) while the others wait in the next collective.
TIMEOUT = timedelta(hours=3)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", 1))


def rank() -> int:
    return int(os.environ.get("RANK", 0))


def is_main() -> bool:
    return rank() == 0


def active() -> bool:
    return world_size() > 1 and torch.distributed.is_available() and torch.distributed.is_initialized()


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", 0))


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def start(device: str | torch.device | None = None) -> bool:
    """Join the torchrun job this process belongs to (once); False when there is none. NCCL when this
    process trains on a GPU (`device`, by default cuda if available; each process on GPU LOCAL_RANK), else
    gloo."""
    if world_size() <= 1 or active():
        return active()
    backend = "nccl" if str(device or default_device()).startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    torch.distributed.init_process_group(backend, timeout=TIMEOUT)
    # torn down at exit, while the interpreter is whole: see stop()
    _watch_for_failure()
    atexit.register(stop)
    return True


_failed = False  # this process is ending on an uncaught exception


def _watch_for_failure() -> None:
    previous = sys.excepthook

    def note(kind, value, traceback):
        global _failed
        _failed = True
        previous(kind, value, traceback)

    sys.excepthook = note


def stop() -> None:
    """Leave the torchrun job (run at exit). A process that finished waits at a barrier until every other
    one has finished too, and only then destroys its process group. Without the barrier (d1a5604's
    teardown) the first process to finish closed its gloo connections while its peers were still running
    with gloo's I/O threads serving those connections, and a peer tearing its group down then could abort
    ("terminate called without an active exception") after all its work was done: the likeliest cause of
    the aborts seen in CI, though they never reproduced here to prove it. A process that failed (an
    uncaught exception) leaves at once: its peers' barrier then fails instead of waiting for it."""
    if not active():
        return
    if not _failed:
        try:
            torch.distributed.barrier()
        except Exception:  # noqa: BLE001 - a peer that failed or left: leave anyway
            pass
    torch.distributed.destroy_process_group()


def device(requested: str | torch.device | None = None) -> torch.device:
    """Where this process trains, the one device decision of a training process: under torchrun with NCCL
    its own GPU (LOCAL_RANK); else `requested` (cpu, cuda or cuda:N; by default cuda if available, else
    cpu)."""
    if active() and torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", local_rank())
    return torch.device(requested or default_device())


def barrier() -> None:
    if active():
        torch.distributed.barrier()


def main_first(make: Callable[[], Any]) -> Any:
    """`make()` on rank 0, then on the others (which then find what rank 0 wrote: data, caches)."""
    if is_main():
        result = make()
        barrier()
        return result
    barrier()
    return make()


def all_gather(value: Any) -> list:
    """Every rank's `value`, in rank order (a single process: [value])."""
    if not active():
        return [value]
    values = [None] * world_size()
    torch.distributed.all_gather_object(values, value)
    return values


class Synced:
    """A model whose calls go through DistributedDataParallel (gradients averaged over the processes in
    backward) while its attributes stay the model's, so a recipe's loss can use both."""

    def __init__(self, model: nn.Module):
        from torch.nn.parallel import DistributedDataParallel

        self.module = model
        # some batches leave parts unused (heads without targets), which DDP must be told
        self.ddp = DistributedDataParallel(model, find_unused_parameters=True)

    def __call__(self, *args, **kwargs):
        return self.ddp(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.module, name)


def synced(model: nn.Module) -> nn.Module | Synced:
    """The model for training steps: wrapped in DDP under torchrun (rank 0's weights are copied to every
    process here), itself otherwise."""
    return Synced(model) if active() else model
