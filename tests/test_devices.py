"""One device per training process, followed end to end: the trainer builds the model there and moves
every batch tensor there; validation's policies act where the model is; tools/train.py decides it once.
On a CPU machine the device is "cpu", so the moves are checked by recording them, not by where tensors
end up alone (which a trainer that moved nothing would pass too)."""

from __future__ import annotations

import pytest
import torch
from fakes import Line, LineRecipe

from compute import distributed
from training import Trainer
from training.trainer import to_device


class Tracked(torch.Tensor):
    """A tensor that records the devices it is moved to."""

    moves: list = []

    def to(self, *args, **kwargs):
        Tracked.moves.append(torch.device(args[0] if args else kwargs["device"]))
        return super().to(*args, **kwargs).as_subclass(torch.Tensor)


class TrackedLine(Line):
    def to(self, *args, **kwargs):
        self.moved_to = torch.device(args[0] if args else kwargs["device"])
        return super().to(*args, **kwargs)


class DeviceRecipe(LineRecipe):
    """The toy recipe with nested batches of tracked tensors; its loss records what it was given."""

    def build_model(self):
        self.model = TrackedLine()
        return self.model

    def batches(self, data, generator):
        while True:
            x = torch.rand(8, 1, generator=generator)
            yield {"pair": (x.as_subclass(Tracked), (2 * x).as_subclass(Tracked)), "weights": [torch.ones(8)]}

    def loss(self, model, batch):
        self.seen = [batch["pair"][0], batch["pair"][1], batch["weights"][0]]
        x, y = batch["pair"]
        return {"total": ((model(x) - y) ** 2 * batch["weights"][0][:, None]).mean()}


def test_the_trainer_moves_the_model_and_every_batch_tensor_to_its_device(tmp_path):
    Tracked.moves = []
    recipe = DeviceRecipe(steps=2)
    Trainer(tmp_path / "run", recipe, progress=False, device="cpu").fit()
    cpu = torch.device("cpu")
    assert recipe.model.moved_to == cpu
    assert all(p.device == cpu for p in recipe.model.parameters())
    assert all(t.device == cpu and type(t) is torch.Tensor for t in recipe.seen)  # moved, not the originals
    assert Tracked.moves == [cpu] * 4  # both tracked tensors of both steps


def test_to_device_reaches_every_tensor_in_nested_batches():
    batch = {"a": torch.zeros(2), "b": (torch.ones(1), [torch.ones(3), "text"]), "c": 3}
    Tracked.moves = []
    tracked = {k: v.as_subclass(Tracked) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    out = to_device(tracked, "cpu")
    assert Tracked.moves == [torch.device("cpu")] and type(out["a"]) is torch.Tensor
    moved = to_device(batch, "meta")  # no data: just where each tensor goes
    assert moved["a"].is_meta and moved["b"][0].is_meta and moved["b"][1][0].is_meta
    assert moved["b"][1][1] == "text" and moved["c"] == 3 and isinstance(moved["b"], tuple)


def test_one_device_decision_per_process():
    assert distributed.device("cpu") == torch.device("cpu")
    assert distributed.device("cuda:1") == torch.device("cuda", 1)  # asked for: no torchrun here
    default = "cuda" if torch.cuda.is_available() else "cpu"
    assert distributed.device().type == default


@pytest.mark.parametrize("kind", ["pignav", "siglip_bc"])
def test_validation_policies_act_where_the_model_is_and_leave_it_there(kind, monkeypatch):
    """A policy built for validation must not move the training model (the old makers put it on the CPU)."""
    moved = []
    if kind == "pignav":
        from policies.pignav import PigNavConfig
        from policies.pignav.model import PigNavNet
        from policies.pignav.recipe import PigNavRecipe

        config = PigNavConfig(depth=1, image_size=32, patch_size=16, head_hidden=32)
        model, maker = PigNavNet(config), PigNavRecipe(config, "rooms", {}, ".").policy_maker()
    else:
        from policies.encoders import make_encoder
        from policies.siglip_bc import SiglipBCConfig
        from policies.siglip_bc.recipe import SiglipBCRecipe

        recipe = SiglipBCRecipe(SiglipBCConfig(encoder="pixels"), "arena", make_encoder("pixels"), None)
        model, maker = recipe.build_model(), recipe.policy_maker()
    monkeypatch.setattr(type(model), "to", lambda self, device: moved.append(torch.device(device)) or self)
    policy = maker(model, 2)
    assert policy.device == "cpu" and moved == [torch.device("cpu")]  # the model's own device
    on_meta = iter([torch.empty(1, device="meta")])  # as if the model were on another device
    monkeypatch.setattr(torch.nn.Module, "parameters", lambda self, recurse=True: on_meta)
    policy = maker(model, 2)
    assert policy.device == "meta" and moved[-1] == torch.device("meta")


def test_train_refuses_a_device_this_machine_lacks(capsys):
    from tools import train

    with pytest.raises(SystemExit) as exit_info:
        train.main(["idm", "--demos", "x", "--device", f"cuda:{torch.cuda.device_count()}"])
    assert exit_info.value.code == 2 and "is not available on this machine" in capsys.readouterr().err


@pytest.mark.parametrize("remote", [False, True])
def test_closed_loop_validation_sends_workers_a_cpu_copy_and_keeps_the_model_here(remote):
    from types import SimpleNamespace

    from training.validation import closed_loop

    class Stop(Exception):
        pass

    given = []

    class FakeRollouts:
        def episodes(self, make_policy, episodes, seed=0):
            make_policy(SimpleNamespace(unwrapped=SimpleNamespace(num_envs=2)))
            raise Stop

    rollouts = FakeRollouts()
    rollouts.remote = remote
    model = Line()
    with pytest.raises(Stop):
        closed_loop(rollouts, lambda m, n: given.append(m), [])(model)
    assert (given[0] is model) is not remote  # here: the training model itself; workers: a copy
    assert all(p.device.type == "cpu" for p in given[0].parameters())
