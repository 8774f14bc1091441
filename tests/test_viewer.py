"""Viewers and replay: viser serves on loopback and stops cleanly; a recorded episode replays as video."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from steering import steer_to_target

from envs.viz import VIZ_CHOICES, VizUnavailable, visualizer_cfgs
from episodes.sets import load_episode_set
from evaluation import run
from evaluation.report import write_report, write_video
from evaluation.run import recorded_episode
from rollouts.closed_loop import run_episodes as evaluate
from rollouts.replay import replay

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_viewer_choices_and_missing_packages_are_explained(monkeypatch):
    assert set(VIZ_CHOICES) == {"none", "newton_gl", "viser", "rerun", "kit"}
    assert visualizer_cfgs("none") == []
    (viser,) = visualizer_cfgs("viser", port=8123)
    assert viser.bind_address == "127.0.0.1" and viser.port == 8123 and not viser.open_browser
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(VizUnavailable, match="Isaac Sim extra"):
        visualizer_cfgs("kit")
    with pytest.raises(VizUnavailable, match="uv sync --extra rerun"):
        visualizer_cfgs("rerun")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--viz", "vr"], "invalid choice"),
        (["--replay", "nowhere"], "no evaluation results to replay"),
        ([], "--policy is required"),
    ],
)
def test_bad_viewer_and_replay_flags_give_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


class Steer:
    kind, metadata = "steer", {}

    def reset(self, env_ids):
        pass

    def act(self, obs):
        return steer_to_target(obs["policy"])


def test_recorded_episode_replays_the_same_views(paper_arena, tmp_path, capsys):
    episodes = load_episode_set("arena", "paper", "test")[:2]
    result = evaluate(paper_arena, Steer(), episodes, video_episodes=1, progress=False)
    summary = {"policy": "steer", "env": "arena", "layout": "paper", "split": "test", "episodes": 2}
    write_report(tmp_path, summary, result, episodes, plots=False)
    with pytest.raises(SystemExit):
        run.main(["--replay", str(tmp_path), "--episode", "7"])
    assert "episode 7 was not recorded" in capsys.readouterr().err
    _, episode, poses = recorded_episode(tmp_path, 0)
    assert len(poses) == len(result.trajectories[0])
    frames = replay(paper_arena, episode, poses, 0, progress=False)
    assert len(frames) == len(poses) and frames[0].shape == result.frames[0].shape
    # the ego panel of the replay matches what the camera saw during the rollout, step by step
    width = result.frames[0].shape[0]
    for t in (0, len(poses) // 2, len(poses) - 2):
        diff = np.abs(frames[t][:, :width].astype(int) - result.frames[t][:, :width].astype(int)).mean()
        assert diff < 6, (t, diff)
    assert np.abs(frames[0][:, :width].astype(int) - frames[-2][:, :width].astype(int)).mean() > 6  # it moved
    video = write_video(tmp_path / "replay_episode_0.gif", frames)  # what --replay writes
    import imageio.v2 as imageio

    assert len(imageio.mimread(video)) == len(frames)


def test_viser_serves_on_loopback_and_stops_cleanly(tmp_path):
    viser = pytest.importorskip("viser")
    from websockets.sync.client import connect

    port = free_port()
    command = [sys.executable, "evaluation/run.py", "--policy", "random", "--num-envs", "2", "--episodes", "4",
               "--viz", "viser", "--viz-port", str(port), "--out", str(tmp_path), "--no-plots", "--device", "cpu"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while not listening("127.0.0.1", port):
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "viser never started"
            time.sleep(0.05)
        # connect as viser's browser client would; the viewer then streams the scene to it
        with connect(
            f"ws://127.0.0.1:{port}", subprotocols=[f"viser-v{viser.__version__}"], open_timeout=10
        ) as client:
            assert client.recv(timeout=10)
        outside = non_loopback_address()
        if outside is not None:
            assert not listening(outside, port), "viser must bind to loopback only"
        output, _ = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, output[-3000:]
    assert not listening("127.0.0.1", port)
    assert (tmp_path / "summary.json").exists()
