"""One run per output folder: an advisory lock on <folder>/.lock that the operating system releases
when its process ends, however it ends (a SIGKILL included)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FolderInUse(RuntimeError):
    """Another process is writing into this folder."""


class FolderLock:
    """``with FolderLock(out_dir):`` refuses (FolderInUse) while another process holds the folder; with
    `wait=True` (a folder several runs share, such as an MAE-sim encoder) it waits for that process instead."""

    def __init__(self, directory: Path | str, wait: bool = False):
        self.directory = Path(directory)
        self.wait = wait
        self._file = None

    def __enter__(self) -> FolderLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / ".lock"
        self._file = path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            if self.wait:
                print(f"waiting for {holder} to finish {self.directory}", flush=True)
                fcntl.flock(self._file, fcntl.LOCK_EX)
                return self._claim()
            self._file.close()
            self._file = None
            raise FolderInUse(
                f"{self.directory} is in use by {holder}; wait for it to finish or choose another --out"
            ) from None
        return self._claim()

    def _claim(self) -> FolderLock:
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()}")
        self._file.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
