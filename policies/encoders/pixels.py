"""The offline baseline encoder: downsampled pixels and a hashed bag of words, no weights at all."""

from __future__ import annotations

import zlib

import torch
import torch.nn.functional as F


class PixelEncoder:
    """Image: area-downsampled to `size` x `size`, centred, flattened. Text: a sum of fixed random
    vectors, one per word (seeded by the word's CRC32). Both L2-normalised, `3 * size**2`-d."""

    name = "pixels"

    def __init__(self, size: int = 16, device: str = "cpu"):
        self.size, self.device, self.dim = size, device, 3 * size * size

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.device).permute(0, 3, 1, 2).float() / 255.0
        x = F.adaptive_avg_pool2d(x, self.size).flatten(1)
        return F.normalize(x - x.mean(dim=1, keepdim=True), dim=-1)

    def _word(self, word: str) -> torch.Tensor:
        generator = torch.Generator().manual_seed(zlib.crc32(word.encode()))
        return torch.randn(self.dim, generator=generator)

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        vectors = [sum(self._word(w) for w in text.lower().split()) for text in texts]
        return F.normalize(torch.stack(vectors).to(self.device), dim=-1)
