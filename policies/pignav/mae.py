"""Encoder initialisation: our own MAE (mask 75% of the patches, encode the rest, reconstruct the pixels
with a light decoder) on rendered frames, or timm's ImageNet MAE ViT-B/16 from local weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from timm.layers import resample_abs_pos_embed
from torch import nn

from policies.images import to_model_images
from policies.pignav.model import LayerNorm, ViTEncoder, blocks
from training.config import DictConfig
from training.trainer import Stage

MAE_IMAGENET = "timm/vit_base_patch16_224.mae"


class MAEWeightsMissing(FileNotFoundError):
    """The ImageNet MAE weights are not on this machine; the message says how to get them."""


def random_masking(tokens: torch.Tensor, ratio: float, generator: torch.Generator | None = None):
    """Keep a random (1 - ratio) of each row's tokens. Returns (kept tokens (B, n_keep, D), mask (B, P)
    with 1 where hidden, restore (B, P) indices that undo the shuffle)."""
    b, p, d = tokens.shape
    keep = max(1, round(p * (1 - ratio)))
    noise = torch.rand(b, p, generator=generator, device=tokens.device)
    shuffle = noise.argsort(dim=1)
    restore = shuffle.argsort(dim=1)
    kept = torch.gather(tokens, 1, shuffle[:, :keep, None].expand(-1, -1, d))
    mask = torch.ones(b, p, device=tokens.device)
    mask[:, :keep] = 0
    return kept, torch.gather(mask, 1, restore), restore


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, P, patch * patch * 3)."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // patch) * (w // patch), patch * patch * c)


class MAE(nn.Module):
    """A ViTEncoder plus a light decoder; the loss is the MSE of per-patch-normalised pixels on hidden patches."""

    def __init__(
        self, encoder: ViTEncoder, decoder_dim: int = 128, decoder_depth: int = 2, mask_ratio: float = 0.75
    ):
        super().__init__()
        self.encoder, self.mask_ratio = encoder, mask_ratio
        patch = encoder.patch_embed.patch_size[0]
        self.patch = patch
        self.decoder_embed = nn.Linear(encoder.dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos = nn.Parameter(torch.randn(1, 1 + encoder.num_patches, decoder_dim) * 0.02)
        self.decoder = blocks(decoder_dim, 4, decoder_depth)
        self.decoder_norm = LayerNorm(decoder_dim)
        self.decoder_pred = nn.Linear(decoder_dim, patch * patch * 3)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss, per-patch predictions (B, P, p*p*3), mask (B, P))."""
        enc = self.encoder
        kept, mask, restore = random_masking(enc.patch_tokens(images), self.mask_ratio)
        latent = self.decoder_embed(enc(torch.cat([enc.cls(len(images)), kept], dim=1)))
        b, p = mask.shape
        hidden = self.mask_token.expand(b, p + 1 - latent.shape[1], -1)
        patches = torch.cat([latent[:, 1:], hidden], dim=1)
        patches = torch.gather(patches, 1, restore[..., None].expand(-1, -1, patches.shape[-1]))
        x = torch.cat([latent[:, :1], patches], dim=1) + self.decoder_pos
        pred = self.decoder_pred(self.decoder_norm(self.decoder(x)))[:, 1:]
        target = patchify(images, self.patch)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        per_patch = ((pred - target) ** 2).mean(-1)
        return (per_patch * mask).sum() / mask.sum(), pred, mask


