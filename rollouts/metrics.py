"""Navigation metrics (DESIGN.md): success, SPL, SoftSPL, path length, steps ratio against the expert.

SPL (Anderson et al. 2018) per episode: S * l / max(p, l), with l the shortest path length from the
start to success and p the path length driven. In the arena, success means reaching the disc of
radius r around the target's centre, so l = max(d0 - r, 0) with d0 the start distance to the centre.
SoftSPL: max(0, 1 - dT / d0) * l / max(p, l), dT the final distance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np


def spl(success: bool, shortest: float, path: float) -> float:
    if not success:
        return 0.0
    return shortest / max(path, shortest) if max(path, shortest) > 0 else 1.0


def soft_spl(final_distance: float, start_distance: float, shortest: float, path: float) -> float:
    progress = max(0.0, 1.0 - final_distance / start_distance) if start_distance > 0 else 1.0
    return progress * (shortest / max(path, shortest) if max(path, shortest) > 0 else 1.0)


@dataclass
class EpisodeRecord:
    """One row of episodes.csv."""

    episode_id: int
    target: str
    instruction: str
    success: bool
    timed_out: bool
    steps: int
    path_length: float
    shortest_path: float
    start_distance: float
    final_distance: float
    collisions: int
    spl: float
    soft_spl: float
    tipped: bool = False  # the robot tipped over, which ends the episode as a failure
    bin: str = ""  # the distance bin of a graded episode set
    visible: str = ""  # "yes" or "no": the goal visible from the start (graded sets)

    @classmethod
    def from_outcome(cls, episode_id, target, instruction, success, timed_out, steps, path_length,
                     start_distance, final_distance, collisions, success_radius, tipped=False) -> EpisodeRecord:  # fmt: skip
        shortest = max(start_distance - success_radius, 0.0)
        return cls(
            episode_id=int(episode_id),
            target=target,
            instruction=instruction,
            success=bool(success),
            timed_out=bool(timed_out),
            steps=int(steps),
            path_length=round(float(path_length), 4),
            shortest_path=round(shortest, 4),
            start_distance=round(float(start_distance), 4),
            final_distance=round(float(final_distance), 4),
            collisions=int(collisions),
            spl=round(spl(bool(success), shortest, float(path_length)), 4),
            soft_spl=round(
                soft_spl(float(final_distance), float(start_distance), shortest, float(path_length)), 4
            ),
            tipped=bool(tipped),
        )

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def row(self) -> dict:
        return asdict(self)


def summarize(records: list[EpisodeRecord]) -> dict:
    """Means over episodes; steps and path length also over successful episodes only."""
    if not records:
        return {"episodes": 0}
    ok = [r for r in records if r.success]
    mean = lambda xs: float(np.mean(xs)) if xs else math.nan  # noqa: E731
    return {
        "episodes": len(records),
        "success_rate": mean([r.success for r in records]),
        "spl": mean([r.spl for r in records]),
        "soft_spl": mean([r.soft_spl for r in records]),
        "mean_steps": mean([r.steps for r in records]),
        "mean_steps_successful": mean([r.steps for r in ok]),
        "mean_path_length": mean([r.path_length for r in records]),
        "mean_final_distance": mean([r.final_distance for r in records]),
        "mean_collisions": mean([r.collisions for r in records]),
        "timeouts": sum(1 for r in records if r.timed_out),
        "tipped": sum(1 for r in records if r.tipped),
    }


def summarize_groups(records: list[EpisodeRecord]) -> dict:
    """Success, SPL and SoftSPL by distance bin and by the goal's visibility at the start (graded sets)."""
    groups = {}
    for key, name in (("bin", "by_bin"), ("visible", "by_visibility")):
        values = list(dict.fromkeys(getattr(r, key) for r in records if getattr(r, key)))
        if values:
            groups[name] = {
                v: {k: s[k] for k in ("episodes", "success_rate", "spl", "soft_spl")}
                for v in values
                if (s := summarize([r for r in records if getattr(r, key) == v]))
            }
    return groups


def steps_ratio(records: list[EpisodeRecord], expert: list[EpisodeRecord]) -> tuple[float, int]:
    """Mean steps of the policy over mean steps of the expert, on episodes both solved (and how many)."""
    expert_steps = {r.episode_id: r.steps for r in expert if r.success}
    pairs = [
        (r.steps, expert_steps[r.episode_id]) for r in records if r.success and r.episode_id in expert_steps
    ]
    if not pairs:
        return math.nan, 0
    ours, theirs = zip(*pairs, strict=True)
    return float(np.mean(ours) / np.mean(theirs)), len(pairs)
