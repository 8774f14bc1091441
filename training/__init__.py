"""The one training loop every learned model goes through (SigLIP-BC, PIG-Nav and late fusion, the IDM,
MAE-sim), and the checkpoint format they all write."""

from training.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from training.config import DictConfig
from training.trainer import Recipe, Stage, Trainer, Validation, learning_rate

__all__ = [
    "CheckpointError",
    "DictConfig",
    "Recipe",
    "Stage",
    "Trainer",
    "Validation",
    "learning_rate",
    "read_checkpoint",
    "save_checkpoint",
]
