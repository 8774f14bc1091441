"""SigLIP-BC: context stacking, learning, checkpoints, acting and training in the arena."""

from __future__ import annotations

import pytest
import torch
from fakes import fake_episode
from steering import steer_to_target

from episodes import files as dataset
from episodes.sets import load_episode_set
from evaluation import run
from policies.context import ContextBuffer, context_indices
from policies.encoders import make_encoder
from policies.siglip_bc import SiglipBCConfig, SiglipBCPolicy
from policies.siglip_bc.policy import KIND, build_model
from policies.siglip_bc.recipe import BCData, Dagger, SiglipBCRecipe
from rollouts.runner import LocalRollouts
from training import CheckpointError, Trainer, Validation, read_checkpoint, save_checkpoint
from training.trainer import train_step
from training.validation import closed_loop


def test_context_indices_stay_inside_the_episode():
    index, start = torch.tensor([0, 1, 5, 7]), torch.tensor([0, 0, 4, 4])
    assert context_indices(index, start, 3).tolist() == [[0, 0, 0], [0, 0, 1], [4, 4, 5], [5, 6, 7]]


def test_context_buffer_fills_new_episodes_with_their_first_frame():
    buffer = ContextBuffer(num_envs=2, k=3, dim=1, device="cpu")
    assert buffer.push(torch.tensor([[1.0], [10.0]])).tolist() == [[1, 1, 1], [10, 10, 10]]
    assert buffer.push(torch.tensor([[2.0], [20.0]])).tolist() == [[1, 1, 2], [10, 10, 20]]
    buffer.reset(torch.tensor([1]))
    assert buffer.push(torch.tensor([[3.0], [30.0]])).tolist() == [[1, 2, 3], [30, 30, 30]]


class Dim16:
    name, dim = "fake", 16


@pytest.mark.parametrize("context", [0, 2])
def test_bc_loss_decreases(context):
    torch.manual_seed(0)
    config = SiglipBCConfig(context=context, hidden=[64, 64], batch_size=64)
    inputs = torch.randn(512, 16)
    labels = torch.tanh(inputs[:, :2] - inputs[:, 2:4])
    data = BCData(inputs, labels, torch.arange(512) // 32 * 32, 16)
    recipe = SiglipBCRecipe(config, "arena", Dim16(), demos_dir=None)  # no files: the data is given
    model = recipe.build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    batches = recipe.batches(data, torch.Generator().manual_seed(0))
    losses = [train_step(recipe, model, optimizer, next(batches))["total"].item() for _ in range(240)]
    assert sum(losses[-8:]) < 0.3 * sum(losses[:8])


@pytest.fixture
def bc_checkpoint(tmp_path):
    config = SiglipBCConfig(encoder="pixels", hidden=[32])
    model = build_model(config, make_encoder("pixels").dim)
    return save_checkpoint(tmp_path / "policy.pt", KIND, "arena", model.state_dict(), config.to_dict(),
                           encoder="pixels", variant=config.variant())  # fmt: skip


def test_checkpoint_round_trips_and_is_refused_when_it_does_not_fit(bc_checkpoint):
    policy = SiglipBCPolicy.from_checkpoint(read_checkpoint(bc_checkpoint, KIND, "arena"), num_envs=2)
    assert policy.encoder_name == "pixels" and policy.metadata["variant"] == "study recipe"
    with pytest.raises(CheckpointError, match="trained for env 'arena', not 'rooms'"):
        read_checkpoint(bc_checkpoint, KIND, "rooms")
    with pytest.raises(CheckpointError, match="holds a 'siglip_bc' model, not 'pignav'"):
        read_checkpoint(bc_checkpoint, "pignav", "arena")
    bc_checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable goalnav checkpoint"):
        read_checkpoint(bc_checkpoint, KIND, "arena")


def test_evaluation_refuses_a_checkpoint_for_another_env_in_one_line(bc_checkpoint, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(
            ["--policy", "siglip_bc", "--env", "arena", "--checkpoint", str(bc_checkpoint)[:-3] + "x.pt"]
        )
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        run.main(["--policy", "expert", "--env", "arena", "--checkpoint", str(bc_checkpoint)])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no siglip_bc checkpoint" in err[0] and "not 'expert'" in err[1]


def test_policy_acts_in_the_arena_on_tiny_siglip(arena, tmp_path):
    from policies.encoders.tiny_siglip import write_tiny_siglip

    encoder = make_encoder("tiny-siglip", weights=write_tiny_siglip(tmp_path / "tiny"))
    config = SiglipBCConfig(encoder="tiny-siglip", context=2, hidden=[16])
    policy = SiglipBCPolicy(build_model(config, encoder.dim), encoder, config, arena.num_envs)
    obs, _ = arena.reset()
    policy.reset(torch.arange(arena.num_envs))
    start = arena.robot_pose().clone()
    for _ in range(10):
        actions = policy.act({**obs, "instruction": list(arena.instructions)})
        assert actions.shape == (arena.num_envs, 2) and actions.abs().max() <= 1
        obs, *_ = arena.step(actions)
    assert not torch.allclose(arena.robot_pose(), start)  # it drove


def test_training_validates_in_closed_loop_runs_dagger_and_resumes(paper_arena, tmp_path):
    demos = tmp_path / "demos"
    demos.mkdir()
    for i in range(4):
        attrs = {"instruction": f"go to the {['red', 'blue', 'green', 'yellow'][i]} sphere"}
        dataset.write_episode(dataset.episode_path(demos, i), "arena", fake_episode(20, i), attrs, i, True)
    # 80 steps: one batch per epoch, so two optimiser steps in the first stage and one after DAgger
    config = SiglipBCConfig(encoder="pixels", hidden=[32], epochs=2, val_every=1, demo_episodes=4,
                            dagger_iterations=1, dagger_episodes=2, dagger_epochs=1)  # fmt: skip
    paper_arena.cfg.episode_length_s = 2.0  # short episodes keep validation and DAgger quick
    episodes = load_episode_set("arena", "paper", "val")[:4]
    out = tmp_path / "run"

    def fit():
        here = LocalRollouts(paper_arena)
        dagger = Dagger(here, lambda env: steer_to_target, tmp_path / "dagger" / "run")
        recipe = SiglipBCRecipe(config, "arena", make_encoder("pixels"), demos, dagger)
        validation = Validation(closed_loop(here, recipe.policy_maker(), episodes), config.val_every)
        return Trainer(out, recipe, validation, progress=False).fit()

    path = fit()
    log = (out / "train_log.csv").read_text().splitlines()
    assert len(log) == 1 + 3  # header, two validations in the first stage, one after the DAgger round
    dagger = dataset.episode_files(tmp_path / "dagger" / "run")
    assert len(dagger) == 2
    data, _ = dataset.read_episode(dagger[0])
    assert torch.allclose(
        torch.from_numpy(data["actions"]), steer_to_target(torch.from_numpy(data["obs"]["policy"]))
    )
    ckpt = read_checkpoint(path, KIND, "arena")
    assert ckpt["variant"] == "DAgger x1" and ckpt["validation"]["stage"] in ("bc", "dagger1")
    assert fit() == path and len((out / "train_log.csv").read_text().splitlines()) == 4  # nothing redone
