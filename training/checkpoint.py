"""One checkpoint format. Learned models are a torch file: {"format", "kind", "env", "config",
"state_dict", ...what they were trained on}; the PPO expert is stable-baselines3's zip with the same
metadata in ``goalnav.json``. `read_checkpoint` opens either, by what the file records; anything
missing, damaged or made for another kind or env is a CheckpointError whose message says what to do."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

import torch

from storage import atomic_path

FORMAT = 2  # 1: before the shared trainer (no "format" key)
ZIP_METADATA = "goalnav.json"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or made for another policy, env or encoder."""


def save_checkpoint(path: Path, kind: str, env: str, state_dict: dict, config: dict, **metadata) -> Path:
    """Write a torch checkpoint atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        record = {"format": FORMAT, "kind": kind, "env": env, "config": config, "state_dict": state_dict}
        torch.save({**record, **metadata}, tmp)
    return path


def save_zip_metadata(archive_path: Path, metadata: dict) -> None:
    """Add goalnav's metadata to a zip written by stable-baselines3 (before it is renamed into place)."""
    with zipfile.ZipFile(archive_path, "a") as archive:
        archive.writestr(ZIP_METADATA, json.dumps({"format": FORMAT, **metadata}, indent=2))


def _load(path: Path) -> dict:
    if path.suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read(ZIP_METADATA))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as err:
            raise CheckpointError(f"{path} is not a readable goalnav checkpoint ({err})") from None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a damaged file
        raise CheckpointError(
            f"{path} is not a readable goalnav checkpoint ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(ckpt, dict) or "kind" not in ckpt:
        raise CheckpointError(f"{path} is not a goalnav checkpoint")
    return ckpt


def read_checkpoint(path: Path | str, kind: str | Iterable[str] | None = None,
                    env: str | Iterable[str] | None = None, hint: str = "") -> dict:  # fmt: skip
    """The checkpoint at `path` (a file; a run directory is the caller's to resolve). `kind`: the kinds
    accepted (None: any); `env`: the env, or envs, it must be for (None: any). `hint` ends the messages,
    e.g. the command that trains a fitting one."""
    path = Path(path)
    tail = f"; {hint}" if hint else ""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}{tail}")
    ckpt = _load(path)
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    if kinds and ckpt["kind"] not in kinds:
        raise CheckpointError(
            f"{path} holds a {ckpt['kind']!r} model, not {' or '.join(sorted(map(repr, kinds)))}{tail}"
        )
    if ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} was written by an older goalnav (checkpoint format "
                              f"{ckpt.get('format', 1)}, this one reads {FORMAT}); train it again{tail}")  # fmt: skip
    envs = {env} if isinstance(env, str) else set(env or ())
    if envs and ckpt.get("env") not in envs:
        raise CheckpointError(f"{path} was trained for env {ckpt.get('env')!r}, not "
                              f"{' or '.join(sorted(map(repr, envs)))}{tail}")  # fmt: skip
    return ckpt
