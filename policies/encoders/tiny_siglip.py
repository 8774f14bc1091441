"""A tiny SigLIP: the same architecture as SigLIP in open_clip, random weights, built offline.

Written as a local open_clip folder (config, safetensors weights, a Hugging Face tokenizer), so it
loads through exactly the code that loads the real SigLIP.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch
from timm.models import register_model
from timm.models.vision_transformer import VisionTransformer, _create_vision_transformer

TIMM_NAME = "goalnav_tiny_siglip"
WIDTH = 32
CONTEXT_LENGTH = 16
VOCAB = (
    "go to the a an sphere ball red green blue yellow purple orange white black straight ahead "
    "left right your on of and navigate find move toward towards drive reach"
).split()
SPECIALS = ["<pad>", "</s>", "<unk>"]
# timm warns that this model has no pretrained config; it never has one
logging.getLogger("timm.models._builder").addFilter(lambda record: TIMM_NAME not in record.getMessage())


@register_model
def goalnav_tiny_siglip(pretrained: bool = False, **kwargs) -> VisionTransformer:
    """SigLIP's timm vision tower (no class token, attention-pool head), shrunk to 2 blocks of width 32."""
    args = dict(img_size=32, patch_size=8, embed_dim=WIDTH, depth=2, num_heads=2, class_token=False,
                global_pool="map", pretrained_cfg={"input_size": (3, 32, 32)})  # fmt: skip
    return _create_vision_transformer(TIMM_NAME, pretrained=pretrained, **dict(args, **kwargs))


def model_config() -> dict:
    """SigLIP's open_clip config (custom text tower, no causal mask, last-token pool), at toy size."""
    return {
        "model_cfg": {
            "embed_dim": WIDTH,
            "init_logit_bias": -10,
            "custom_text": True,
            "vision_cfg": {"image_size": 32, "timm_model_name": TIMM_NAME, "timm_model_pretrained": False,
                           "timm_pool": "map", "timm_proj": "none"},
            "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": len(SPECIALS) + len(VOCAB),
                         "hf_tokenizer_name": "goalnav/tiny-siglip", "tokenizer_kwargs": {"clean": "canonicalize"},
                         "width": WIDTH, "heads": 2, "layers": 2, "no_causal_mask": True, "proj_bias": True,
                         "pool_type": "last", "norm_kwargs": {"eps": 1e-6}},
        },
        "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bicubic",
                           "resize_mode": "squash"},
    }  # fmt: skip


def write_tokenizer(folder: Path) -> None:
    """A word-level Hugging Face tokenizer with SigLIP's conventions: lower-cased, '</s>' appended."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIALS + VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)


def write_tiny_siglip(folder: Path, seed: int = 0) -> Path:
    """Write the tiny model to `folder` (deterministic for a seed); returns the folder."""
    import open_clip
    from safetensors.torch import save_file

    folder = Path(folder)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "open_clip_config.json").write_text(json.dumps(model_config(), indent=2))
    write_tokenizer(tmp)
    torch.manual_seed(seed)
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns that this new model has no weights yet
    try:
        model = open_clip.create_model(f"local-dir:{tmp}")
    finally:
        logging.getLogger().setLevel(logging.WARNING)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp / "open_clip_model.safetensors")
    if not folder.exists():
        os.replace(tmp, folder)
    return folder


def tiny_siglip_dir(root: Path | None = None) -> Path:
    """The tiny model's folder under ~/.cache/goalnav, written on first use."""
    root = Path(root or os.environ.get("GOALNAV_CACHE", Path.home() / ".cache" / "goalnav"))
    folder = root / "tiny-siglip-seed0"
    if not (folder / "open_clip_model.safetensors").exists():
        write_tiny_siglip(folder)
    return folder
