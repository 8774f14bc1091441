"""The students' model kinds (training/kinds.py): SigLIP-BC, PIG-Nav, its late-fusion baseline, the IDM
and the random floor. Configs and flags are light to import; models, recipes and loaders load on use."""

from __future__ import annotations

from training.kinds import ModelKind, PolicyRequest, table


def train_siglip_bc(cmd, args) -> int:
    from policies.siglip_bc.train import train

    return train(cmd, args)


def train_pignav(cmd, args) -> int:
    from policies.pignav.train import train

    return train(cmd, args)


def train_idm(cmd, args) -> int:
    from policies.idm.train import train

    return train(cmd, args)


def siglip_bc_recipe() -> type:
    from policies.siglip_bc.recipe import SiglipBCRecipe

    return SiglipBCRecipe


def pignav_recipe() -> type:
    from policies.pignav.recipe import PigNavRecipe

    return PigNavRecipe


def idm_recipe() -> type:
    from policies.idm.recipe import IDMRecipe

    return IDMRecipe


def load_random(request: PolicyRequest):
    from policies.random_policy.policy import RandomPolicy

    return RandomPolicy(request.num_envs, request.seed)


def read(request: PolicyRequest, kind: str) -> dict:
    from training.checkpoint import read_checkpoint

    return read_checkpoint(request.checkpoint, kind, request.env)


def load_siglip_bc(request: PolicyRequest):
    from policies.siglip_bc.policy import KIND, SiglipBCPolicy

    return SiglipBCPolicy.from_checkpoint(read(request, KIND), request.num_envs, request.device,
                                          request.encoder_weights)  # fmt: skip


def check_siglip_bc(request: PolicyRequest, meta: dict) -> None:
    """Its frozen encoder's weights must be here (a folder given, or the Hugging Face cache)."""
    from policies.encoders.base import ENCODERS, find_in_hf_cache
    from policies.encoders.weights import check_weights_folder

    if request.encoder_weights is not None:
        check_weights_folder(request.encoder_weights)
    elif ENCODERS.get(meta.get("encoder")) is not None:
        find_in_hf_cache(meta["encoder"])


def load_pignav(request: PolicyRequest):
    from policies.pignav.policy import PigNavPolicy
    from training.checkpoint import read_checkpoint

    envs = KINDS[KINDS_OF_PIGNAV[0]].accepts_from(request.env)
    return PigNavPolicy.from_checkpoint(read_checkpoint(request.checkpoint, KINDS_OF_PIGNAV, envs),
                                        request.num_envs, request.device)  # fmt: skip


def any_scene(env: str) -> tuple[str, ...]:
    """A scene style's checkpoints act in every scene style (the scene study's transfer); others stay home."""
    from envs.registry import SCENES

    return SCENES if env in SCENES else (env,)


def pignav_open_loop(ckpt, path, demos, episodes, heldout, device):
    from policies.pignav.open_loop import open_loop_report

    return open_loop_report(ckpt, path, demos, episodes, heldout, device)


def idm_open_loop(ckpt, path, demos, episodes, heldout, device):
    from policies.idm.train import open_loop

    return open_loop(ckpt, path, demos, episodes, heldout, device)


def siglip_bc_args(parser) -> None:
    from policies.siglip_bc.config import add_args

    add_args(parser)


def siglip_bc_config(args):
    from policies.siglip_bc.config import config_from_args

    return config_from_args(args)


def pignav_args(parser) -> None:
    from policies.pignav.config import add_args

    add_args(parser)


def pignav_config(args):
    from policies.pignav.config import config_from_args

    return config_from_args(args)


def idm_args(parser) -> None:
    from policies.idm.config import add_args

    add_args(parser)


def idm_config(args):
    from policies.idm.config import config_from_args

    return config_from_args(args)


def siglip_bc_config_class() -> type:
    from policies.siglip_bc.config import SiglipBCConfig

    return SiglipBCConfig


def pignav_config_class() -> type:
    from policies.pignav.config import PigNavConfig

    return PigNavConfig


def idm_config_class() -> type:
    from policies.idm.config import IDMConfig

    return IDMConfig


STUDENT = {"checkpoint_name": "policy.pt", "cameras": True, "trains_on": "demos+sim"}
PIGNAV = {**STUDENT, "graph": True, "config_class": pignav_config_class, "add_args": pignav_args, "config_from_args": pignav_config,
          "recipe": pignav_recipe, "train": train_pignav, "load_policy": load_pignav, "open_loop": pignav_open_loop,
          "checkpoint_envs": any_scene}  # fmt: skip
KINDS = table(
    ModelKind(
        "siglip_bc",
        "behaviour cloning on frozen SigLIP embeddings (the study)",
        **STUDENT,
        config_class=siglip_bc_config_class,
        add_args=siglip_bc_args,
        config_from_args=siglip_bc_config,
        recipe=siglip_bc_recipe,
        train=train_siglip_bc,
        load_policy=load_siglip_bc,
        check=check_siglip_bc,
    ),  # fmt: skip
    ModelKind("pignav", "PIG-Nav: early fusion of observation and goal image in one ViT", **PIGNAV),
    ModelKind("late_fusion", "the ViNT-style late-fusion baseline of PIG-Nav", **PIGNAV),
    ModelKind(
        "idm",
        "the inverse dynamics model that pseudo-labels action-free videos",
        checkpoint_name="idm.pt",
        cameras=True,
        policy=False,
        trains_on="demos",
        config_class=idm_config_class,
        add_args=idm_args,
        config_from_args=idm_config,
        recipe=idm_recipe,
        train=train_idm,
        open_loop=idm_open_loop,
    ),  # fmt: skip
    ModelKind("random", "independent uniform wheel commands (the floor)", load_policy=load_random),
)
KINDS_OF_PIGNAV = tuple(n for n, k in KINDS.items() if k.load_policy is load_pignav)
