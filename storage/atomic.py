"""Atomic writes: a file appears under its final name complete or not at all. Unfinished files carry
TMP_MARK and start with a dot, so no glob for finished files (episode_*.hdf5, *.pt) ever matches them;
`clean_debris` removes what a killed writer left behind."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_MARK = ".partial"


def temporary_name(path: Path) -> Path:
    """A hidden sibling that keeps the suffix (some writers insist on theirs, e.g. SB3 on .zip)."""
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_MARK}{path.suffix}")


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """``with atomic_path(p) as tmp:`` write to tmp; on success it is renamed to p, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class DamagedFile(ValueError):
    """A file a command reads that is missing, unreadable or not what it should hold; the message names it."""


def read_json(path: Path) -> dict:
    """A JSON object from `path`; a DamagedFile naming the path if it cannot be read or parsed."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise DamagedFile(f"cannot read {path} ({err.strerror or err})") from None
    except (UnicodeDecodeError, ValueError) as err:
        raise DamagedFile(f"{path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise DamagedFile(f"{path} holds {type(data).__name__}, not a JSON object")
    return data


def atomic_write_text(path: Path | str, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def clean_debris(directory: Path | str) -> list[Path]:
    """Remove the unfinished files of killed writers in `directory` (call it while holding its lock)."""
    directory = Path(directory)
    debris = sorted(directory.glob(f".*{TMP_MARK}*")) if directory.is_dir() else []
    for path in debris:
        path.unlink(missing_ok=True)
    return debris
