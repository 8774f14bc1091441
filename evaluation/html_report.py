"""A static HTML page of results folders: the comparison table, then per policy its success by target
(and by distance bin), trajectory maps, videos and an episode list with each episode's replay command.

    python evaluation/compare.py results/arena --html        # writes results/arena/report.html

The page has no scripts and fetches nothing: images and videos are relative links into the folders.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import numpy as np

from evaluation.bench import demo_stages
from evaluation.comparison import comparison_parts, find_results
from evaluation.report import GROUPS_NOTE, group_cells, read_episodes_csv, table_cells
from storage import atomic_write_text

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1250px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #ddd; }
.meta, .note { color: #666; } .warn { background: #fff3cd; padding: .5em 1em; border-left: 4px solid #e0a800; }
table { border-collapse: collapse; margin: .6em 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; }
th { background: #f2f4f7; text-align: left; } td { text-align: right; } td.text { text-align: left; }
tbody tr:nth-child(even) { background: #fafafa; } tbody tr:hover { background: #eef4ff; }
.ok { color: #1a7f37; } .fail { color: #c62828; } .ok, .fail { white-space: nowrap; }
section.policy { border: 1px solid #ddd; border-radius: 8px; padding: 0 1.2em 1em; margin: 1.5em 0; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; } figcaption { color: #666; font-size: .9em; }
figure img, figure video { max-width: 100%; border: 1px solid #eee; }
code { background: #f2f4f7; padding: 1px 4px; border-radius: 3px; user-select: all; } code span { white-space: nowrap; }
summary { cursor: pointer; font-weight: 600; margin: .6em 0; }
"""


def e(value) -> str:
    return html.escape(str(value))


def link(target: Path, page_dir: Path) -> str:
    """`target` relative to the page, quoted for a URL and escaped for an attribute."""
    return e(quote(Path(os.path.relpath(target, page_dir)).as_posix()))


def table(
    head: list[str], rows: list[list[str]], text_columns: int = 1, first_links: list[str] | None = None
) -> str:
    """An HTML table of already escaped cells: numbers right-aligned, text (and the first `text_columns`
    columns) left-aligned."""

    def cell(i: int, c: str) -> str:
        number = i >= text_columns and re.fullmatch(r"-|[-+]?\d[\d.,%x /]*", c)
        return f"<td>{c}</td>" if number else f"<td class=text>{c}</td>"

    if first_links:  # the first cell links to an anchor on the page
        rows = [[f'<a href="#{a}">{row[0]}</a>', *row[1:]] for row, a in zip(rows, first_links, strict=True)]
    head_html = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head_html}</tr></thead><tbody>{body}</tbody></table>"


def escaped(head: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    return [e(h) for h in head], [[e(c) for c in row] for row in rows]


def figure(path: Path, page_dir: Path, caption: str) -> str:
    src = link(path, page_dir)
    media = (
        f'<video src="{src}" controls muted loop preload="metadata"></video>'
        if path.suffix == ".mp4"
        else f'<a href="{src}"><img src="{src}" alt="{e(caption)}"></a>'
    )
    return f"<figure>{media}<figcaption>{e(caption)}</figcaption></figure>"


def finished(folder: Path, pattern: str) -> list[Path]:
    """The files matching `pattern`, leaving out hidden ones (an atomic write's temporary file)."""
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))


def success_plot(folder: Path, records: list) -> Path | None:
    """success_by_target.png as evaluation/report.py writes it; drawn now if the run was --no-plots."""
    path = folder / "success_by_target.png"
    if not path.exists() and records:
        from evaluation.plots import plot_success_by_target

        try:
            plot_success_by_target(records, path)
        except OSError:  # a folder we may not write to: no plot
            return None
    return path if path.exists() else None


