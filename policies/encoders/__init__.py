"""Frozen encoders behind one interface: images and texts in, L2-normalised embeddings out."""

from policies.encoders.base import (
    ENCODERS,
    EncoderWeightsMissing,
    FrozenEncoder,
    joint_embedding,
    make_encoder,
    resolve_encoder_name,
)

__all__ = [
    "ENCODERS",
    "EncoderWeightsMissing",
    "FrozenEncoder",
    "joint_embedding",
    "make_encoder",
    "resolve_encoder_name",
]