def load_timm_vit(encoder: ViTEncoder, state_dict: dict) -> list[str]:
    """Copy a timm ViT's weights into `encoder`, resampling position embeddings to its patch grid.
    Returns the encoder parameters that were not in the state dict."""
    state = encoder.stack_filters({k: v for k, v in state_dict.items() if k in encoder.state_dict()})
    if "pos_embed" in state:
        grid = encoder.patch_embed.grid_size
        state["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], list(grid), num_prefix_tokens=1)
    for name, value in state.items():
        if value.shape != encoder.state_dict()[name].shape:
            raise ValueError(f"weight {name} has shape {tuple(value.shape)}, the encoder wants "
                             f"{tuple(encoder.state_dict()[name].shape)}: choose the matching --size and patch")  # fmt: skip
    missing = encoder.load_state_dict(state, strict=False).missing_keys
    return missing


def mae_imagenet_weights(path: Path | None = None) -> Path:
    """The safetensors file of timm's ImageNet MAE ViT-B/16: `path` (a file or folder), else the Hugging
    Face cache. Never downloads."""
    if path is not None:
        path = Path(path)
        found = path if path.is_file() else next(iter(sorted(path.glob("*.safetensors"))), None)
        if found is None or not found.exists():
            raise MAEWeightsMissing(f"no .safetensors weights at {path}")
        return found
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(MAE_IMAGENET, "model.safetensors", local_files_only=True))
    except LocalEntryNotFoundError:
        raise MAEWeightsMissing(
            f"the ImageNet MAE weights ({MAE_IMAGENET}) are not in the Hugging Face cache "
            f"({constants.HF_HUB_CACHE}). On a machine with internet run `hf download {MAE_IMAGENET}`, then copy "
            "that cache here (or set HF_HOME to it), or pass the file with --mae-weights FILE. "
            "Without weights, use --init mae-sim (our own MAE, offline) or --init scratch"
        ) from None


def init_from_mae_imagenet(encoder: ViTEncoder, path: Path | None = None) -> None:
    from safetensors.torch import load_file

    missing = load_timm_vit(encoder, load_file(mae_imagenet_weights(path)))
    if missing:
        raise ValueError(f"the MAE weights lack {', '.join(missing[:5])}: is it a timm ViT checkpoint?")


@dataclass
class MAEConfig(DictConfig):
    """MAE-sim: our MAE on rendered frames, for a ViT of the PIG-Nav config's shape."""

    size: str = "tiny"
    depth: int | None = 4
    image_size: int = 64
    patch_size: int = 16
    steps: int = 1000
    batch_size: int = 32
    mask_ratio: float = 0.75
    lr: float = 1.5e-4
    weight_decay: float = 0.05
    sources: list[str] = field(default_factory=list)  # the datasets whose frames it learns from

    @classmethod
    def for_model(cls, config, sources: list[str]) -> MAEConfig:
        return cls(size=config.size, depth=config.depth, image_size=config.image_size, patch_size=config.patch_size,
                   steps=config.mae_steps, batch_size=config.batch_size, mask_ratio=config.mae_mask_ratio,
                   sources=list(sources))  # fmt: skip

    def tag(self) -> str:
        """A folder name for this setting (the MAE is trained once per setting and kept)."""
        names = "+".join(
            Path(s).parent.name if Path(s).name == "demos" else Path(s).name for s in self.sources
        )
        return (f"vit-{self.size}-d{self.depth or 'full'}-{self.image_size}px-p{self.patch_size}-"
                f"{self.steps}-{names}")  # fmt: skip


class MAERecipe:
    """MAE-sim for the trainer: one stage of masked reconstruction on uint8 frames (N, H, W, 3)."""

    kind = "mae"
    checkpoint_name = "mae.pt"

    @property
    def weight_decay(self) -> float:
        return self.config.weight_decay

    def __init__(self, config: MAEConfig, frames: torch.Tensor):
        self.config, self.frames = config, frames
        self.env = "+".join(config.sources)

    def build_model(self) -> MAE:
        c = self.config
        return MAE(ViTEncoder(c.size, c.image_size, c.patch_size, c.depth), mask_ratio=c.mask_ratio)

    def stages(self) -> list[Stage]:
        return [Stage("mae", lambda: self.frames, self.config.steps)]

    def prepare(self, model, data) -> str:
        return "random"

    def batches(self, frames: torch.Tensor, generator: torch.Generator):
        while True:
            batch = frames[torch.randint(len(frames), (self.config.batch_size,), generator=generator)]
            yield to_model_images(batch, self.config.image_size)

    def loss(self, model: MAE, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": model(images)[0]}

    def learning_rate(self, step: int, total: int) -> float:
        return self.config.lr

    def checkpoint_metadata(self, stage, data) -> dict:
        return {"frames": len(data)}


def encoder_weights(mae_checkpoint: dict) -> dict:
    """The ViT encoder's weights inside an MAE checkpoint."""
    prefix = "encoder."
    return {k[len(prefix) :]: v for k, v in mae_checkpoint["state_dict"].items() if k.startswith(prefix)}
