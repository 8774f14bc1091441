"""SigLIP-BC for the trainer: demonstrations -> embedding cache -> MLP on MSE; optional DAgger rounds,
each a stage whose data step first lets the student drive while the expert labels every state."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

from episodes.files import episode_files
from policies.context import context_indices
from policies.encoders import FrozenEncoder
from policies.encoders.cache import build_cache, load_cache
from policies.siglip_bc.config import SiglipBCConfig
from policies.siglip_bc.policy import KIND, SiglipBCPolicy, build_model
from policies.siglip_bc.processing import episode_inputs
from training.trainer import Stage


@dataclass
class Dagger:
    """Where DAgger rollouts run (rollouts/runner.py) and who labels them: `make_labeller(env)` -> the
    expert (state -> wheels), built where the simulation is."""

    rollouts: object
    make_labeller: Callable
    out_dir: Path
    seed: int = 0


@dataclass
class BCData:
    inputs: torch.Tensor  # (N, D) joint embeddings
    labels: torch.Tensor  # (N, 2) expert wheel commands
    starts: torch.Tensor  # (N,) first step of each step's episode
    episodes: int


def model_policy(config: SiglipBCConfig, encoder: FrozenEncoder, model, num_envs: int) -> SiglipBCPolicy:
    """The policy of a model in training, on the device the model is on: validation and DAgger must not
    move the training model (a copy sent to a Ray worker is on the CPU)."""
    return SiglipBCPolicy(model, encoder, config, num_envs, str(next(model.parameters()).device))


class SiglipBCRecipe:
    kind = KIND
    checkpoint_name = "policy.pt"

    @property
    def weight_decay(self) -> float:
        return self.config.weight_decay

    def __init__(self, config: SiglipBCConfig, env: str, encoder: FrozenEncoder, demos_dir: Path | None,
                 dagger: Dagger | None = None):  # fmt: skip
        self.config, self.env, self.encoder = config, env, encoder
        self.demos_dir, self.dagger = demos_dir, dagger
        self.model = None

    def build_model(self):
        self.model = build_model(self.config, self.encoder.dim)
        return self.model

    def as_policy(self, model, num_envs: int) -> SiglipBCPolicy:
        return self.policy_maker()(model, num_envs)

    def policy_maker(self) -> partial:
        """`maker(model, num_envs)` -> the policy; small to send to Ray workers (the encoder goes by name)."""
        return partial(model_policy, self.config, self.encoder)

    def stages(self) -> list[Stage]:
        c = self.config
        stages = [Stage("bc", lambda: self.load(0), lambda d: c.epochs * self.batches_per_epoch(d))]
        for r in range(1, c.dagger_iterations + 1):
            stages.append(Stage(f"dagger{r}", lambda r=r: self.load(r), lambda d: c.dagger_epochs * self.batches_per_epoch(d),
                                best_key="bc"))  # fmt: skip
        return stages

    def load(self, dagger_round: int) -> BCData:
        """The first `demo_episodes` demonstrations plus every DAgger episode so far; round r first drives
        the student until the DAgger folder holds r x dagger_episodes episodes."""
        c = self.config
        if dagger_round > 0:
            target = dagger_round * c.dagger_episodes
            have = len(episode_files(self.dagger.out_dir))
            if have < target:
                maker, model = self.policy_maker(), self.model
                if getattr(self.dagger.rollouts, "remote", False):  # pickled to Ray workers: a CPU copy
                    model = copy.deepcopy(model).cpu()

                def make_driver(env):
                    return maker(model, env.unwrapped.num_envs)

                self.dagger.rollouts.record(self.dagger.make_labeller, make_driver, self.dagger.out_dir, self.env,
                                            have, self.dagger.seed + 7919 * dagger_round, wanted=target - have)  # fmt: skip
        episodes = load_cache(build_cache(self.demos_dir, self.encoder))[: c.demo_episodes]
        if self.dagger is not None and episode_files(self.dagger.out_dir):
            episodes += load_cache(build_cache(self.dagger.out_dir, self.encoder))
        return BCData(*episode_inputs(episodes, c.renormalize), len(episodes))

    def batches_per_epoch(self, data: BCData) -> int:
        return math.ceil(len(data.labels) / self.config.batch_size)

    def prepare(self, model, data: BCData) -> str:
        return "random"

    def batches(self, data: BCData, generator: torch.Generator) -> Iterator[dict]:
        """Epochs of shuffled mini-batches: the last context + 1 joint embeddings of each step, its label."""
        while True:
            for index in torch.randperm(len(data.labels), generator=generator).split(self.config.batch_size):
                past = context_indices(index, data.starts[index], self.config.context + 1)
                yield {"x": data.inputs[past].flatten(1), "y": data.labels[index]}

    def loss(self, model, batch: dict) -> dict[str, torch.Tensor]:
        return {"total": F.mse_loss(model(batch["x"]), batch["y"])}

    def learning_rate(self, step: int, total: int) -> float:
        return self.config.lr

    def checkpoint_metadata(self, stage: Stage, data: BCData) -> dict:
        return {"encoder": self.encoder.name, "variant": self.config.variant(),
                "data": {"demos": str(self.demos_dir), "demo_episodes": self.config.demo_episodes,
                         "dagger": str(self.dagger.out_dir) if self.dagger else None,
                         "episodes": data.episodes, "steps": len(data.labels)}}  # fmt: skip
