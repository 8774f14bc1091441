"""Metrics against values worked out by hand, on synthetic trajectories."""

import math

import numpy as np
import pytest

from rollouts.metrics import EpisodeRecord, soft_spl, spl, steps_ratio, summarize


def path_length(points):
    points = np.asarray(points, float)
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def record(episode_id, success, steps, path, start=2.3, final=0.2, radius=0.3):
    return EpisodeRecord.from_outcome(
        episode_id, "red", "go to the red sphere", success, not success, steps, path, start, final, 0, radius
    )


def test_spl_of_a_detour_by_hand():
    # start (0,0), target (2.3, 0), success radius 0.3: shortest path to success is 2.0 m.
    # The robot goes up to (1, 1) then to (2, 0): sqrt(2) + sqrt(2) = 2.828 m.
    p = path_length([(0, 0), (1, 1), (2, 0)])
    assert p == pytest.approx(2 * math.sqrt(2))
    r = record(0, True, 100, p)
    assert r.shortest_path == pytest.approx(2.0)
    assert r.spl == pytest.approx(2.0 / 2.8284, abs=1e-4)
    assert r.soft_spl == pytest.approx((1 - 0.2 / 2.3) * 2.0 / 2.8284, abs=1e-4)


def test_spl_is_one_on_the_shortest_path_and_zero_on_failure():
    assert spl(True, 2.0, 2.0) == 1.0
    assert spl(True, 2.0, 1.9) == 1.0  # cannot beat the shortest path
    assert spl(False, 2.0, 2.0) == 0.0


def test_soft_spl_credits_progress_of_failures():
    # failed, ended 1.15 m away after starting 2.3 m away, drove 4 m: progress 0.5, efficiency 2/4
    assert soft_spl(1.15, 2.3, 2.0, 4.0) == pytest.approx(0.25)
    assert soft_spl(3.0, 2.3, 2.0, 4.0) == 0.0  # moved away: no credit


def test_summary_and_steps_ratio():
    ours = [record(0, True, 300, 2.5), record(1, True, 200, 2.2), record(2, False, 600, 1.0)]
    expert = [record(0, True, 100, 2.0), record(1, True, 100, 2.0), record(2, True, 120, 2.0)]
    s = summarize(ours)
    assert s["episodes"] == 3 and s["success_rate"] == pytest.approx(2 / 3)
    assert s["mean_steps_successful"] == pytest.approx(250) and s["timeouts"] == 1
    assert s["mean_path_length"] == pytest.approx((2.5 + 2.2 + 1.0) / 3)
    ratio, pairs = steps_ratio(ours, expert)
    assert pairs == 2 and ratio == pytest.approx(2.5)


def test_episodes_csv_reads_back_outside_graded_sets(tmp_path):
    # bin and visible are empty outside graded sets; steps_ratio_vs_expert reads the expert's csv
    from evaluation.report import read_episodes_csv, write_episodes_csv

    records = [record(0, True, 100, 2.5), record(1, False, 600, 1.0)]
    write_episodes_csv(tmp_path / "episodes.csv", records)
    assert read_episodes_csv(tmp_path / "episodes.csv") == records
