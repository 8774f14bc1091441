"""Run by tests/test_distributed.py under ``torchrun --nproc-per-node 2``: the one trainer on the toy
recipe for a few steps; each process then saves the weights it holds as rank<R>.pt in OUT."""

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
    recipe = LineRecipe(steps=4)
    Trainer(out / "run", recipe, progress=False).fit()
    torch.save(recipe.model.state_dict(), out / f"rank{distributed.rank()}.pt")
    print(f"rank {distributed.rank()} finished", flush=True)
