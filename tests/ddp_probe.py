"""Run by tests/test_distributed.py under ``torchrun --nproc-per-node 2``: the one trainer on the toy
recipe for a few steps; each process then saves the weights it holds as rank<R>.pt in OUT. With a second
argument R, rank R fails at once (an uncaught exception) while the others wait for it in a collective."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from fakes import LineRecipe

from compute import distributed, set_threads
from training import Trainer

if __name__ == "__main__":
    out = Path(sys.argv[1])
    set_threads(1)
    if len(sys.argv) > 2:
        distributed.start()
        if distributed.rank() == int(sys.argv[2]):
            raise RuntimeError(f"rank {distributed.rank()} fails on purpose")
        distributed.all_gather("waiting for the failed rank")
    recipe = LineRecipe(steps=4)
    Trainer(out / "run", recipe, progress=False).fit()
    torch.save(recipe.model.state_dict(), out / f"rank{distributed.rank()}.pt")
    print(f"rank {distributed.rank()} finished", flush=True)
