"""Nothing lost on a kill: a collection killed mid-write resumes to exactly the episodes asked for; a
damaged newest resume point falls back to the previous one; a folder in use is refused; a rerun leaves
nothing stale."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import LineRecipe

from episodes import files as dataset
from storage import FolderInUse, FolderLock
from training import Trainer, read_checkpoint

ROOT = Path(__file__).resolve().parents[1]

# Runs tools/collect.py, but blocks forever just before the 3rd episode file is renamed into place:
# its bytes are on disk under the temporary name when the test kills the process.
BLOCK_THIRD_WRITE = """
import os, sys, time
rename, renames = os.replace, 0

def replace(src, dst, *args, **kwargs):
    global renames
    if str(dst).endswith(".hdf5"):
        renames += 1
        if renames == 3:
            print("WRITING", flush=True)
            time.sleep(3600)
    return rename(src, dst, *args, **kwargs)

os.replace = replace
from tools.collect import main
sys.exit(main(sys.argv[1:]))
"""


def collect_args(out: Path, episodes: int) -> list[str]:
    return ["--env", "rooms", "--episodes", str(episodes), "--num-envs", "2", "--camera-size", "16",
            "--device", "cpu", "--out", str(out)]  # fmt: skip


def test_a_collection_killed_mid_write_resumes_to_exactly_the_episodes_asked_for(tmp_path):
    out = tmp_path / "demos"
    proc = subprocess.Popen([sys.executable, "-c", BLOCK_THIRD_WRITE, *collect_args(out, 4)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        for line in proc.stdout:
            if line.startswith("WRITING"):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert [p.name for p in dataset.episode_files(out)] == ["episode_000000.hdf5", "episode_000001.hdf5"]
    # the debris of the killed write: slot 2's or 3's episode, whichever of the two envs finished first
    assert len(list(out.glob(".episode_00000[23].hdf5.*"))) == 1
    resumed = subprocess.run([sys.executable, str(ROOT / "tools" / "collect.py"), *collect_args(out, 4)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "removed 1 unfinished file" in resumed.stdout
    files = dataset.episode_files(out)
    assert [p.name for p in files] == [f"episode_{i:06d}.hdf5" for i in range(4)]
    assert dataset.check_readable(out) == 4
    assert [p.name for p in out.glob(".*")] == [".lock"]  # no debris; the lock file stays, released:
    with FolderLock(out):
        pass
    assert all(dataset.read_episode(p)[1]["success"] for p in files)


# -- the trainer, on the toy recipe (tests/fakes.py)


def test_a_damaged_resume_point_falls_back_to_the_previous_one(tmp_path, capsys):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(run, LineRecipe(stop_at=5), progress=False).fit()  # resume points after steps 2 and 4
    assert read_checkpoint(run / "last.pt", "line")["state"]["step"] == 4
    (run / "last.pt").write_bytes((run / "last.pt").read_bytes()[:100])  # a truncated file
    path = Trainer(run, LineRecipe(), progress=False).fit()
    out = capsys.readouterr().out
    assert "skipped" in out and "resuming" in out and "step 2" in out
    assert read_checkpoint(path, "line")["validation"]["step"] == 6
    assert read_checkpoint(run / "last.pt", "line")["state"]["done"]


def test_a_run_folder_in_use_is_refused(tmp_path):
    with FolderLock(tmp_path / "run"), pytest.raises(FolderInUse, match="is in use by pid"):
        Trainer(tmp_path / "run", LineRecipe(), progress=False).fit()
    Trainer(tmp_path / "run", LineRecipe(), progress=False).fit()  # free again once the lock is gone


def test_a_shared_folder_waits_for_its_holder(tmp_path):
    import threading

    events = []
    held = threading.Event()

    def hold():
        with FolderLock(tmp_path / "mae"):
            held.set()
            time.sleep(0.3)
            events.append("released")

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    with FolderLock(tmp_path / "mae", wait=True):
        events.append("acquired")
    holder.join()
    assert events == ["released", "acquired"]


def test_a_rerun_leaves_no_stale_plots(tmp_path):
    import numpy as np

    from episodes.sets import load_episode_set
    from evaluation.report import write_report
    from rollouts.closed_loop import RolloutResult
    from rollouts.metrics import EpisodeRecord

    episodes = load_episode_set("arena", "paper", "val")[:1]
    record = EpisodeRecord.from_outcome(0, "red", "go", True, False, 10, 1.0, 1.2, 0.2, 0, 0.3)
    result = RolloutResult([record], {0: np.zeros((3, 3))})
    summary = {"policy": "p", "env": "arena", "layout": "paper", "split": "val"}
    assert (tmp_path / "trajectories.png") in write_report(tmp_path, summary, result, episodes, plots=True)
    (tmp_path / "replay_episode_0.gif").write_bytes(b"old")
    write_report(tmp_path, summary, result, episodes, plots=False)
    assert not (tmp_path / "trajectories.png").exists() and not (tmp_path / "replay_episode_0.gif").exists()
    assert (tmp_path / "summary.json").exists()
