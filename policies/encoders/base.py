"""The frozen-encoder interface, the encoders goalnav knows, and the study's joint embedding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
import torch.nn.functional as F

from policies.encoders.weights import EncoderWeightsMissing


class FrozenEncoder(Protocol):
    name: str
    dim: int

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float (N, dim), L2-normalised."""

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """N strings -> float (N, dim), L2-normalised."""


@dataclass(frozen=True)
class OpenClipSpec:
    hf_repo: str  # Hugging Face repo holding open_clip_config.json, the weights and the tokenizer
    label: str


# Pretrained open_clip encoders, loaded from a local folder or the Hugging Face cache, never the network.
ENCODERS: dict[str, OpenClipSpec | None] = {
    "siglip-so400m": OpenClipSpec("timm/ViT-SO400M-14-SigLIP-384", "SigLIP So400M/14-384 (webli)"),
    "siglip-b16": OpenClipSpec("timm/ViT-B-16-SigLIP", "SigLIP B/16-224 (webli)"),
    "clip-b32": OpenClipSpec("timm/vit_base_patch32_clip_224.openai", "CLIP ViT-B/32 (OpenAI)"),
    "tiny-siglip": None,  # SigLIP architecture, random weights, built offline (tests, smoke runs)
    "pixels": None,  # downsampled pixels + hashed bag of words: the offline baseline that needs no weights
}


def make_encoder(name: str, device: str = "cpu", weights: Path | None = None) -> FrozenEncoder:
    """An encoder by name. `weights`: a folder with open_clip_config.json, weights and tokenizer files."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of: {', '.join(ENCODERS)}")
    if name == "pixels":
        from policies.encoders.pixels import PixelEncoder

        return PixelEncoder(device=device)
    from policies.encoders.open_clip_encoder import OpenClipEncoder

    if name == "tiny-siglip":
        from policies.encoders.tiny_siglip import tiny_siglip_dir

        return OpenClipEncoder(name, weights or tiny_siglip_dir(), device)
    return OpenClipEncoder(name, weights or find_in_hf_cache(name), device)


def resolve_encoder_name(name: str, weights: Path | None = None) -> str:
    """`auto` -> siglip-so400m when its weights are here, else the offline `pixels` encoder (said aloud)."""
    if name != "auto":
        return name
    if weights is not None:
        return "siglip-so400m"
    try:
        find_in_hf_cache("siglip-so400m")
        return "siglip-so400m"
    except EncoderWeightsMissing as err:
        print(f"note: {err}\nnote: using the offline 'pixels' encoder; results are labelled with it")
        return "pixels"


def find_in_hf_cache(name: str) -> Path:
    """The cached snapshot folder of an encoder's Hugging Face repo; never downloads."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo = ENCODERS[name].hf_repo
    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except LocalEntryNotFoundError:
        raise EncoderWeightsMissing(
            f"{ENCODERS[name].label} weights are not in the Hugging Face cache ({constants.HF_HUB_CACHE}). "
            f"On a machine with internet run `hf download {repo} --exclude '*.bin'` (pip install huggingface_hub), then copy "
            f"that cache here (or set HF_HOME to it), or pass the downloaded folder with --encoder-weights DIR. "
            f"Without weights, use an offline encoder: --encoder pixels"
        ) from None


def joint_embedding(image: torch.Tensor, text: torch.Tensor, renormalize: bool = False) -> torch.Tensor:
    """The study's input: L2-normalised image embedding + L2-normalised instruction embedding."""
    joint = F.normalize(image.float(), dim=-1) + F.normalize(text.float(), dim=-1)
    return F.normalize(joint, dim=-1) if renormalize else joint
