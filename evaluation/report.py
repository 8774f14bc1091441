"""Evaluation outputs: episodes.csv, summary.json, results.md, plots and the video."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from rollouts.metrics import EpisodeRecord
from storage import atomic_path, atomic_write_text

TABLE_COLUMNS = [
    ("policy", "policy", "{}"),
    ("encoder", "encoder", "{}"),
    ("variant", "variant", "{}"),
    ("episodes", "episodes", "{}"),
    ("success_rate", "success", "{:.1%}"),
    ("spl", "SPL", "{:.3f}"),
    ("soft_spl", "SoftSPL", "{:.3f}"),
    ("mean_steps_successful", "steps (succ.)", "{:.0f}"),
    ("steps_ratio_vs_expert", "steps vs expert", "{:.2f}x"),
    ("mean_path_length", "path (m)", "{:.2f}"),
    ("mean_collisions", "collisions", "{:.2f}"),
]


def write_episodes_csv(path: Path, records: list[EpisodeRecord]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EpisodeRecord.columns())
        writer.writeheader()
        writer.writerows(r.row() for r in records)


def read_episodes_csv(path: Path) -> list[EpisodeRecord]:
    casts = {
        "episode_id": int,
        "steps": int,
        "collisions": int,
        "success": lambda v: v == "True",
        "timed_out": lambda v: v == "True",
        "tipped": lambda v: v == "True",
    }
    with Path(path).open() as f:
        rows = list(csv.DictReader(f))
    text = ("target", "instruction", "bin", "visible")  # empty bin/visible outside graded sets
    kinds = {f: casts.get(f, float) for f in EpisodeRecord.columns() if f not in text}
    return [EpisodeRecord(**{k: (kinds[k](v) if k in kinds else v) for k, v in row.items()}) for row in rows]


def _cell(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def table_cells(summaries: list[dict], columns: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(column titles, one row of formatted cells per summary) of the results table; `columns`: the
    summary keys to show, in TABLE_COLUMNS order (default: all)."""
    shown = [c for c in TABLE_COLUMNS if columns is None or c[0] in columns]
    return [title for _, title, _ in shown], [
        [_cell(s.get(key), fmt) for key, _, fmt in shown] for s in summaries
    ]


def _markdown(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]) + "\n"


def markdown_table(summaries: list[dict], columns: list[str] | None = None) -> str:
    return _markdown(*table_cells(summaries, columns))


GROUPS_NOTE = "Success / SPL / SoftSPL by distance bin (episodes) and by the goal's visibility at the start:"


def group_cells(summaries: list[dict]) -> tuple[list[str], list[list[str]]] | None:
    """(column titles, rows) of success / SPL / SoftSPL by distance bin and by the goal's visibility at the
    start, one row per summary that has them (graded sets); None when none has."""
    rows = [s for s in summaries if s.get("by_bin")]
    if not rows:
        return None
    bins = list(dict.fromkeys(b for s in rows for b in s["by_bin"]))
    seen = list(dict.fromkeys(v for s in rows for v in s.get("by_visibility", {})))
    head = ["policy", "variant", *(f"{b} ({rows[0]['by_bin'][b]['episodes']})" for b in bins if b in rows[0]["by_bin"]),
            *(f"goal {'visible' if v == 'yes' else 'hidden'} at start" for v in seen)]  # fmt: skip

    def cell(group: dict | None) -> str:
        if not group:
            return "-"
        return f"{group['success_rate']:.0%} / {group['spl']:.2f} / {group['soft_spl']:.2f}"

    cells = [[str(s.get("policy", "")), s.get("variant") or "-", *(cell(s["by_bin"].get(b)) for b in bins),
              *(cell(s.get("by_visibility", {}).get(v)) for v in seen)] for s in rows]  # fmt: skip
    return head, cells


def groups_table(summaries: list[dict]) -> str:
    """The group_cells table in markdown, under its note; empty outside graded sets."""
    cells = group_cells(summaries)
    return f"{GROUPS_NOTE}\n\n{_markdown(*cells)}" if cells else ""


def write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """The frames (camera | goal image | map) as an mp4 (H.264, through PyAV) or an animated GIF, by suffix."""
    import imageio.v3 as iio

    with atomic_path(path) as tmp:
        if path.suffix == ".mp4":
            iio.imwrite(tmp, np.stack(frames), plugin="pyav", codec="libx264", fps=fps)
        else:
            iio.imwrite(tmp, np.stack(frames), duration=1000 / fps, loop=0)
    return path


RESULT_FILES = ("episodes.csv", "summary.json", "results.md", "trajectories.npz", "trajectories.png",
                "success_by_target.png", "video.gif", "video.mp4")  # fmt: skip


def clear_results(out_dir: Path) -> None:
    """Remove what an earlier evaluation wrote into `out_dir`, so a rerun leaves nothing stale beside its own."""
    for stale in [*(out_dir / name for name in RESULT_FILES), *out_dir.glob("replay_episode_*")]:
        stale.unlink(missing_ok=True)


def write_report(
    out_dir: Path,
    summary: dict,
    result,
    episodes: list,
    plots: bool = True,
    fps: int = 30,
    video_format: str = "gif",
) -> list[Path]:
    """Write everything for one policy on one episode set (after clearing an earlier run's files); returns
    the files written."""
    from evaluation.plots import plot_success_by_target, plot_trajectories

    out_dir.mkdir(parents=True, exist_ok=True)
    clear_results(out_dir)
    written = [out_dir / "episodes.csv", out_dir / "summary.json", out_dir / "results.md"]
    write_episodes_csv(written[0], result.records)
    atomic_write_text(written[1], json.dumps(summary, indent=2) + "\n")
    title = f"# {summary['policy']} on {summary['env']} ({summary['layout']}, {summary['split']})\n\n"
    note = "**Interrupted: partial results.**\n\n" if summary.get("interrupted") else ""
    groups = groups_table([summary])
    atomic_write_text(
        written[2], title + note + markdown_table([summary]) + (f"\n{groups}" if groups else "")
    )
    if result.trajectories:  # the driven poses, for --replay
        written.append(out_dir / "trajectories.npz")
        poses = {f"episode_{i}": np.asarray(t, np.float32) for i, t in result.trajectories.items()}
        with atomic_path(written[-1]) as tmp, tmp.open("wb") as f:
            np.savez_compressed(f, **poses)
    if plots and result.records:
        written.append(
            plot_trajectories(
                result.trajectories,
                episodes,
                result.records,
                out_dir / "trajectories.png",
                env=summary["env"],
            )  # fmt: skip
        )
        written.append(plot_success_by_target(result.records, out_dir / "success_by_target.png"))
    if result.frames:
        written.append(write_video(out_dir / f"video.{video_format}", result.frames, fps))
    return written
