"""PIG-Nav networks built from timm ViT blocks.

Early fusion (PIG-Nav): the patches of the observation, the context frames and the goal image, each with
positional and role (type) embeddings, go through one ViT together with a [CLS] token.
Stacked early fusion (GNM's goal encoder, the channel stacking of image-goal RL agents): the observation,
context and goal images are stacked as the channels of one image before the patch embedding, so each token
holds the same patch of every image and comparing them is local from the first layer.
Late fusion (ViNT-style baseline): the same kind of ViT encodes each image alone; a small transformer
fuses the per-image features. All end in the same heads.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from timm.layers import PatchEmbed, trunc_normal_
from timm.models.vision_transformer import Block
from torch import nn

from policies.layers import mlp
from policies.pignav.config import VIT_SIZES, PigNavConfig

LayerNorm = partial(nn.LayerNorm, eps=1e-6)


def blocks(dim: int, heads: int, depth: int) -> nn.Sequential:
    return nn.Sequential(*[Block(dim, heads, qkv_bias=True, norm_layer=LayerNorm) for _ in range(depth)])


class ViTEncoder(nn.Module):
    """Patch embedding, positional embeddings, [CLS], blocks and final norm. Parameter names match timm's
    VisionTransformer, so timm ViT weights (MAE's included) load into it."""

    def __init__(
        self, size: str, image_size: int, patch_size: int, depth: int | None = None, images: int = 1
    ):
        """`images`: how many RGB images each input stacks as channels (stacked fusion), else 1."""
        super().__init__()
        self.dim, full_depth, self.heads = VIT_SIZES[size]
        self.patch_embed = PatchEmbed(image_size, patch_size, 3 * images, self.dim)
        self.num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, self.dim))
        self.blocks = blocks(self.dim, self.heads, depth or full_depth)
        self.norm = LayerNorm(self.dim)
        trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(_init_weights)

    def patch_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised images -> (B, P, D) patch tokens with positions."""
        return self.patch_embed(images) + self.pos_embed[:, 1:]

    def cls(self, batch: int) -> torch.Tensor:
        return (self.cls_token + self.pos_embed[:, :1]).expand(batch, -1, -1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(tokens))

    def load_image_weights(self, state: dict) -> None:
        """Load a one-image encoder's weights (MAE-sim's), stacked if this encoder stacks images."""
        self.load_state_dict(self.stack_filters(state))

    def stack_filters(self, state: dict) -> dict:
        """A one-image encoder's weights for this encoder: where it stacks k images, the patch embedding's
        RGB filters go on every image's channels, divided by k (the tokens keep their scale)."""
        key, state = "patch_embed.proj.weight", dict(state)
        channels = self.patch_embed.proj.weight.shape[1]
        if key in state and state[key].shape[1] == 3 and channels > 3:
            state[key] = state[key].repeat(1, channels // 3, 1, 1) * (3 / channels)
        return state


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class Heads(nn.Module):
    """[CLS] feature -> local waypoints (K, 4: x, y, cos yaw, sin yaw) and, unless switched off, the
    relative goal pose (x, y, cos yaw, sin yaw), the navigation distance (1) and the global path (M, 2).
    Each head predicts standardised values; `mean` (per dimension) and `std` (one spread per head; buffers
    set from the training targets by `set_target_stats`) turn them back into the targets' units."""

    def __init__(self, dim: int, config: PigNavConfig):
        super().__init__()
        shapes = {
            "waypoints": (config.waypoints, 4),
            "goal": (4,),
            "distance": (1,),
            "path": (config.path_waypoints, 2),
        }
        on = {"waypoints": True, "goal": config.goal_weight > 0, "distance": config.distance_weight > 0,
              "path": config.path_weight > 0}  # fmt: skip
        self.shapes = {name: shape for name, shape in shapes.items() if on[name]}
        self.mlps = nn.ModuleDict({name: mlp(dim, config.head_hidden, math.prod(shape))
                                   for name, shape in self.shapes.items()})  # fmt: skip
        for name, shape in self.shapes.items():
            self.register_buffer(f"{name}_mean", torch.zeros(shape))
            self.register_buffer(f"{name}_std", torch.ones(shape))

    def set_target_stats(self, targets: dict[str, torch.Tensor]) -> None:
        """Per-dimension means, and one spread per head (the RMS deviation over all its dimensions): a
        dimension that hardly varies (cos of a small turn) must not magnify its rare outliers."""
        for name in self.shapes:
            values = targets[name].reshape(len(targets[name]), *self.shapes[name]).double()
            mean = values.mean(0)
            spread = ((values - mean) ** 2).mean().sqrt().clamp_min(1e-3)
            getattr(self, f"{name}_mean").copy_(mean)
            getattr(self, f"{name}_std").fill_(float(spread))

    def std(self, name: str) -> torch.Tensor:
        return getattr(self, f"{name}_std")

    def forward(self, feature: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: self.mlps[name](feature).view(len(feature), *shape) * self.std(name)
                + getattr(self, f"{name}_mean") for name, shape in self.shapes.items()}  # fmt: skip


class PigNavNet(nn.Module):
    """forward(obs (B, 3, H, W), goal (B, 3, H, W), context (B, k, 3, H, W) or None) -> head outputs."""

    def __init__(self, config: PigNavConfig):
        super().__init__()
        self.config = config
        stacked = config.context + 2 if config.fusion == "stacked" else 1
        self.encoder = ViTEncoder(config.size, config.image_size, config.patch_size, config.depth, stacked)
        dim = self.encoder.dim
        # one type embedding per role: observation, each context slot, goal
        self.type_embed = nn.Parameter(torch.zeros(config.context + 2, 1, dim))
        trunc_normal_(self.type_embed, std=0.02)
        if config.fusion == "late":
            self.fuse_cls = nn.Parameter(torch.zeros(1, 1, dim))
            self.fusion = blocks(dim, self.encoder.heads, config.fusion_depth)
            self.fusion_norm = LayerNorm(dim)
            self.fusion.apply(_init_weights)
        self.heads = Heads(dim, config)
        self.heads.apply(_init_weights)

    def images_in_order(self, obs, goal, context) -> list[torch.Tensor]:
        """Images in role order: observation, context (oldest first), goal."""
        past = list(context.unbind(1)) if context is not None and context.shape[1] else []
        return [obs, *past, goal]

    def forward(self, obs: torch.Tensor, goal: torch.Tensor, context: torch.Tensor | None = None) -> dict:
        images = self.images_in_order(obs, goal, context)
        if len(images) != len(self.type_embed):
            raise ValueError(
                f"the model takes {len(self.type_embed) - 2} context frames, got {len(images) - 2}"
            )
        b, enc = len(obs), self.encoder
        if self.config.fusion != "late":  # one ViT over every image's patches, as tokens or as channels
            if self.config.fusion == "stacked":
                parts = [enc.patch_tokens(torch.cat(images, dim=1))]
            else:
                parts = [enc.patch_tokens(img) + self.type_embed[i] for i, img in enumerate(images)]
            return self.heads(enc(torch.cat([enc.cls(b), *parts], dim=1))[:, 0])
        stacked = torch.cat(images)  # every image through the same encoder, in one batch
        features = enc(torch.cat([enc.cls(len(stacked)), enc.patch_tokens(stacked)], dim=1))[:, 0]
        tokens = features.view(len(images), b, -1).transpose(0, 1) + self.type_embed[:, 0][None]
        fused = self.fusion_norm(self.fusion(torch.cat([self.fuse_cls.expand(b, -1, -1), tokens], dim=1)))
        return self.heads(fused[:, 0])
