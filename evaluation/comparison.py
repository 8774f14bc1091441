"""The comparison of results folders: their summaries in table order, the title of the episode sets they
come from, the published figures for reference, and the markdown table (compare.py prints it, docs.py
puts it in the docs, html_report.py draws it)."""

from __future__ import annotations

from pathlib import Path

from evaluation.report import groups_table, markdown_table
from storage import read_json
from tools.registry import POLICY_KINDS

# Reported by the frozen-embedding study (arXiv 2506.14507) and its public code, for reference only.
PUBLISHED = {
    "arena": [
        {"policy": "expert (published)", "success_rate": 1.0, "mean_steps_successful": 114},
        {"policy": "SigLIP-BC (published)", "encoder": "SigLIP So400M", "variant": "study recipe", "success_rate": 0.74, "mean_steps_successful": 369, "steps_ratio_vs_expert": 3.2},
    ]
}  # fmt: skip
ORDER = POLICY_KINDS  # table rows in the registry's order


def find_results(paths: list[Path]) -> list[tuple[Path, dict]]:
    """(folder, summary.json) of each results directory (or of each policy directory under an env
    directory), in table order."""
    found = []
    for path in paths:
        if (path / "summary.json").exists():
            found.append(path / "summary.json")
        else:
            found.extend(sorted(path.glob("*/summary.json")))
    results = [(p.parent, read_json(p)) for p in found]
    rank = {name: i for i, name in enumerate(ORDER)}
    policy = lambda s: s.get("policy", "")  # noqa: E731
    return sorted(results, key=lambda r: (rank.get(policy(r[1]), len(ORDER)), policy(r[1])))


def collect_summaries(paths: list[Path]) -> list[dict]:
    return [summary for _, summary in find_results(paths)]


def comparison_parts(
    summaries: list[dict], with_published: bool = True
) -> tuple[str, str | None, list[dict]]:
    """(title, warning or None, the published rows for reference) of a comparison of `summaries`."""
    envs = {s["env"] for s in summaries}
    sets = {(s["layout"], s["split"]) for s in summaries}
    title = f"{', '.join(sorted(envs))}: {'; '.join(f'{lay} {split}' for lay, split in sorted(sets))}"
    warning = "these rows come from different episode sets and are not comparable." if len(sets) > 1 else None
    published = [row for env in sorted(envs) for row in PUBLISHED.get(env, [])] if with_published else []
    return title, warning, published


def episode_sets(summaries: list[dict]) -> str:
    """Which env(s) and episode set(s) the rows come from, e.g. 'arena: paper test'."""
    return comparison_parts(summaries, with_published=False)[0]


def comparison_table(
    summaries: list[dict],
    with_published: bool = True,
    heading: bool = True,
    columns: list[str] | None = None,
    groups: bool = True,
) -> str:
    """The rows (`columns`: which summary keys, default all), the by-bin groups where the episode set has
    them, and the published rows; `heading`: a '# env: set' title line first."""
    if not summaries:
        return "no results found\n"
    title, warning, published = comparison_parts(summaries, with_published)
    lines = [f"# {title}\n"] if heading else []
    if warning:
        lines.append(f"**Warning: {warning}**\n")
    lines.append(markdown_table(summaries, columns))
    by_bin = groups_table(summaries) if groups else ""
    if by_bin:
        lines.append("\n" + by_bin)
    if published:
        lines.append(
            "\nPublished, for reference (not measured here):\n\n" + markdown_table(published, columns)
        )
    return "\n".join(lines)
