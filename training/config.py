"""What every policy's settings dataclass offers: a plain dict for checkpoints, and back."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Self


class DictConfig:
    """Mix into a @dataclass. `from_dict` ignores keys it does not know (older checkpoints)."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
