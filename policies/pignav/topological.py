"""Long-range image-goal navigation over a topological graph of a prior traversal, the way ViNT's
navigator (visualnav-transformer) follows its map:

1. at the start, localise the robot and the goal among all the graph's nodes and plan a route between
   them (Dijkstra over the traversal's edges and the shortcuts the distance head finds);
2. every few steps, localise again among a few nodes around the last one in route order, moving only
   when another node is clearly nearer (hysteresis), and advance when the subgoal is reached;
3. drive to the subgoal, the route node about `subgoal_m` ahead, as to any goal image (the node's view
   that faces along the route);
4. drive to the goal image itself only once localised at the goal node several times in a row; leave it
   again if localisation says otherwise. A robot that is lost (every nearby node far) localises among all
   nodes and plans a new route.

Each node has several views (every 360°/V), so a view facing any way can be matched. Where the
distances come from is a `Localiser`: the model's distance head here; the evaluator's privileged
oracles (`evaluation/oracles.py`) plug in the true poses instead."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.sparse.csgraph import dijkstra

from episodes.graphs import TraversalGraph
from policies.images import to_model_images
from policies.pignav.policy import PigNavPolicy


@dataclass
class Plan:
    """One env's graph, its route and where the robot is on it."""

    graph: TraversalGraph
    images: torch.Tensor  # (N, V, 3, S, S) model images of the node views
    weights: np.ndarray  # (N, N) edge lengths [m]; inf where there is no edge
    goal_node: int
    route: list[int] = field(default_factory=list)  # node ids from the robot's node to the goal node
    at: int = 0  # the robot's position in `route`
    countdown: int = 0  # steps until the next localisation
    at_goal_count: int = 0  # localisations in a row at the goal node
    away_count: int = 0  # localisations in a row away from it, while driving to the goal image
    lost_count: int = 0  # localisations in a row with every nearby node far
    to_goal: bool = False  # driving to the goal image itself
    reroutes: int = 0

    @property
    def node(self) -> int:
        return self.route[self.at]


