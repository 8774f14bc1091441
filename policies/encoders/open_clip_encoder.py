"""Any open_clip model (SigLIP, CLIP) as a frozen encoder, loaded from a local folder only."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from policies.encoders.weights import EncoderWeightsMissing, check_weights_folder


class OpenClipEncoder:
    """Loads ``local-dir:<folder>``: open_clip_config.json, the weights and the tokenizer files."""

    def __init__(self, name: str, folder: Path, device: str = "cpu", batch_size: int = 64):
        import open_clip

        folder = check_weights_folder(folder)
        self.name, self.folder, self.device, self.batch_size = name, folder, device, batch_size
        try:
            self.model = open_clip.create_model(f"local-dir:{folder}", device=device, require_pretrained=True)
        except Exception as err:  # noqa: BLE001 - open_clip and torch raise many kinds for bad weights
            raise EncoderWeightsMissing(
                f"{folder} could not be loaded as an open_clip model ({type(err).__name__}: {err})"
            ) from None
        self.model.eval().requires_grad_(False)
        # SigLIP's own tokenizer, padded to the model's context length as in training
        self.tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
        cfg = open_clip.get_model_preprocess_cfg(self.model)
        size = cfg["size"]
        self.image_size = (size, size) if isinstance(size, int) else tuple(size)
        self.mean = torch.tensor(cfg["mean"], device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg["std"], device=device).view(1, 3, 1, 1)
        self.dim = int(self.encode_texts(["x"]).shape[-1])

    def __reduce__(self):
        """Sent to another process (a Ray worker) as its name and folder, and loaded there."""
        return OpenClipEncoder, (self.name, self.folder, "cpu", self.batch_size)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> normalised float (N, 3, S, S): bicubic resize (squash), mean/std."""
        x = images.to(self.device).permute(0, 3, 1, 2).float() / 255.0
        x = F.interpolate(x, size=self.image_size, mode="bicubic", antialias=True, align_corners=False)
        return (x.clamp(0, 1) - self.mean) / self.std

    @torch.no_grad()
    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        out = [
            self.model.encode_image(self.preprocess(images[i : i + self.batch_size]), normalize=True)
            for i in range(0, len(images), self.batch_size)
        ]
        return torch.cat(out).float()

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(list(texts))

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(self.tokenize(texts).to(self.device), normalize=True).float()
