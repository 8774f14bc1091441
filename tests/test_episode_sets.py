"""Fixed episode sets are deterministic and match the committed files."""

import json

import numpy as np
import pytest

from episodes import sets as episodes
from rollouts.closed_loop import EpisodeQueue


@pytest.mark.parametrize("layout_name", ["paper", "random"])
@pytest.mark.parametrize("split", sorted(episodes.SPLITS))
def test_episode_sets_are_deterministic_and_committed(layout_name, split, tmp_path):
    a = episodes.make_episode_set("arena", layout_name, split)
    b = episodes.make_episode_set("arena", layout_name, split)
    assert [e.to_dict() for e in a] == [e.to_dict() for e in b]
    written = episodes.write_episode_set("arena", layout_name, split, tmp_path)
    committed = episodes.episode_set_path("arena", layout_name, split)
    assert committed.read_text() == written.read_text(), f"{committed} is stale: run tools/episode_sets.py"
    loaded = episodes.load_episode_set("arena", layout_name, split)
    assert len(loaded) == episodes.SPLITS[split][1] == len(json.loads(committed.read_text())["episodes"])
    # targets are balanced
    assert np.bincount([e.target for e in loaded]).tolist() == [len(loaded) // 5] * 5


def test_val_and_test_differ():
    val = episodes.make_episode_set("arena", "random", "val")
    test = episodes.make_episode_set("arena", "random", "test")
    assert not np.allclose(val[0].sphere_xy, test[0].sphere_xy)


def test_queue_hands_out_each_episode_once():
    queue = EpisodeQueue(episodes.make_episode_set("arena", "paper", "val")[:3])
    got = [queue(env_id) for env_id in range(5)]
    assert [g[0] for g in got[:3]] == [0, 1, 2] and got[3] is None and got[4] is None


@pytest.mark.parametrize("style", ["rooms", "maze", "halls"])
@pytest.mark.parametrize("split", ["val", "test"])
def test_scene_episode_sets_use_their_split_and_are_committed(style, split, tmp_path):
    from envs.scenes import split_of

    written = episodes.write_episode_set(style, split, split, tmp_path)
    committed = episodes.episode_set_path(style, split, split)
    assert committed.read_text() == written.read_text(), f"{committed} is stale: run tools/episode_sets.py"
    loaded = episodes.load_episode_set(style, split, split)
    assert len(loaded) == episodes.SPLITS[split][1]
    assert all(split_of(seed) == split for seed, _ in loaded)  # never a training layout
    assert all(2.0 <= ep.geodesic <= 8.0 for _, ep in loaded)
    with pytest.raises(ValueError, match="come from test layouts"):
        episodes.make_episode_set(style, "train", "test")
