"""Closed-loop evaluation on the shared arena: every episode counted once, reports written."""

from __future__ import annotations

import json

import pytest
from steering import steer_to_target

from episodes.sets import load_episode_set
from evaluation import run
from evaluation.report import read_episodes_csv, write_report
from rollouts.closed_loop import run_episodes as evaluate
from rollouts.metrics import summarize


class SteerToTarget:
    """Turn towards the target and drive: a privileged controller that succeeds quickly."""

    kind, metadata = "steer", {}

    def __init__(self):
        self.resets = 0

    def reset(self, env_ids):
        self.resets += len(env_ids)

    def act(self, obs):
        assert len(obs["instruction"]) == len(obs["policy"])
        return steer_to_target(obs["policy"])


def test_every_episode_is_counted_exactly_once(paper_arena, tmp_path):
    episodes = load_episode_set("arena", "paper", "val")[:7]  # more episodes than the 4 envs
    policy = SteerToTarget()
    result = evaluate(paper_arena, policy, episodes, video_episodes=1, progress=False)
    assert not result.interrupted
    assert [r.episode_id for r in result.records] == list(range(7))
    assert paper_arena.episode_source is None  # the env samples again afterwards
    assert policy.resets >= 7
    # each record matches its episode
    for r in result.records:
        assert r.target == ["red", "green", "blue", "yellow", "magenta"][episodes[r.episode_id].target]
        assert r.success and r.steps < 400 and r.path_length >= r.shortest_path - 0.05
    summary = {
        "policy": "steer",
        "env": "arena",
        "layout": "paper",
        "split": "val",
        **summarize(result.records),
    }
    assert summary["success_rate"] == 1.0 and 0.5 < summary["spl"] <= 1.0

    written = write_report(tmp_path, summary, result, episodes)
    names = {p.name for p in written}
    assert {
        "episodes.csv",
        "summary.json",
        "results.md",
        "trajectories.png",
        "success_by_target.png",
        "video.gif",
    } <= names
    assert read_episodes_csv(tmp_path / "episodes.csv") == result.records
    assert json.loads((tmp_path / "summary.json").read_text())["episodes"] == 7
    assert "| steer |" in (tmp_path / "results.md").read_text()
    assert result.trajectories[0].shape[1] == 3 and len(result.frames) > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--policy", "expert", "--checkpoint", "nowhere/expert.zip"],
            "python tools/train.py expert --env arena",
        ),
        (["--policy", "oracle"], "invalid choice"),
        (["--policy", "random", "--split", "train"], "invalid choice"),
        (["--policy", "random", "--episodes", "0"], "--episodes must be >= 1"),
        (["--policy", "random", "--env", "mars"], "choose one of: arena"),
    ],
)
def test_bad_flags_and_missing_checkpoints_give_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


class InterruptAfter(SteerToTarget):
    def __init__(self, calls: int):
        super().__init__()
        self.calls = calls

    def act(self, obs):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return super().act(obs)


def test_ctrl_c_keeps_the_partial_results(paper_arena):
    episodes = load_episode_set("arena", "paper", "val")[:12]
    result = evaluate(paper_arena, InterruptAfter(200), episodes, progress=False)
    assert result.interrupted
    assert 0 < len(result.records) < 12
    assert len({r.episode_id for r in result.records}) == len(result.records)
    assert paper_arena.episode_source is None


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_videos_are_written_as_gif_or_mp4(suffix, tmp_path):
    import imageio.v3 as iio
    import numpy as np

    from evaluation.report import write_video

    frames = [np.full((64, 192, 3), 20 * i, np.uint8) for i in range(8)]
    path = write_video(tmp_path / f"video.{suffix}", frames, fps=10)
    back = np.stack(list(iio.imiter(path)))
    assert back.shape[0] == 8 and back.shape[1:3] == (64, 192)
    assert abs(float(back[-1].mean()) - 140) < 10  # the last frame's grey level survives encoding