def recorded_episodes(folder: Path) -> set[int]:
    """Episode ids with driven poses in trajectories.npz, the ones --replay can replay."""
    try:
        with np.load(folder / "trajectories.npz") as poses:
            return {int(k.split("_")[1]) for k in poses.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        return set()


def outcome(record) -> str:
    if record.success:
        return '<span class="ok">success</span>'
    why = "tipped over" if record.tipped else "timed out" if record.timed_out else "failure"
    return f'<span class="fail">{why}</span>'


def episode_list(folder: Path, records: list) -> str:
    """A collapsed table of the episodes, each with its replay command."""
    replayable = recorded_episodes(folder)
    graded = any(r.bin for r in records)
    head = ["episode", "target", *(["bin", "goal visible"] if graded else []), "result", "steps",
            "final distance (m)", "path (m)", "collisions", "replay"]  # fmt: skip
    rows = []
    for r in records:
        command = f"python evaluation/run.py --replay {shlex.quote(str(folder))} --episode {r.episode_id} --viz viser"
        words = " ".join(
            f"<span>{e(word)}</span>" for word in command.split(" ")
        )  # lines break between words
        replay = f"<code>{words}</code>" if r.episode_id in replayable else "not recorded"
        rows.append([e(r.episode_id), e(r.target), *([e(r.bin), e(r.visible)] if graded else []), outcome(r),
                     e(r.steps), f"{r.final_distance:.2f}", f"{r.path_length:.2f}", e(r.collisions), replay])  # fmt: skip
    ok = sum(r.success for r in records)
    note = (
        '<p class="note">Run the replay commands in the folder compare.py ran in.</p>' if replayable else ""
    )
    return (f"<details><summary>{len(records)} episodes ({ok} successful)</summary>{note}"
            f"{table(head, rows, text_columns=2)}</details>")  # fmt: skip


def policy_section(index: int, folder: Path, summary: dict, page_dir: Path) -> str:
    name = summary.get("policy", folder.name) + (f" ({summary['variant']})" if summary.get("variant") else "")
    parts = [f'<section class="policy" id="p{index}"><h2>{e(name)}</h2>']
    facts = [f"folder {folder}", f"{summary.get('env')} / {summary.get('layout')} / {summary.get('split')}",
             f"{summary.get('episodes', 0)} episodes"]  # fmt: skip
    if summary.get("wall_seconds") is not None:
        where = (
            f" on {summary.get('workers', 1)} worker(s), {summary['device']}" if summary.get("device") else ""
        )
        facts.append(f"evaluated in {summary['wall_seconds'] / 60:.1f} min{where}")
    parts.append(f'<p class="meta">{e(" · ".join(facts))}</p>')
    if summary.get("interrupted"):
        parts.append('<p class="warn">Interrupted: partial results.</p>')
    csv_path = folder / "episodes.csv"
    records = read_episodes_csv(csv_path) if csv_path.exists() else []
    groups = group_cells([summary])
    if groups:
        parts.append(f"<p>{e(GROUPS_NOTE)}</p>" + table(*escaped(*groups), text_columns=2))
    figures = []
    shown = {folder / "success_by_target.png", folder / "trajectories.png"}
    if plot := success_plot(folder, records):
        figures.append(figure(plot, page_dir, "success by target"))
    if (folder / "trajectories.png").exists():
        figures.append(figure(folder / "trajectories.png", page_dir, "driven paths (green: success)"))
    else:
        figures.append(
            '<p class="note">No trajectory map (no trajectories.png: evaluated with --no-plots?)</p>'
        )
    for path in finished(folder, "*.png"):  # e.g. a replay viewer's screenshot
        if path not in shown:
            figures.append(figure(path, page_dir, path.stem.replace("_", " ")))
    for path in finished(folder, "*.mp4") + finished(folder, "*.gif"):
        found = re.fullmatch(r"replay_episode_(\d+)", path.stem)
        what = f"replay of episode {found.group(1)}" if found else "the first episodes of env 0"
        figures.append(figure(path, page_dir, f"{what} (camera | goal | map)"))
    parts.append(f'<div class="figures">{"".join(figures)}</div>')
    if records:
        parts.append(episode_list(folder, records))
    return "".join(parts) + "</section>"


def stage_times(results: list[tuple[Path, dict]], page_dir: Path) -> str:
    """`make demo` stage wall times (evaluation/bench.py's reader) of folders laid out as <root>/results/<env>/."""
    found = [(s.get("env"), f.resolve().parents) for f, s in results]
    roots = {
        (env, up[2]) for env, up in found if len(up) > 2 and up[1].name == "results" and up[0].name == env
    }
    rows = [row for env, root in sorted(roots) for row in demo_stages(env, root)]
    if not rows:
        return ""
    cells = [
        [e(r["stage"]), f"{r['seconds'] / 60:.1f}", e(os.path.relpath(r["source"], page_dir))] for r in rows
    ]
    cells.append(["total", f"{sum(r['seconds'] for r in rows) / 60:.1f}", ""])
    return ("<h2>Stage wall times</h2><p class=note>As each stage recorded it.</p>"
            + table(["stage", "minutes", "recorded in"], cells))  # fmt: skip


def render(results: list[tuple[Path, dict]], page_dir: Path) -> str:
    """The page for (folder, summary) pairs in table order; links relative to `page_dir`."""
    summaries = [s for _, s in results]
    title, warning, published = comparison_parts(summaries) if summaries else ("no results found", None, [])
    body = [f"<h1>{e(title)}</h1>",
            f'<p class="meta">goalnav results, written {e(time.strftime("%Y-%m-%d %H:%M"))}</p>']  # fmt: skip
    if warning:
        body.append(f'<p class="warn"><strong>Warning:</strong> {e(warning)}</p>')
    if summaries:
        anchors = [f"p{i}" for i in range(len(results))]
        body.append(table(*escaped(*table_cells(summaries)), text_columns=3, first_links=anchors))
        if groups := group_cells(summaries):
            body.append(f"<p>{e(GROUPS_NOTE)}</p>" + table(*escaped(*groups), text_columns=2))
        if published:
            body.append("<p>Published, for reference (not measured here):</p>"
                        + table(*escaped(*table_cells(published)), text_columns=3))  # fmt: skip
    body.append(stage_times(results, page_dir))
    body += [policy_section(i, folder, s, page_dir) for i, (folder, s) in enumerate(results)]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")  # fmt: skip


def default_page(paths: list[Path]) -> Path:
    """report.html in the one folder given, or in the folder above all of them."""
    folder = paths[0] if len(paths) == 1 else Path(os.path.commonpath([p.resolve() for p in paths]))
    return folder / "report.html"


def write_html_report(paths: list[Path], out: Path | None = None) -> Path:
    out = out or default_page(paths)
    return atomic_write_text(out, render(find_results(paths), out.resolve().parent))
