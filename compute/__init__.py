"""Processes and cores: how many threads each process uses, and the rank of a process in a torchrun job.
Ray workers for rollouts live in rollouts/workers.py; the trainer uses compute.distributed."""

from compute.threads import cores, set_threads, threads_per_process

__all__ = ["cores", "set_threads", "threads_per_process"]
