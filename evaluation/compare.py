"""Build the study-style comparison table from results directories.

    python evaluation/compare.py results/arena            # every policy under it
    python evaluation/compare.py results/arena/expert results/arena/random --out table.md

Rows come from each directory's summary.json; the published numbers are listed for reference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from evaluation.report import groups_table, markdown_table
from storage import atomic_write_text
from tools.cli import make_parser, parse

# Reported by the frozen-embedding study (arXiv 2506.14507) and its public code, for reference only.
PUBLISHED = {
    "arena": [
        {"policy": "expert (published)", "success_rate": 1.0, "mean_steps_successful": 114},
        {"policy": "SigLIP-BC (published)", "encoder": "SigLIP So400M", "variant": "study recipe", "success_rate": 0.74, "mean_steps_successful": 369, "steps_ratio_vs_expert": 3.2},
    ]
}  # fmt: skip
ORDER = ["expert", "planner", "siglip_bc", "pignav", "late_fusion", "random"]


def collect_summaries(paths: list[Path]) -> list[dict]:
    """summary.json of each results directory (or of each policy directory under an env directory)."""
    found = []
    for path in paths:
        if (path / "summary.json").exists():
            found.append(path / "summary.json")
        else:
            found.extend(sorted(path.glob("*/summary.json")))
    summaries = [json.loads(p.read_text()) for p in found]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(summaries, key=lambda s: (rank.get(s.get("policy"), len(ORDER)), s.get("policy", "")))


def episode_sets(summaries: list[dict]) -> str:
    """Which env(s) and episode set(s) the rows come from, e.g. 'arena: paper test'."""
    envs = {s["env"] for s in summaries}
    sets = {(s["layout"], s["split"]) for s in summaries}
    return f"{', '.join(sorted(envs))}: {'; '.join(f'{lay} {split}' for lay, split in sorted(sets))}"


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
    envs = {s["env"] for s in summaries}
    lines = [f"# {episode_sets(summaries)}\n"] if heading else []
    if len({(s["layout"], s["split"]) for s in summaries}) > 1:
        lines.append("**Warning: these rows come from different episode sets and are not comparable.**\n")
    lines.append(markdown_table(summaries, columns))
    by_bin = groups_table(summaries) if groups else ""
    if by_bin:
        lines.append("\n" + by_bin)
    published = [row for env in sorted(envs) for row in PUBLISHED.get(env, [])]
    if with_published and published:
        lines.append(
            "\nPublished, for reference (not measured here):\n\n" + markdown_table(published, columns)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="results directories")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    args = parse(parser, argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such results directory: {', '.join(missing)}")
    table = comparison_table(collect_summaries(args.paths))
    print(table)
    if args.out is not None:
        atomic_write_text(args.out, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
