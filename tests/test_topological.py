"""The graph navigator (policies/pignav/topological.py) on synthetic graphs, without a simulator: the route,
localisation in route order with hysteresis, advancing, the goal only after several localisations there,
re-routing when lost; the learned localiser's shapes; the prior traversals and the node views."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from test_pignav import tiny

from envs.scenes import generate, traversal
from episodes.graphs import VIEWS, TraversalGraph, load_graph, save_graph, view_poses
from episodes.sets import load_episode_set
from policies.pignav.model import PigNavNet
from policies.pignav.policy import PigNavPolicy
from policies.pignav.topological import LearnedLocaliser, TopologicalNavigator, route_view

SIZE = 8


class FakeLocaliser:
    """Distances from made-up robot and goal positions (the role the true-pose oracle plays)."""

    name = "fake"

    def __init__(self, robot: np.ndarray, goal: np.ndarray):
        self.robot, self.goal = robot, goal  # (E, 2) robot positions, (2,) the goal

    def shortcuts(self, images, graph, env):
        xy = graph.poses[:, :2]
        return np.linalg.norm(xy[:, None] - xy[None], axis=-1)

    def goal_distances(self, images, graph, goal, env):
        return np.linalg.norm(graph.poses[:, :2] - self.goal, axis=-1)

    def to_nodes(self, obs, obs_images, queries):
        return np.array([np.linalg.norm(self.robot[e] - plan.graph.poses[k, :2]) for e, plan, k in queries])


class StubPolicy:
    kind, metadata = "pignav", {}
    config = SimpleNamespace(image_size=SIZE)

    def __init__(self):
        self.goals = []

    def reset(self, env_ids):
        pass

    def act(self, obs):
        self.goals.append(obs["goal_rgb"].clone())
        return torch.zeros(len(obs["rgb"]), 2)


def line_graph(n: int = 10, spacing: float = 0.5) -> TraversalGraph:
    """n nodes along +x, each view an image of its own value, so a test can read which one was chosen."""
    poses = np.stack([np.arange(n) * spacing, np.zeros(n), np.zeros(n)], axis=-1).astype(np.float32)
    images = (np.arange(n * VIEWS).reshape(n, VIEWS, 1, 1, 1) * np.ones((1, 1, SIZE, SIZE, 3))).astype(
        np.uint8
    )
    return TraversalGraph(images, poses)


def obs(envs: int = 1) -> dict:
    return {"rgb": torch.zeros(envs, SIZE, SIZE, 3, dtype=torch.uint8),
            "goal_rgb": torch.full((envs, SIZE, SIZE, 3), 255, dtype=torch.uint8), "episode_id": [0] * envs}  # fmt: skip


def navigator(robot_x: float, **kwargs) -> tuple[TopologicalNavigator, FakeLocaliser, StubPolicy]:
    graph = line_graph()
    localiser = FakeLocaliser(np.array([[robot_x, 0.0]]), graph.poses[-1, :2])
    policy = StubPolicy()
    nav = TopologicalNavigator(policy, {0: graph}, localiser, relocalise_every=1, **kwargs)
    nav.reset(torch.arange(1))
    return nav, localiser, policy


def test_route_runs_from_the_robots_node_to_the_goal_and_the_subgoal_is_a_metre_ahead():
    nav, _, policy = navigator(0.1)
    nav.act(obs())
    plan = nav.plans[0]
    assert plan.goal_node == 9 and plan.route[0] == 0 and plan.route[-1] == 9
    assert plan.route[nav.subgoal(plan)] in (2, 3)  # the shortcuts may skip nodes, never past 1 m
    chosen = int(policy.goals[-1][0, 0, 0, 0])
    assert chosen == plan.route[nav.subgoal(plan)] * VIEWS  # the node's view 0 faces along the route


def test_localisation_moves_along_the_route_with_hysteresis_and_reaches_the_goal_only_when_confirmed():
    nav, localiser, policy = navigator(0.0, confirm=3)
    nav.act(obs())
    plan = nav.plans[0]
    localiser.robot[0] = [0.3, 0.0]  # a bit nearer node 1 than node 0: within the margin, it stays
    nav.act(obs())
    assert plan.node == 0
    for x in np.arange(0.5, 4.6, 0.25):  # drive along the line
        localiser.robot[0] = [x, 0.0]
        nav.act(obs())
        assert not plan.to_goal or x >= 4.0
    nav.act(obs())
    nav.act(obs())
    assert plan.node == 9
    assert plan.to_goal  # localised at the goal node three times in a row
    assert (policy.goals[-1] == 255).all()  # the goal image itself
    for _ in range(3):  # back at the start: the graph again, not the goal image (no permanent switch)
        localiser.robot[0] = [3.0, 0.0]
        nav.act(obs())
    assert not plan.to_goal


def test_a_lost_robot_localises_among_all_nodes_and_plans_a_new_route():
    nav, localiser, _ = navigator(0.0, confirm=2, lost_m=1.0)
    nav.act(obs())
    plan = nav.plans[0]
    localiser.robot[0] = [4.0, 0.0]  # carried far beyond the window
    for _ in range(2):
        nav.act(obs())
    assert plan.reroutes == 1 and plan.node == 8


def test_route_view_faces_the_way_from_the_previous_node():
    graph = line_graph()
    graph.poses[:, 2] = 0.0
    assert route_view(graph, 0, 1) == 0  # travelling +x, as the traversal did
    assert route_view(graph, 2, 1) == VIEWS // 2  # the other way: the view facing back
    graph.poses[1] = [0.5, 0.0, math.pi / 2]
    assert route_view(graph, 0, 1) == VIEWS - 1  # node heading +y, route +x: 90° clockwise


def test_the_learned_localiser_takes_the_nearest_view_of_each_node():
    config = tiny()
    policy = PigNavPolicy(PigNavNet(config), config, num_envs=2)
    localiser = LearnedLocaliser(policy)
    graph = line_graph(4)
    graph.images = np.random.default_rng(0).integers(0, 255, (4, VIEWS, 32, 32, 3), dtype=np.uint8)
    images = torch.rand(4, VIEWS, 3, 32, 32)
    d = localiser.shortcuts(images, graph, 0)
    assert d.shape == (4, 4) and (d >= 0).all()
    goal = localiser.goal_distances(images, graph, torch.rand(3, 32, 32), 0)
    assert goal.shape == (4,)
    plan = SimpleNamespace(images=images)
    obs_images = torch.rand(2, 3, 32, 32)
    near = localiser.to_nodes({}, obs_images, [(0, plan, 1), (1, plan, 3)])
    single = localiser.pairwise(obs_images[[0]].repeat(VIEWS, 1, 1, 1), images[1]).min()
    assert near.shape == (2,) and near[0] == pytest.approx(float(single), rel=1e-5)


@pytest.mark.parametrize("kind", ["route", "random"])
def test_prior_traversals_pass_the_start_and_the_goal(kind):
    layout_seed, episode = load_episode_set("rooms", "test_graded", "test_graded")[45]
    poses = traversal(generate("rooms", layout_seed), episode, np.random.default_rng(0), kind=kind)
    assert np.allclose(poses[0, :2], episode.start_xy)
    gaps = np.linalg.norm(np.diff(poses[:, :2], axis=0), axis=-1)
    assert gaps.max() <= 0.5 + 1e-6
    at_goal = np.linalg.norm(poses[:, :2] - episode.goal_xy, axis=-1).min()
    assert at_goal < 1e-6
    if kind == "route":  # ends there, and is about as long as the shortest path
        assert np.allclose(poses[-1, :2], episode.goal_xy)
        assert gaps.sum() == pytest.approx(episode.geodesic, rel=0.1)


def test_node_views_turn_by_equal_steps_and_graphs_round_trip(tmp_path):
    poses = np.array([[0.0, 0.0, 0.3], [1.0, 0.0, -1.0]], np.float32)
    views = view_poses(poses)
    assert views.shape == (2 * VIEWS, 3)
    assert np.allclose(np.diff(views[:VIEWS, 2]), 2 * np.pi / VIEWS)
    graph = line_graph(3)
    save_graph(tmp_path, 5, graph)
    back = load_graph(tmp_path, 5)
    assert back.images.shape == graph.images.shape and np.array_equal(back.poses, graph.poses)


def test_the_scan_turns_a_full_circle_then_on_to_the_nearest_view_then_drives():
    from policies.pignav.scan import CIRCLE_STEPS, SCAN_TURN, ScanFirst

    class Judged(StubPolicy):
        """Distance 3 m everywhere but at scan step 20 (env 0) and 0 (env 1); drives straight."""

        model = SimpleNamespace(heads=SimpleNamespace(shapes={"distance": 1}))
        config = SimpleNamespace(image_size=SIZE, distance_scale=1.0)
        calls = 0

        def predict(self, obs):
            d = torch.full((2, 1), 3.0)
            if self.calls == 20:
                d[0] = 0.5
            if self.calls == 0:
                d[1] = 0.5
            self.calls += 1
            return {"distance": d}

        def steer(self, heads):
            return torch.ones(2, 2)

    scan = ScanFirst(Judged(), num_envs=2)
    scan.reset(torch.arange(2))
    wheels = torch.stack([scan.act(obs(2)) for _ in range(CIRCLE_STEPS + 30)])
    turning = (wheels[..., 0] == -SCAN_TURN) & (wheels[..., 1] == SCAN_TURN)
    assert turning[:, 0].sum() == CIRCLE_STEPS + 20 and turning[: CIRCLE_STEPS + 20, 0].all()
    assert turning[:, 1].sum() == CIRCLE_STEPS  # its start view was the nearest: a circle, then drive
    assert (wheels[CIRCLE_STEPS + 20 :, 0] == 1).all()
