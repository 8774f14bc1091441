"""Run by tests/test_distributed.py under ``torchrun --nproc-per-node 2``: the one trainer on a tiny model
for a few steps; each process then saves the weights it holds as rank<R>.pt in OUT."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from compute import distributed, set_threads
from training import DictConfig, Stage, Trainer


@dataclass
class Probe(DictConfig):
    steps: int = 4


class Line(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.unused = nn.Linear(1, 1), nn.Linear(1, 1)

    def forward(self, x):
        return self.body(x)


class ProbeRecipe:
    """Fit y = 2x with a head that is never used (DDP must be told some parameters get no gradient)."""

    kind, env, checkpoint_name, config = "probe", "test", "policy.pt", Probe()

    def build_model(self):
        torch.manual_seed(distributed.rank())  # different starting weights: DDP must copy rank 0's
        self.model = Line()
        return self.model

    def stages(self):
        return [Stage("fit", lambda: None, self.config.steps)]

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


if __name__ == "__main__":
    out = Path(sys.argv[1])
    set_threads(1)
    recipe = ProbeRecipe()
    Trainer(out / "run", recipe, progress=False).fit()
    torch.save(recipe.model.state_dict(), out / f"rank{distributed.rank()}.pt")
