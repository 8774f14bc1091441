"""The SigLIP-BC policy: frozen encoder -> joint embedding (-> context) -> MLP -> wheel commands."""

from __future__ import annotations

from pathlib import Path

import torch

from policies.context import ContextBuffer
from policies.encoders import FrozenEncoder, joint_embedding, make_encoder
from policies.siglip_bc.config import SiglipBCConfig
from policies.siglip_bc.model import BCMLP

KIND = "siglip_bc"


def build_model(config: SiglipBCConfig, dim: int) -> BCMLP:
    return BCMLP(dim * (config.context + 1), config.hidden, config.dropout)


class SiglipBCPolicy:
    """Acts from ``obs['rgb']`` and ``obs['instruction']`` only."""

    kind = KIND

    def __init__(self, model: BCMLP, encoder: FrozenEncoder, config: SiglipBCConfig, num_envs: int,
                 device: str = "cpu", metadata: dict | None = None):  # fmt: skip
        """`metadata`: what its checkpoint records besides the weights (variant, data...; {} in training)."""
        self.model, self.encoder, self.config, self.device = model.to(device).eval(), encoder, config, device
        self.metadata = metadata or {}
        self.encoder_name = encoder.name
        self.context = ContextBuffer(num_envs, config.context + 1, encoder.dim, device)
        self._texts: dict[str, torch.Tensor] = {}

    @classmethod
    def from_checkpoint(cls, ckpt: dict, num_envs: int, device: str = "cpu",
                        encoder_weights: Path | None = None) -> SiglipBCPolicy:  # fmt: skip
        """The policy from a checkpoint dict (`training.read_checkpoint`)."""
        config = SiglipBCConfig.from_dict(ckpt["config"])
        encoder = make_encoder(ckpt["encoder"], device, encoder_weights)
        model = build_model(config, encoder.dim)
        model.load_state_dict(ckpt["state_dict"])
        return cls(
            model, encoder, config, num_envs, device, {k: v for k, v in ckpt.items() if k != "state_dict"}
        )

    def reset(self, env_ids: torch.Tensor) -> None:
        self.context.reset(env_ids)

    def _text_embeddings(self, instructions: list[str]) -> torch.Tensor:
        missing = sorted(set(instructions) - self._texts.keys())
        if missing:
            self._texts.update(zip(missing, self.encoder.encode_texts(missing).to(self.device), strict=True))
        return torch.stack([self._texts[t] for t in instructions])

    @torch.no_grad()
    def act(self, obs: dict) -> torch.Tensor:
        image = self.encoder.encode_images(obs["rgb"]).to(self.device)
        joint = joint_embedding(image, self._text_embeddings(obs["instruction"]), self.config.renormalize)
        return self.model(self.context.push(joint))
