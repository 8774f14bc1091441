"""PIG-Nav and its late-fusion baseline: shapes, fusion, MAE, targets, learning, checkpoints, training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from fakes import fake_episode

from control.controller import steer_to
from episodes import files as dataset
from episodes.sets import load_episode_set
from policies.pignav import PigNavConfig, PigNavPolicy
from policies.pignav.config import VIT_SIZES
from policies.pignav.mae import MAE, init_from_mae_imagenet, load_timm_vit, random_masking
from policies.pignav.model import PigNavNet
from policies.pignav.processing import DemoSet, episode_targets, load_demos, sample_batch
from policies.pignav.recipe import PigNavRecipe
from rollouts.runner import LocalRollouts
from training import CheckpointError, Trainer, Validation, read_checkpoint, save_checkpoint
from training.trainer import train_step
from training.validation import closed_loop


def tiny(**overrides) -> PigNavConfig:
    """A small, quick model: one block, 32 px images, 16 px patches."""
    return PigNavConfig(**{"depth": 1, "image_size": 32, "patch_size": 16, "head_hidden": 32, "batch_size": 16,
                           "heldout": 0.0, **overrides})  # fmt: skip


def images(batch: int, size: int = 32, k: int | None = None, seed: int = 0) -> torch.Tensor:
    shape = (batch, 3, size, size) if k is None else (batch, k, 3, size, size)
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("fusion", ["early", "late", "stacked"])
@pytest.mark.parametrize("size", sorted(VIT_SIZES))
def test_output_shapes_for_every_size(size, fusion):
    config = tiny(size=size, fusion=fusion, context=2, waypoints=5, path_waypoints=6)
    out = PigNavNet(config)(images(3), images(3, seed=1), images(3, k=2, seed=2))
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == {"waypoints": (3, 5, 4), "goal": (3, 4), "distance": (3, 1), "path": (3, 6, 2)}
    assert PigNavNet(config).encoder.dim == VIT_SIZES[size][0]


def test_switched_off_heads_are_not_built():
    out = PigNavNet(tiny(goal_weight=0, path_weight=0))(images(2), images(2, seed=1))
    assert set(out) == {"waypoints", "distance"}


@pytest.mark.parametrize("fusion", ["early", "late", "stacked"])
def test_swapping_observation_and_goal_changes_the_output(fusion):
    torch.manual_seed(0)
    model = PigNavNet(tiny(fusion=fusion)).eval()
    obs, goal = images(2), images(2, seed=1)

    def relative_change() -> float:
        a, b = model(obs, goal)["waypoints"], model(goal, obs)["waypoints"]
        return ((a - b).norm() / a.norm()).item()

    assert relative_change() > 1e-4
    if fusion == "early":  # without type embeddings the roles could not be told apart
        with torch.no_grad():
            model.type_embed.zero_()
        assert relative_change() < 1e-6


def test_a_stacked_encoder_starts_from_one_image_weights():
    """MAE-sim's one-image filters go on each stacked image's channels, divided by their count: a pair of
    equal images gives the tokens the one-image encoder gives that image."""
    config = tiny(fusion="stacked", context=1)
    single, stacked = PigNavNet(tiny()).encoder, PigNavNet(config).encoder
    stacked.load_image_weights(single.state_dict())
    image = images(2)
    torch.testing.assert_close(stacked.patch_tokens(torch.cat([image] * 3, 1)), single.patch_tokens(image))
    assert stacked.patch_embed.proj.weight.shape[1] == 9


def test_context_frame_count_is_checked():
    with pytest.raises(ValueError, match="takes 0 context frames, got 1"):
        PigNavNet(tiny())(images(2), images(2), images(2, k=1))


@pytest.mark.parametrize("ratio", [0.5, 0.75, 0.9])
def test_mae_masking_hides_the_ratio_asked_for(ratio):
    tokens = torch.randn(4, 64, 8)
    kept, mask, restore = random_masking(tokens, ratio, torch.Generator().manual_seed(0))
    assert kept.shape == (4, round(64 * (1 - ratio)), 8)
    assert torch.all(mask.sum(1) == 64 - kept.shape[1])
    for row in range(4):  # the kept tokens are exactly the unmasked ones
        visible = tokens[row][mask[row] == 0]
        assert torch.equal(torch.sort(visible, 0).values, torch.sort(kept[row], 0).values)
    assert torch.equal(restore.sort(1).values, torch.arange(64).expand(4, -1))


def test_mae_learns_to_reconstruct():
    torch.manual_seed(0)
    model = PigNavNet(tiny(image_size=32, patch_size=8))
    mae = MAE(model.encoder, decoder_dim=32, decoder_depth=1)
    frames = images(8) * 0.2 + torch.linspace(-0.5, 0.5, 32)[None, None, None, :]  # structured images
    optimizer = torch.optim.AdamW(mae.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss, pred, mask = mae(frames)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert pred.shape == (8, 16, 8 * 8 * 3) and mask.mean().item() == pytest.approx(0.75)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def test_timm_vit_weights_load_with_resampled_positions(tmp_path):
    import timm
    from safetensors.torch import save_file

    source = timm.models.VisionTransformer(img_size=32, patch_size=16, embed_dim=192, depth=1, num_heads=3)
    save_file(source.state_dict(), tmp_path / "model.safetensors")
    model = PigNavNet(tiny(image_size=64))  # a 4x4 patch grid where the weights have 2x2
    init_from_mae_imagenet(model.encoder, tmp_path)
    assert torch.equal(model.encoder.blocks[0].attn.qkv.weight, source.blocks[0].attn.qkv.weight)
    assert model.encoder.pos_embed.shape == (1, 17, 192)
    wrong = PigNavNet(tiny(size="small"))
    with pytest.raises(ValueError, match="choose the matching --size"):
        load_timm_vit(wrong.encoder, source.state_dict())


def test_targets_are_in_the_robot_frame():
    steps = 20
    x = np.linspace(0, 1.9, steps)  # driving along +y (yaw 90 deg) at 0.1 m per step
    labels = {
        "robot_pose": np.stack([np.zeros(steps), x, np.full(steps, np.pi / 2)], -1).astype(np.float32),
        "goal_pose": np.tile([0.0, 2.0, np.pi], (steps, 1)).astype(np.float32),
        "geodesic_distance": (2.0 - x).astype(np.float32),
        "path_waypoints": np.tile([[-1.0, 0.0]], (steps, 8, 1)).astype(np.float32),
    }
    config = PigNavConfig(waypoints=2, waypoint_spacing=0.3, distance_scale=2.0)
    t = episode_targets(labels, config)
    assert np.allclose(t["waypoints"][0], [[1, 0, 1, 0], [2, 0, 1, 0]], atol=1e-5)  # 0.3 and 0.6 m ahead
    # 0.2 m left: both stop at the end
    assert np.allclose(t["waypoints"][-3, :, 0], [2 / 3, 2 / 3], atol=1e-5)
    assert np.allclose(t["waypoints"][-1, :, 0], 0, atol=1e-5)  # past the end: stay
    assert np.allclose(t["goal"][0], [1.0, 0.0, 0.0, 1.0], atol=1e-5)  # 2 m ahead, turned 90 deg left
    assert np.allclose(t["distance"][:, 0], labels["geodesic_distance"] / 2.0)
    assert np.allclose(t["path"][0, 0], [0.0, 0.5], atol=1e-5)  # (-1, 0) is to the robot's left


def write_demos(directory, env: str, episodes: int, steps: int = 24) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(episodes):
        attrs = {"instruction": "go to the image", "target": "goal"}
        dataset.write_episode(dataset.episode_path(directory, i), env, fake_episode(steps, i), attrs, i, True)


def test_demos_load_with_fractions_and_batches_carry_negative_goals(tmp_path):
    write_demos(tmp_path / "demos", "rooms", 8, steps=10)
    config = tiny(context=2, negative_goals=0.5, batch_size=64)
    data = load_demos([tmp_path / "demos"], config, episodes=8, progress=False)
    assert data.episodes == 8 and len(data) == 80 and data.frames.shape == (80, 8, 8, 3)
    assert load_demos([tmp_path / "demos"], config, episodes=8, fraction=0.25, progress=False).episodes == 2
    batch = sample_batch(data, config, torch.Generator().manual_seed(0))
    assert batch["obs"].shape == (64, 3, 32, 32) and batch["context"].shape == (64, 2, 3, 32, 32)
    assert 0 < batch["negative"].sum() < 64
    assert torch.all(batch["targets"]["distance"][batch["negative"]] == data.targets["distance"].max())


def synthetic_set(n: int = 256) -> DemoSet:
    """Frames whose colour says where the next waypoint is: a learnable mapping."""
    g = torch.Generator().manual_seed(0)
    side = torch.rand(n, generator=g)
    frames = torch.zeros(n, 32, 32, 3, dtype=torch.uint8)
    frames[..., 0] = (side * 255).to(torch.uint8)[:, None, None]
    targets = {
        "waypoints": torch.stack([torch.ones(n), side * 2 - 1, torch.ones(n), torch.zeros(n)], -1)[:, None].repeat(1, 5, 1),
        "goal": torch.stack([side, side, torch.ones(n), torch.zeros(n)], -1),
        "distance": side[:, None],
        "path": side[:, None, None].repeat(1, 8, 2),
    }  # fmt: skip
    return DemoSet(
        frames, frames[:4], torch.arange(n) % 4, torch.zeros(n, dtype=torch.long), targets, ["synthetic"]
    )


@pytest.mark.parametrize("fusion", ["early", "late", "stacked"])
def test_losses_decrease_on_a_tiny_dataset(fusion):
    torch.manual_seed(0)
    config = tiny(fusion=fusion, batch_size=32, negative_goals=0.0, goal_augment=False)
    data, model = synthetic_set(), PigNavNet(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator, recipe = torch.Generator().manual_seed(0), PigNavRecipe(config, "rooms", {}, Path("."))
    history = []
    for _ in range(80):
        losses = train_step(recipe, model, optimizer, sample_batch(data, config, generator))
        history.append({k: v.item() for k, v in losses.items()})
    for head in ("waypoints", "goal", "distance", "path", "total"):
        first, last = (np.mean([h[head] for h in part]) for part in (history[:5], history[-5:]))
        assert last < 0.5 * first, head


def test_controller_steers_towards_the_waypoint():
    wheels = steer_to(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]))
    assert wheels[0, 0] == wheels[0, 1] > 0  # straight ahead: both wheels forward
    assert wheels[1, 1] > wheels[1, 0] and wheels[2, 0] > wheels[2, 1]  # left / right turns
    assert wheels.abs().max() <= 1


def test_waypoint_controller_limits_how_fast_the_wheel_commands_change():
    from control.controller import WaypointController

    smooth = WaypointController(2, max_change=0.25)
    ahead = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert torch.allclose(smooth(ahead), torch.full((2, 2), 0.25))  # from standing still
    assert torch.allclose(smooth(ahead), torch.full((2, 2), 0.5))
    turn = smooth(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))  # env 0: a hard left ([-0.5, 0.5] unlimited)
    assert torch.allclose(turn[0], torch.tensor([0.25, 0.5])) and torch.allclose(
        turn[1], torch.full((2,), 0.75)
    )
    smooth.reset(torch.tensor([1]))
    assert torch.equal(smooth.last[1], torch.zeros(2))
    free = WaypointController(1)
    assert torch.equal(free(torch.tensor([[0.0, 1.0]])), steer_to(torch.tensor([[0.0, 1.0]])))


def test_checkpoint_round_trips_and_is_refused_for_another_env(tmp_path):
    config = tiny(fusion="late", context=1)
    model = PigNavNet(config)
    path = save_checkpoint(tmp_path / "policy.pt", config.kind, "rooms", model.state_dict(), config.to_dict())
    policy = PigNavPolicy.from_checkpoint(read_checkpoint(path, "late_fusion", "rooms"), num_envs=2)
    assert policy.kind == "late_fusion"
    for name, value in model.state_dict().items():
        assert torch.equal(policy.model.state_dict()[name], value)
    obs = {k: torch.randint(0, 255, (2, 32, 32, 3), dtype=torch.uint8) for k in ("rgb", "goal_rgb")}
    expected = model.eval()(*((o.permute(0, 3, 1, 2).float() / 127.5 - 1) for o in (obs["rgb"], obs["goal_rgb"])),
                            (obs["rgb"].permute(0, 3, 1, 2).float() / 127.5 - 1)[:, None])["waypoints"]  # fmt: skip
    # the same function of the same weights; float sums may differ in the last bits across machines
    torch.testing.assert_close(policy.predict(obs)["waypoints"], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(CheckpointError, match="trained for env 'rooms', not 'arena'"):
        read_checkpoint(path, "late_fusion", "arena")
    with pytest.raises(CheckpointError, match="holds a 'late_fusion' model, not 'pignav'"):
        read_checkpoint(path, "pignav", "rooms")
    # a scene style's checkpoint acts in the other styles (the scene study's transfer), not in the arena
    from tools.registry import check_policy

    assert check_policy("late_fusion", "halls", path)["env"] == "rooms"
    with pytest.raises(CheckpointError, match="trained for env 'rooms', not 'arena'"):
        check_policy("late_fusion", "arena", path)


def test_training_pretrains_finetunes_validates_and_resumes(paper_arena, tmp_path):
    """Both stages on tiny synthetic demos, validated in the arena in closed loop; a rerun redoes nothing."""
    write_demos(tmp_path / "rooms", "rooms", 3)
    write_demos(tmp_path / "arena", "arena", 4)
    config = tiny(pretrain_envs=["rooms"], pretrain_steps=4, finetune_steps=4, val_every=2, fraction=0.5,
                  init="mae-sim", mae_steps=3, demo_episodes=4)  # fmt: skip
    paper_arena.cfg.episode_length_s = 2.0
    episodes = load_episode_set("arena", "paper", "val")[:2]
    out, dirs = tmp_path / "run", {"rooms": tmp_path / "rooms", "arena": tmp_path / "arena"}

    def fit():
        recipe = PigNavRecipe(config, "arena", dirs, tmp_path / "runs" / "mae-sim")
        validation = Validation(
            closed_loop(LocalRollouts(paper_arena), recipe.policy_maker(), episodes), config.val_every
        )
        return Trainer(out, recipe, validation, progress=False).fit()

    path = fit()
    log = (out / "train_log.csv").read_text().splitlines()
    assert [row.split(",")[:2] for row in log[1:4]] == [
        ["mae-sim", str(s)] for s in (1, 2, 3)
    ]  # its own stage
    assert len(log) == 1 + 3 + 4 and log[4].startswith("pretrain,2,") and log[-1].startswith("finetune,4,")
    ckpt = read_checkpoint(path, "pignav", "arena")
    assert ckpt["data"]["stage"] == "finetune" and ckpt["data"]["episodes"] == 2  # half of 4
    assert ckpt["init"].startswith("mae-sim") and ckpt["variant"].endswith("fine-tuned on 0.5 of the data")
    assert read_checkpoint(out / "pretrain.pt", "pignav", "arena")["variant"].endswith("zero-shot")
    assert len(list((tmp_path / "runs" / "mae-sim").glob("*/mae.pt"))) == 1
    assert fit() == path
    assert len((out / "train_log.csv").read_text().splitlines()) == 8  # nothing redone


def weights_digest(path) -> str:
    import hashlib

    state, digest = read_checkpoint(path)["state_dict"], hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode() + state[name].numpy().tobytes())
    return digest.hexdigest()


def test_mae_sim_is_a_stage_that_a_resumed_run_skips_and_that_runs_share(tmp_path, monkeypatch):
    """MAE-sim's rows are in the run's log; a run stopped after it resumes without it and ends with the weights of
    a run never stopped; a second run of the same setting finds the encoder trained in runs/mae-sim."""
    write_demos(tmp_path / "rooms", "rooms", 3)
    config = tiny(finetune_steps=4, val_every=2, init="mae-sim", mae_steps=3, demo_episodes=3)
    dirs, mae_dir = {"rooms": tmp_path / "rooms"}, tmp_path / "runs" / "mae-sim"
    fitted = []

    class Killed(Exception):
        pass

    def killed(data, generator):
        raise Killed
        yield

    def fit(out, stop: bool = False):
        recipe = PigNavRecipe(config, "rooms", dirs, mae_dir, seed=3)
        fit_mae = recipe.fit_mae
        monkeypatch.setattr(recipe, "fit_mae", lambda *a: fitted.append(out) or fit_mae(*a))
        if stop:  # killed before the first pretraining step: the resume point is the one after MAE-sim
            monkeypatch.setattr(recipe, "batches", killed)
        return Trainer(out, recipe, seed=3, progress=False).fit()

    with pytest.raises(Killed):
        fit(tmp_path / "stopped", stop=True)
    assert [
        r.split(",")[0] for r in (tmp_path / "stopped" / "train_log.csv").read_text().splitlines()[1:]
    ] == ["mae-sim"] * 3
    resumed = fit(tmp_path / "stopped")
    assert fitted == [tmp_path / "stopped"]  # the resumed run skipped MAE-sim
    log = (tmp_path / "stopped" / "train_log.csv").read_text().splitlines()[1:]
    assert [r.split(",")[:2] for r in log] == [["mae-sim", "1"], ["mae-sim", "2"], ["mae-sim", "3"],
                                               ["finetune", "2"], ["finetune", "4"]]  # fmt: skip
    whole = fit(tmp_path / "whole")  # MAE-sim already trained in the shared folder: its rows, no new training
    assert len(list(mae_dir.glob("*/mae.pt"))) == 1
    assert (mae_dir / next(mae_dir.iterdir()).name / "train_log.csv").read_text().count("\n") == 4
    assert weights_digest(whole) == weights_digest(resumed)


def test_throughput_benchmark_measures_decisions_and_training():
    from evaluation.bench_policies import bench_pignav

    rows = bench_pignav(tiny(fusion="late"), "cpu", batches=[1, 3], repeats=1)
    assert [(r["what"], r["batch"]) for r in rows] == [("decisions", 1), ("decisions", 3), ("training", 16)]
    assert all(r["per_s"] > 0 and r["policy"] == "late_fusion" for r in rows)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fraction", "0"], "zero-shot) needs --pretrain-envs"),
        (["--pseudo", "data/x"], "--pseudo data is mixed into pretraining"),
        (["--pretrain-envs", "rooms", "--pseudo", "x", "--pseudo-ratio", "1.5"], "--pseudo-ratio must be in"),
        (["--pretrain-envs", "nowhere"], "unknown --pretrain-envs nowhere"),
        (["--init", "mae-imagenet"], "use --size base --patch-size 16"),
        (["--image-size", "50"], "must be a positive multiple of --patch-size 16"),
    ],
)
def test_bad_training_flags_are_refused_in_one_line(flags, message, capsys):
    from tools import train as train_command

    with pytest.raises(SystemExit) as exit_info:
        train_command.main(["pignav", "--env", "halls", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_open_loop_errors_fall_below_the_mean_target_baseline_with_training():
    from policies.pignav.open_loop import open_loop_errors

    torch.manual_seed(0)
    config = tiny(batch_size=32, negative_goals=0.0, goal_augment=False)
    data, model = synthetic_set(), PigNavNet(config)
    model.heads.set_target_stats(data.targets)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator, recipe = torch.Generator().manual_seed(0), PigNavRecipe(config, "rooms", {}, Path("."))
    before = open_loop_errors(model, config, data)
    for _ in range(200):
        train_step(recipe, model, optimizer, sample_batch(data, config, generator))
    after = open_loop_errors(model, config, data)
    before, final = before["final"], after["final"]  # synthetic data has no poses: final goals only
    assert after["frames"] == len(data) and final["distance_error_m"] < before["distance_error_m"]
    # an untrained model sits near 1x the baseline
    assert final["waypoint_error_m"] < 0.75 * final["mean_target_baseline_waypoint_error_m"]
    assert final["waypoint_error_m"] < before["waypoint_error_m"]


def straight_episode_set(steps: int = 40) -> DemoSet:
    """One episode driving +x at 0.05 m per step, then one driving +y: poses known by hand."""
    config = tiny()
    frames = torch.arange(2 * steps, dtype=torch.uint8)[:, None, None, None].expand(-1, 8, 8, 3).clone()
    x = torch.arange(steps, dtype=torch.float64) * 0.05
    first = torch.stack([x, torch.zeros(steps), torch.zeros(steps)], -1)
    second = torch.stack([torch.zeros(steps), x, torch.full((steps,), np.pi / 2)], -1)
    pose = torch.cat([first, second])
    arc = torch.cat([x, x + 1e6])
    episode = torch.cat([torch.zeros(steps, dtype=torch.long), torch.ones(steps, dtype=torch.long)])
    start = episode * steps
    zeros = {"waypoints": torch.zeros(2 * steps, config.waypoints, 4), "goal": torch.zeros(2 * steps, 4),
             "distance": torch.ones(2 * steps, 1), "path": torch.zeros(2 * steps, config.path_waypoints, 2)}  # fmt: skip
    return DemoSet(frames, frames[[steps - 1, 2 * steps - 1]], episode, start, zeros, ["synthetic"], pose=pose,
                   end=start + steps - 1, arc=arc)  # fmt: skip


def test_hindsight_targets_are_recomputed_for_the_goal_frame():
    from policies.pignav.processing import hindsight_targets

    config, data = (
        tiny(waypoints=3, waypoint_spacing=0.2, distance_scale=1.0),
        straight_episode_set(),
    )
    t, g = torch.tensor([45]), torch.tensor([55])  # the second episode, driving +y, 10 steps = 0.5 m ahead
    out = hindsight_targets(data, t, g, config)
    # robot frame: straight ahead every 0.2 m along the path; the third (0.6 m) stops at the goal (0.5 m)
    assert torch.allclose(out["waypoints"][0, :, 0], torch.tensor([1.0, 2.0, 2.5]), atol=1e-5)
    assert torch.allclose(out["waypoints"][0, :, 1:], torch.tensor([[0.0, 1.0, 0.0]] * 3), atol=1e-5)
    assert torch.allclose(out["goal"][0], torch.tensor([0.5, 0.0, 1.0, 0.0]), atol=1e-5)
    assert torch.allclose(out["distance"][0], torch.tensor([0.5]), atol=1e-6)
    assert torch.allclose(out["path"][0, :2, 0], torch.tensor([0.25, 0.5]), atol=1e-5)  # along the trajectory
    assert torch.allclose(
        out["path"][0, 2:], torch.tensor([0.5, 0.0]).expand(config.path_waypoints - 2, 2), atol=1e-5
    )


def test_batches_mix_hindsight_final_and_negative_goals_as_asked():
    data = straight_episode_set()
    config = tiny(
        batch_size=4000, hindsight_goals=0.6, negative_goals=0.1, goal_augment=False, hindsight_steps=[5, 5]
    )
    batch = sample_batch(data, config, torch.Generator().manual_seed(0))
    shares = torch.bincount(batch["kind"], minlength=3).float() / 4000
    assert torch.allclose(shares, torch.tensor([0.3, 0.6, 0.1]), atol=0.03)
    index, goal_pixel = batch["index"], ((batch["goal"][:, 0, 0, 0] + 1) * 127.5).round().long()
    hind, neg = batch["kind"] == 1, batch["kind"] == 2
    # a hindsight goal is the frame 5 steps on (the last frame at the end of an episode)
    assert torch.equal(goal_pixel[hind], torch.minimum(index[hind] + 5, data.end[index[hind]]))
    assert (data.episode[goal_pixel[neg]] != data.episode[index[neg]]).all()  # negatives: another episode
    assert torch.all(batch["targets"]["distance"][neg] == data.far_distance)


def test_every_output_of_a_head_shares_one_spread():
    model = PigNavNet(tiny())
    targets = {k: torch.randn(500, *shape) * torch.linspace(0.01, 3, math.prod(shape)).view(shape)
               for k, shape in model.heads.shapes.items()}  # fmt: skip
    model.heads.set_target_stats(targets)
    for name in model.heads.shapes:
        std = model.heads.std(name)
        assert torch.allclose(std, std.flatten()[0].expand_as(std)), name  # no tiny per-dimension spread


@pytest.mark.parametrize("fusion", ["early", "late"])
def test_open_loop_command_measures_a_checkpoint_on_all_or_heldout_episodes(fusion, tmp_path):
    import json

    from evaluation.open_loop import main

    write_demos(tmp_path / "demos", "rooms", 4)
    config = tiny(fusion=fusion, context=1, heldout=0.25)
    path = save_checkpoint(tmp_path / "policy.pt", config.kind, "rooms", PigNavNet(config).state_dict(),
                           config.to_dict())  # fmt: skip
    reports = {}
    for flags in ([], ["--heldout"]):
        out = tmp_path / f"report{len(flags)}.json"
        args = ["--checkpoint", str(path), "--demos", str(tmp_path / "demos"), "--out", str(out), *flags]
        assert main(args) == 0
        reports[bool(flags)] = json.loads(out.read_text())
    assert reports[False]["episodes"] == 4 and reports[True]["episodes"] == 1  # a quarter held out
    for report in reports.values():
        assert report["checkpoint"] == str(path) and report["frames"] == 24 * report["episodes"]
        assert {"final", "hindsight_15"} <= set(report)
        assert all(math.isfinite(v) for v in report["final"].values())


def test_each_env_gets_its_own_waypoints_and_controller_and_flags_win():
    from policies.pignav.config import ENV_DEFAULTS, PigNavConfig, config_from_args
    from tools.train import build_parser

    parser, _ = build_parser()
    arena = config_from_args(parser.parse_args(["pignav", "--env", "arena"]))
    rooms = config_from_args(parser.parse_args(["pignav", "--env", "rooms"]))
    for key, value in ENV_DEFAULTS["arena"].items():
        assert getattr(arena, key) == value
    study = PigNavConfig()  # the scene study's recipe is the defaults
    assert (rooms.waypoint_stride, rooms.waypoint_spacing, rooms.lookahead, rooms.max_wheel_change) == (
        study.waypoint_stride, study.waypoint_spacing, study.lookahead, study.max_wheel_change)  # fmt: skip
    assert rooms.goal_augment and not arena.goal_augment
    flagged = config_from_args(parser.parse_args(["pignav", "--env", "arena", "--lookahead", "2"]))
    assert flagged.lookahead == 2


def test_time_spaced_waypoints_are_the_poses_every_stride_steps_and_stop_at_the_goal():
    config = PigNavConfig(waypoints=3, waypoint_stride=2, waypoint_spacing=0.1)
    pose = torch.tensor([[0.1 * i, 0.0, 0.0] for i in range(6)], dtype=torch.float64)
    arc = torch.arange(6, dtype=torch.float64) * 0.1
    from policies.pignav.processing import local_waypoints

    wp = local_waypoints(pose, arc, torch.tensor([0, 3]), torch.tensor([5, 4]), config)
    assert torch.allclose(
        wp[0, :, 0], torch.tensor([2.0, 4.0, 5.0], dtype=torch.float64)
    )  # /0.1 m, stops at 5
    assert torch.allclose(wp[1, :, 0], torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64))  # goal at step 4
    assert torch.allclose(wp[..., 2], torch.ones(2, 3, dtype=torch.float64))  # no heading change
