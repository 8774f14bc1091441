"""Build the study-style comparison table from results directories.

    python evaluation/compare.py results/arena            # every policy under it
    python evaluation/compare.py results/arena/expert results/arena/random --out table.md
    python evaluation/compare.py results/arena --html   # also results/arena/report.html (evaluation/html_report.py)

Rows come from each directory's summary.json; the published numbers are listed for reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

from evaluation.comparison import collect_summaries, comparison_table
from storage import DamagedFile, atomic_write_text
from tools.cli import make_parser, parse


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="results directories")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    parser.add_argument("--html", nargs="?", type=Path, const=True, default=None, metavar="PAGE",
                        help="also write a static HTML report (default: report.html in the results folder)")  # fmt: skip
    args = parse(parser, argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such results directory: {', '.join(missing)}")
    try:
        table = comparison_table(collect_summaries(args.paths))
    except DamagedFile as err:
        parser.error(str(err))
    print(table)
    if args.out is not None:
        atomic_write_text(args.out, table)
    if args.html is not None:
        from evaluation.html_report import write_html_report

        page = write_html_report(args.paths, None if args.html is True else args.html)
        print(f"wrote {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