class LearnedLocaliser:
    """Distances [m] from the model's distance head, from images alone (what the robot has at test time)."""

    name = "learned"

    def __init__(self, policy: PigNavPolicy, batch: int = 512):
        if "distance" not in policy.model.heads.shapes:
            raise ValueError("topological navigation localises with the distance head; this model has none")
        self.policy, self.batch = policy, batch

    @torch.no_grad()
    def pairwise(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        """Model images (B, 3, S, S) x (B, 3, S, S) -> (B,) predicted distances [m] from obs to goal."""
        config, model, out = self.policy.config, self.policy.model, []
        for i in range(0, len(obs), self.batch):
            o = obs[i : i + self.batch].to(self.policy.device)
            g = goals[i : i + self.batch].to(self.policy.device)
            context = o[:, None].expand(-1, config.context, -1, -1, -1) if config.context else None
            out.append(model(o, g, context)["distance"][:, 0].cpu() * config.distance_scale)
        return torch.cat(out).clamp_min(0) if out else torch.zeros(0)

    def shortcuts(self, plan_images: torch.Tensor, graph: TraversalGraph, env: int) -> np.ndarray:
        """(N, N) distance from node i (its view 0) to node j (its nearest view)."""
        n, v = plan_images.shape[:2]
        i, j = np.meshgrid(np.arange(n), np.arange(n * v), indexing="ij")
        d = self.pairwise(plan_images[i.ravel(), 0], plan_images.flatten(0, 1)[j.ravel()])
        return d.view(n, n, v).amin(-1).numpy()

    def goal_distances(
        self, plan_images: torch.Tensor, graph: TraversalGraph, goal: torch.Tensor, env: int
    ) -> np.ndarray:
        """(N,) distance from each node (its nearest view) to the goal image `goal` (3, S, S)."""
        n, v = plan_images.shape[:2]
        d = self.pairwise(plan_images.flatten(0, 1), goal[None].expand(n * v, -1, -1, -1))
        return d.view(n, v).amin(-1).numpy()

    def to_nodes(
        self, obs: dict, obs_images: torch.Tensor, queries: list[tuple[int, Plan, int]]
    ) -> np.ndarray:
        """(Q,) distance from env e's observation to node k of its plan (nearest view), for (e, plan, k)."""
        if not queries:
            return np.zeros(0)
        v = queries[0][1].images.shape[1]
        o = obs_images[[e for e, _, _ in queries]].repeat_interleave(v, 0)
        nodes = torch.cat([plan.images[k] for _, plan, k in queries])
        return self.pairwise(o, nodes).view(len(queries), v).amin(-1).numpy()


def route_view(graph: TraversalGraph, previous: int, node: int) -> int:
    """Which of `node`'s views faces the way from `previous` to it (the node's own heading if they are
    the same node)."""
    views = graph.images.shape[1]
    heading = graph.poses[node, 2]
    if previous != node:
        d = graph.poses[node, :2] - graph.poses[previous, :2]
        heading = math.atan2(d[1], d[0])
    return int(round((heading - graph.poses[node, 2]) / (2 * math.pi / views))) % views


class TopologicalNavigator:
    """Wraps a PIG-Nav (or late-fusion) policy: ``obs['goal_rgb']`` becomes the next subgoal's image.
    Needs ``obs['episode_id']`` (the evaluator passes it) to find each env's graph in `graphs`.
    `localiser`: where distances come from (default: the policy's distance head)."""

    def __init__(self, policy: PigNavPolicy, graphs: dict[int, TraversalGraph], localiser=None,
                 relocalise_every: int = 5, shortcut_m: float = 0.75, subgoal_m: float = 1.0,
                 behind: int = 1, ahead: int = 3, switch_margin_m: float = 0.15, reached_m: float = 0.3,
                 confirm: int = 3, lost_m: float = 2.0):  # fmt: skip
        self.policy, self.graphs, self.kind = policy, graphs, policy.kind
        self.localiser = localiser or LearnedLocaliser(policy)
        self.metadata = {**policy.metadata, "localiser": self.localiser.name}
        self.relocalise_every, self.shortcut_m, self.subgoal_m = relocalise_every, shortcut_m, subgoal_m
        self.behind, self.ahead, self.switch_margin_m = behind, ahead, switch_margin_m
        self.reached_m, self.confirm, self.lost_m = reached_m, confirm, lost_m
        self.plans: dict[int, Plan | None] = {}

    def reset(self, env_ids: torch.Tensor) -> None:
        for e in env_ids.tolist():
            self.plans[e] = None
        self.policy.reset(env_ids)

    # -- the graph and the route

    def build(self, graph: TraversalGraph, goal: torch.Tensor, env: int) -> Plan:
        """Edges and the goal node of one graph; `goal` is the goal's model image (3, S, S)."""
        images = to_model_images(torch.as_tensor(graph.images).flatten(0, 1), self.policy.config.image_size)
        images = images.view(*graph.images.shape[:2], *images.shape[1:])
        d = self.localiser.shortcuts(images, graph, env)
        weights = np.where(d < self.shortcut_m, np.maximum(d, 0.05), np.inf)
        weights = np.minimum(weights, weights.T)  # a shortcut either way is one both ways
        spacing = np.linalg.norm(np.diff(graph.poses[:, :2], axis=0), axis=-1)
        k = np.arange(len(graph) - 1)
        weights[k, k + 1] = weights[k + 1, k] = np.maximum(spacing, 0.05)
        np.fill_diagonal(weights, 0.0)
        goal_node = int(np.argmin(self.localiser.goal_distances(images, graph, goal, env)))
        return Plan(graph, images, weights, goal_node)

    def route(self, plan: Plan, start: int) -> None:
        """Plan the route from node `start` to the goal node (just the goal node when there is none)."""
        dist, pred = dijkstra(np.where(np.isinf(plan.weights), 0, plan.weights), directed=True,
                              indices=start, return_predecessors=True)  # fmt: skip
        route = [plan.goal_node]
        if np.isfinite(dist[plan.goal_node]):
            while route[-1] != start:
                route.append(int(pred[route[-1]]))
        plan.route, plan.at = route[::-1], 0

    def subgoal(self, plan: Plan) -> int:
        """The position in the route about `subgoal_m` ahead of the robot's (the goal node at most)."""
        travelled = 0.0
        for i in range(plan.at + 1, len(plan.route)):
            travelled += plan.weights[plan.route[i - 1], plan.route[i]]
            if travelled >= self.subgoal_m:
                return i
        return len(plan.route) - 1

    # -- localisation

    def localise(self, plans: dict[int, Plan], obs: dict, obs_images: torch.Tensor) -> None:
        """Each plan's robot position among a few route nodes around its last one (all nodes at the start
        or when lost, then a new route), with hysteresis; advance when the subgoal is reached."""
        fresh = {e for e, p in plans.items() if not p.route}
        queries = []
        for e, plan in plans.items():
            nodes = (
                range(len(plan.graph))
                if e in fresh
                else plan.route[max(0, plan.at - self.behind) : plan.at + self.ahead + 1]
            )
            queries += [(e, plan, k) for k in nodes]
        d = self.localiser.to_nodes(obs, obs_images, queries)
        for e, plan in plans.items():
            rows = [i for i, (owner, _, _) in enumerate(queries) if owner == e]
            near = {queries[i][2]: float(d[i]) for i in rows}
            plan.countdown = self.relocalise_every
            if e in fresh:
                self.route(plan, min(near, key=near.get))
                continue
            if min(near.values()) > self.lost_m:
                plan.lost_count += 1
                if plan.lost_count >= self.confirm:  # lost: start again from the whole graph
                    plan.route, plan.lost_count, plan.reroutes = [], 0, plan.reroutes + 1
                    self.localise({e: plan}, obs, obs_images)
                continue
            plan.lost_count = 0
            window = range(max(0, plan.at - self.behind), min(len(plan.route), plan.at + self.ahead + 1))
            cost = {i: near[plan.route[i]] + (0 if i == plan.at else self.switch_margin_m) for i in window}
            plan.at = min(cost, key=cost.get)
            target = self.subgoal(plan)
            if target != plan.at and near.get(plan.route[target], np.inf) < self.reached_m:
                plan.at = target  # the subgoal is reached: the next one
            at_goal = plan.node == plan.goal_node
            plan.at_goal_count = plan.at_goal_count + 1 if at_goal else 0
            plan.away_count = 0 if at_goal else plan.away_count + 1
            if plan.at_goal_count >= self.confirm:
                plan.to_goal = True
            elif plan.to_goal and plan.away_count >= self.confirm:
                plan.to_goal = False

    # -- acting

    def targets(self, obs: dict) -> dict[int, tuple[Plan, int | None]]:
        """Each env with a graph: its plan and the route position of the node to drive to (None: the goal
        image itself)."""
        size = self.policy.config.image_size
        obs_images = to_model_images(obs["rgb"], size)
        goal_images = to_model_images(obs["goal_rgb"], size)
        for e, episode_id in enumerate(obs["episode_id"]):
            if self.plans.get(e) is None and episode_id in self.graphs:
                self.plans[e] = self.build(self.graphs[episode_id], goal_images[e], e)
        due = {e: p for e, p in self.plans.items() if p is not None and p.countdown <= 0}
        if due:
            self.localise(due, obs, obs_images)
        out = {}
        for e, plan in self.plans.items():
            if plan is None:
                continue
            plan.countdown -= 1
            target = self.subgoal(plan)
            out[e] = (plan, None if plan.to_goal or plan.route[target] == plan.goal_node else target)
        return out

    def act(self, obs: dict) -> torch.Tensor:
        goal_rgb = obs["goal_rgb"].clone()
        for e, (plan, i) in self.targets(obs).items():
            if i is not None:
                node = plan.route[i]
                view = route_view(plan.graph, plan.route[max(0, i - 1)], node)
                goal_rgb[e] = torch.as_tensor(plan.graph.images[node, view]).to(goal_rgb.device)
        return self.policy.act({**obs, "goal_rgb": goal_rgb})
