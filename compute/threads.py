"""Threads per process. A simulation runs its Warp kernels on one thread, and torch's default (every
core) beside another busy process oversubscribes: on 2 cores, 2 torch threads beside a busy core ran a
small update loop 35x slower than 1 thread. So every process sets its threads from the cores it is given.
"""

from __future__ import annotations

import os

THREADS_VARIABLE = "GOALNAV_THREADS"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def threads_per_process(processes: int = 1, threads: int | None = None, available: int | None = None) -> int:
    """torch/OpenMP threads for each of `processes` processes sharing the cores: an explicit `threads`
    (or $GOALNAV_THREADS) wins; else each process's share of the cores less one for its simulation, at
    least 1, so processes x threads never exceeds the cores unless asked to."""
    explicit = threads or int(os.environ.get(THREADS_VARIABLE, 0) or 0)
    if explicit:
        return explicit
    return max(1, (available or cores()) // max(1, processes) - 1)


def set_threads(threads: int | None = None, processes: int | None = None) -> int:
    """Set torch's and OpenMP's threads for this process and the ones it starts; returns the number.
    `processes` sharing the cores defaults to torchrun's processes on this node ($LOCAL_WORLD_SIZE), else 1."""
    import torch

    processes = processes or int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    threads = threads_per_process(processes, threads)
    os.environ["OMP_NUM_THREADS"] = os.environ[THREADS_VARIABLE] = str(threads)
    torch.set_num_threads(threads)
    return threads
