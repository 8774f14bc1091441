"""Long-range image-goal navigation over a topological graph of a prior traversal (ViNT's scheme; the
open question PIG-Nav's paper leaves): the model's distance head localises the robot and the goal among
the graph's images, a shortest path through the graph picks the next subgoal image about a metre ahead,
and the model drives to it as to any goal image; close to the goal it drives to the goal image itself.

Edges: consecutive nodes of the traversal (their recorded spacing), and shortcuts between any two nodes
the distance head puts within `shortcut_m` of each other (from the images alone, like ViNT's graph)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.csgraph import dijkstra

from episodes.graphs import TraversalGraph
from policies.images import to_model_images
from policies.pignav.policy import PigNavPolicy


@dataclass
class Plan:
    """One env's graph and where the robot is on it."""

    raw: torch.Tensor  # (N, H, W, 3) uint8 node images, as the policy takes goal images
    images: torch.Tensor  # (N, 3, S, S) model images of the nodes
    weights: np.ndarray  # (N, N) directed edge lengths [m]; inf where there is no edge
    goal_node: int
    node: int = -1  # -1: not localised yet
    countdown: int = 0  # steps until the next localisation
    at_goal: bool = False  # the goal image itself is the goal now


class TopologicalNavigator:
    """Wraps a PIG-Nav (or late-fusion) policy: ``obs['goal_rgb']`` becomes the next subgoal's image.
    Needs ``obs['episode_id']`` (the evaluator passes it) to find each env's graph in `graphs`."""

    def __init__(self, policy: PigNavPolicy, graphs: dict[int, TraversalGraph], relocalise_every: int = 5,
                 window_m: float = 2.0, shortcut_m: float = 0.75, subgoal_m: float = 1.0, goal_m: float = 1.0,
                 batch: int = 512):  # fmt: skip
        if "distance" not in policy.model.heads.shapes:
            raise ValueError("topological navigation localises with the distance head; this model has none")
        self.policy, self.graphs, self.kind = policy, graphs, policy.kind
        self.metadata = policy.metadata
        self.relocalise_every, self.window_m, self.shortcut_m = relocalise_every, window_m, shortcut_m
        self.subgoal_m, self.goal_m, self.batch = subgoal_m, goal_m, batch
        self.plans: dict[int, Plan | None] = {}

    def reset(self, env_ids: torch.Tensor) -> None:
        for e in env_ids.tolist():
            self.plans[e] = None
        self.policy.reset(env_ids)

    @torch.no_grad()
    def distances(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        """Model images (B, 3, S, S) x (B, 3, S, S) -> (B,) predicted distances [m] from obs to goal."""
        config, model, out = self.policy.config, self.policy.model, []
        for i in range(0, len(obs), self.batch):
            o, g = obs[i : i + self.batch], goals[i : i + self.batch]
            context = o[:, None].expand(-1, config.context, -1, -1, -1) if config.context else None
            out.append(model(o, g, context)["distance"][:, 0] * config.distance_scale)
        return torch.cat(out).clamp_min(0)

    def build(self, graph: TraversalGraph, goal: torch.Tensor) -> Plan:
        """Edges and the goal node of one graph; `goal` is the goal's model image (3, S, S)."""
        size = self.policy.config.image_size
        raw = torch.as_tensor(graph.images)
        images = to_model_images(raw, size)
        n = len(images)
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        d = self.distances(images[i.ravel()], images[j.ravel()]).view(n, n).numpy()
        weights = np.where(d < self.shortcut_m, np.maximum(d, 0.05), np.inf)
        spacing = np.linalg.norm(np.diff(graph.poses[:, :2], axis=0), axis=-1)
        k = np.arange(n - 1)
        weights[k, k + 1] = weights[k + 1, k] = np.maximum(spacing, 0.05)
        np.fill_diagonal(weights, 0.0)
        to_goal = self.distances(images, goal[None].expand(n, -1, -1, -1))
        return Plan(raw, images, weights, int(to_goal.argmin()))

    def subgoal(self, plan: Plan) -> int | None:
        """The node about `subgoal_m` ahead on the shortest path to the goal node; None: go for the goal."""
        dist, pred = dijkstra(np.where(np.isinf(plan.weights), 0, plan.weights), directed=True,
                              indices=plan.node, return_predecessors=True)  # fmt: skip
        if not np.isfinite(dist[plan.goal_node]) or dist[plan.goal_node] <= self.subgoal_m:
            return None  # close to the goal, or no way there through the graph: the goal image itself
        path = [plan.goal_node]
        while path[-1] != plan.node:
            path.append(pred[path[-1]])
        path.reverse()
        return next((v for v in path[1:] if dist[v] >= self.subgoal_m), plan.goal_node)

    def localise(self, plans: dict[int, Plan], obs_images: torch.Tensor, goal_images: torch.Tensor) -> None:
        """Each plan's nearest node to the robot (among nodes within `window_m` of its last one), and
        whether the goal image is close enough to drive to directly."""
        pairs, owners = [], []
        for e, plan in plans.items():
            if plan.node < 0:
                nearby = np.arange(len(plan.images))
            else:
                reach = dijkstra(
                    np.where(np.isinf(plan.weights), 0, plan.weights), directed=False, indices=plan.node
                )
                nearby = np.flatnonzero(reach <= self.window_m)
            pairs += [(e, int(v)) for v in nearby]
            owners.append(e)
        obs = obs_images[[e for e, _ in pairs]]
        nodes = torch.stack([plans[e].images[v] for e, v in pairs])
        d = self.distances(obs, nodes).numpy()
        to_goal = self.distances(obs_images[owners], goal_images[owners]).numpy()
        for e, d_goal in zip(owners, to_goal, strict=True):
            rows = [k for k, (owner, _) in enumerate(pairs) if owner == e]
            best = rows[int(np.argmin(d[rows]))]
            plans[e].node = pairs[best][1]
            plans[e].at_goal = plans[e].at_goal or d_goal < self.goal_m
            plans[e].countdown = self.relocalise_every

    def act(self, obs: dict) -> torch.Tensor:
        size = self.policy.config.image_size
        goal_rgb = obs["goal_rgb"].clone()
        obs_images, goal_images = to_model_images(obs["rgb"], size), to_model_images(obs["goal_rgb"], size)
        for e, episode_id in enumerate(obs["episode_id"]):
            if self.plans.get(e) is None and episode_id in self.graphs:
                self.plans[e] = self.build(self.graphs[episode_id], goal_images[e])
        due = {e: p for e, p in self.plans.items() if p is not None and not p.at_goal and p.countdown <= 0}
        if due:
            self.localise(due, obs_images, goal_images)
        for e, plan in self.plans.items():
            if plan is None or plan.at_goal:
                continue
            plan.countdown -= 1
            target = self.subgoal(plan)
            if target is None:
                plan.at_goal = True
            else:
                goal_rgb[e] = plan.raw[target].to(goal_rgb.device)
        return self.policy.act({**obs, "goal_rgb": goal_rgb})
