"""Where an open_clip encoder's weights are: a local model folder, checked before loading. Kept apart from
base.py, which builds the encoders (open_clip_encoder.py imports this; base.py imports open_clip_encoder)."""

from __future__ import annotations

from pathlib import Path


class EncoderWeightsMissing(FileNotFoundError):
    """Pretrained weights are not on this machine; the message says how to fetch them."""


WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "model.safetensors",
)


def check_weights_folder(folder: Path) -> Path:
    """An open_clip model folder: open_clip_config.json and a weights file, or EncoderWeightsMissing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EncoderWeightsMissing(f"--encoder-weights {folder} is not a folder")
    if not (folder / "open_clip_config.json").is_file():
        raise EncoderWeightsMissing(
            f"{folder} has no open_clip_config.json; it is not an open_clip model folder"
        )
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise EncoderWeightsMissing(f"{folder} holds no weights ({' or '.join(WEIGHT_FILES)})")
    return folder
