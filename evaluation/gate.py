"""Check a results folder's headline figures against a committed reference: the regression gate of the
main job (`make demo` ends with it, CI runs it).

    python evaluation/gate.py results/arena                      # against evaluation/references/arena.json
    python evaluation/gate.py results/arena --reference my.json

A reference lists checks, each a policy, a summary.json metric and the band it must stay in, with the
reason for the band (what was measured, on which commit). One line per check; a figure outside its band,
or a policy with no results, fails the command (exit 1) with a line naming the figure, its band and its
value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from storage import DamagedFile, read_json, repo_root
from tools.cli import make_parser, parse

REFERENCES = Path("evaluation/references")


class ReferenceError(ValueError):
    """A reference file that cannot be read or has a malformed check."""


def load_reference(path: Path) -> dict:
    try:
        reference = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ReferenceError(f"no reference file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReferenceError(f"{path} is not valid JSON ({err})") from None
    for i, check in enumerate(reference.get("checks", [])):
        missing = {"policy", "metric", "min", "max", "why"} - set(check)
        if missing:
            raise ReferenceError(f"{path}: check {i} lacks {', '.join(sorted(missing))}")
        if not check["min"] <= check["max"]:
            raise ReferenceError(f"{path}: check {i} has min {check['min']} > max {check['max']}")
    if not reference.get("checks"):
        raise ReferenceError(f"{path} lists no checks")
    return reference


def _show(metric: str, value: float) -> str:
    return f"{value:.1%}" if metric.endswith("_rate") else f"{value:.3g}"


def run_checks(results: Path, reference: dict, source: str = "the reference") -> list[tuple[bool, str]]:
    """(passed, line) of each check of `reference` on the summaries under `results`."""
    lines = []
    for check in reference["checks"]:
        policy, metric = check["policy"], check["metric"]
        band = f"[{_show(metric, check['min'])}, {_show(metric, check['max'])}]"
        path = results / policy / "summary.json"
        if not path.exists():
            lines.append((False, f"FAIL {policy} {metric}: no results at {path} (band {band}, {source})"))
            continue
        try:
            summary = read_json(path)
        except DamagedFile as err:
            lines.append((False, f"FAIL {policy} {metric}: {err} (band {band}, {source})"))
            continue
        scope = {k: reference[k] for k in ("env", "layout", "split") if k in reference}
        other = {k: summary.get(k) for k in scope if summary.get(k) != scope[k]}
        if other:
            lines.append((False, f"FAIL {policy}: results are for {other}, the reference for {scope}"))
            continue
        value = summary.get(metric)
        if value is None:
            lines.append((False, f"FAIL {policy} {metric}: not in {path} (band {band}, {source})"))
        elif check["min"] <= value <= check["max"]:
            lines.append((True, f"ok   {policy} {metric} {_show(metric, value)} in {band}"))
        else:
            lines.append((False, f"FAIL {policy} {metric} {_show(metric, value)} outside its band {band} "
                                 f"(reference {_show(metric, check.get('reference', value))}, {source})"))  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("results", type=Path, help="results folder of one env (a folder per policy)")
    parser.add_argument("--reference", type=Path, default=None,
                        help="reference file (default: evaluation/references/<folder name>.json)")  # fmt: skip
    args = parse(parser, argv)
    if not args.results.is_dir():
        parser.error(f"no such results folder: {args.results}")
    path = args.reference or repo_root() / REFERENCES / f"{args.results.resolve().name}.json"
    try:
        reference = load_reference(path)
    except ReferenceError as err:
        parser.error(str(err))
    shown = path.resolve().relative_to(repo_root()) if path.resolve().is_relative_to(repo_root()) else path
    lines = run_checks(args.results, reference, str(shown))
    for passed, line in lines:
        print(line, file=sys.stdout if passed else sys.stderr)
    failed = sum(not passed for passed, _ in lines)
    print(f"gate: {len(lines) - failed} of {len(lines)} figures within their bands")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
