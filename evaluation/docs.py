"""Generate the documentation's results tables from results snapshots committed under docs/results/.

    python evaluation/docs.py                                      # regenerate every table (make docs)
    python evaluation/docs.py --check                              # exit 1, naming the file, if one is stale
    python evaluation/docs.py snapshot results/arena --name arena  # copy results into docs/results/arena/

A generated table is a block in README.md or docs/*.md; everything between its two markers is rewritten:

    <!-- table: arena -->
    <!-- end table -->

`table:` names one or more folders under docs/results/ (a folder holding summary.json, or a folder of such
folders), then options, each KEY=VALUE:

    columns=policy,success_rate,spl   which summary keys to show, in the report's order (default: all)
    groups=no | only                  leave out, or show only, the by-distance-bin table (graded sets)
    published=no                      leave out the published reference rows
    names=folder                      name each row by its results folder (e.g. pignav_zero_shot)
    make=TARGET                       the make target that produces the results (named while none are here)

The block ends with a stamp line: the snapshot's folder, commit, date and machine (from its stamp.json).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from evaluation.comparison import ORDER, comparison_table, episode_sets
from evaluation.report import TABLE_COLUMNS, groups_table
from storage import atomic_write_text, repo_root
from tools.cli import make_parser, parse

RESULTS = Path("docs") / "results"
STAMP = "stamp.json"
POLICY_FILES = ("summary.json", "episodes.csv")  # copied from each policy's results folder
STAGE_FILES = ("stages.json", "bench.json", "scaling.json")  # wall times, copied when the folder has them
BLOCK = re.compile(r"^<!-- table: (?P<spec>.*?) -->\n(?P<body>.*?)^<!-- end table -->$", re.M | re.S)
OPEN = re.compile(r"^<!-- table: .*-->$", re.M)
OPTIONS = {"columns", "groups", "published", "names", "make"}
COMMAND = "python evaluation/docs.py"


class DocsError(ValueError):
    """A malformed marker or snapshot request; the message names the file and what to do."""


# --- snapshot --------------------------------------------------------------------------------------------


def git_state(repo: Path) -> dict:
    """The repository's short commit and whether its tree has uncommitted changes (None where git is absent)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "--short=7", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def machine() -> dict:
    """What the results ran on, without the host's name: CPU model, cores, memory, GPU (if torch sees one)."""
    info = {
        "cpu": platform.processor() or platform.machine(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        info["memory_gib"] = round(kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        info["memory_gib"] = None
    try:
        import torch

        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["gpu"] = None
    return info


def describe(m: dict) -> str:
    """One line for a stamp, e.g. '2-core AMD EPYC 7B13 (x86_64), 7.8 GiB memory, no GPU'."""
    memory = f", {m['memory_gib']} GiB memory" if m.get("memory_gib") else ""
    return f"{m.get('cores')}-core {m.get('cpu')} ({m.get('arch')}){memory}, {m.get('gpu') or 'no GPU'}"


def policy_folders(path: Path) -> list[Path]:
    """The folder itself if it holds summary.json, else its sub-folders that do."""
    if (path / "summary.json").exists():
        return [path]
    return sorted(p.parent for p in path.glob("*/summary.json"))


def check_name(name: str) -> str:
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise DocsError(f"{name!r} must be a relative folder name under {RESULTS}, e.g. arena")
    return Path(name).as_posix()


def snapshot(source: Path, name: str, repo: Path, commit: str | None = None) -> Path:
    """Copy each policy's summary.json and episodes.csv (and stage wall times) from `source` into
    docs/results/<name>/, with stamp.json (the commit: `commit`, else the repository's HEAD and whether its
    tree was dirty); policy folders of an earlier snapshot that `source` lacks go."""
    folders = policy_folders(source)
    if not folders:
        raise DocsError(f"no summary.json in {source} or its sub-folders; evaluate first (evaluation/run.py)")
    dest = repo / RESULTS / check_name(name)
    single = folders == [source]
    for folder in folders:
        target = dest if single else dest / folder.name
        for file in POLICY_FILES:
            if (folder / file).exists():
                atomic_write_text(target / file, (folder / file).read_text())
    if not single:
        kept = {f.name for f in folders}
        for stale in policy_folders(dest):
            if stale != dest and stale.name not in kept:
                shutil.rmtree(stale)
    stages = [f for f in STAGE_FILES if (source / f).exists()]
    for file in stages:
        atomic_write_text(dest / file, (source / file).read_text())
    now = datetime.now(UTC)
    stamp = {
        **(git_state(repo) if commit is None else {"commit": commit, "dirty": False}),
        "date": now.strftime("%Y-%m-%d"),
        "time_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "source": source.as_posix(),
        "policies": ["."] if single else [f.name for f in folders],
        "stage_files": stages,
    }
    stamp["machine_description"] = describe(stamp["machine"])
    atomic_write_text(dest / STAMP, json.dumps(stamp, indent=2) + "\n")
    return dest


# --- generated blocks ------------------------------------------------------------------------------------


def parse_spec(spec: str, where: str) -> tuple[list[str], dict[str, str]]:
    """'arena/expert arena/pignav columns=policy,spl' -> (folders, options)."""
    folders, options = [], {}
    for word in spec.split():
        if "=" in word:
            key, value = word.split("=", 1)
            if key not in OPTIONS:
                raise DocsError(
                    f"{where}: unknown table option {key!r} (options: {', '.join(sorted(OPTIONS))})"
                )
            options[key] = value
        else:
            try:
                folders.append(check_name(word))
            except DocsError as error:
                raise DocsError(f"{where}: {error}") from None
    if not folders:
        raise DocsError(f"{where}: the marker names no folder under {RESULTS}, e.g. <!-- table: arena -->")
    keys = {key for key, _, _ in TABLE_COLUMNS}
    unknown = [c for c in options.get("columns", "").split(",") if c and c not in keys]
    if unknown:
        raise DocsError(f"{where}: unknown column {unknown[0]!r} (columns: {', '.join(sorted(keys))})")
    if options.get("groups", "yes") not in ("yes", "no", "only"):
        raise DocsError(f"{where}: groups= takes yes, no or only, not {options['groups']!r}")
    if options.get("published", "yes") not in ("yes", "no") or options.get("names", "policy") not in (
        "policy",
        "folder",
    ):
        raise DocsError(f"{where}: published= takes yes or no, names= policy or folder")
    return folders, options


def find_stamp(folder: Path, results: Path) -> Path | None:
    """The nearest stamp.json at or above `folder`, up to docs/results/."""
    for parent in [folder, *folder.parents]:
        if (parent / STAMP).exists():
            return parent / STAMP
        if parent == results:
            return None
    return None


def stamp_line(folders: list[str], results: Path, summaries: list[dict]) -> str:
    by_stamp: dict[Path | None, list[str]] = {}
    for name in folders:
        by_stamp.setdefault(find_stamp(results / name, results), []).append(f"{RESULTS.as_posix()}/{name}")
    parts = []
    for stamp_path, names in by_stamp.items():
        where = ", ".join(names)
        if stamp_path is None:
            parts.append(f"{where} (no {STAMP}: commit and machine unknown)")
            continue
        stamp = json.loads(stamp_path.read_text())
        commit = (stamp.get("commit") or "unknown") + (
            " with uncommitted changes" if stamp.get("dirty") else ""
        )
        machine_text = stamp.get("machine_description") or describe(stamp.get("machine", {}))
        parts.append(f"{where}, commit {commit}, {stamp.get('date')}, {machine_text}")
    return f"Generated by `{COMMAND}` from {'; '.join(parts)} ({episode_sets(summaries)} episodes)."


def load(folders: list[str], results: Path, names: str) -> list[dict]:
    """Each folder's summaries in marker order; within a folder, in the report's policy order."""
    rank = {name: i for i, name in enumerate(ORDER)}
    out = []
    for name in folders:
        rows = []
        for folder in policy_folders(results / name):
            summary = json.loads((folder / "summary.json").read_text())
            if names == "folder":
                summary = {**summary, "policy": folder.name}
            rows.append(summary)
        out += sorted(rows, key=lambda s: (rank.get(s.get("policy"), len(ORDER)), s.get("policy", "")))
    return out


def render(spec: str, repo: Path, where: str) -> str:
    """The body of one block (ends with a newline)."""
    folders, options = parse_spec(spec, where)
    results = repo / RESULTS
    missing = [name for name in folders if not policy_folders(results / name)]
    if missing:
        make = (
            f"run `make {options['make']}`, then " if "make" in options else "produce the results, then run "
        )
        first = missing[0]
        return (f"No results snapshot yet: {make}`{COMMAND} snapshot results/{first} --name {first}`"
                f" ({RESULTS.as_posix()}/{first} is missing).\n")  # fmt: skip
    summaries = load(folders, results, options.get("names", "policy"))
    columns = options["columns"].split(",") if "columns" in options else None
    if options.get("groups") == "only":
        table = groups_table(summaries) or "No results by distance bin in these folders.\n"
    else:
        table = comparison_table(summaries, with_published=options.get("published", "yes") == "yes",
                                 heading=False, columns=columns, groups=options.get("groups", "yes") == "yes")  # fmt: skip
    return table.rstrip("\n") + "\n\n" + stamp_line(folders, results, summaries) + "\n"


def regenerate(text: str, repo: Path, name: str) -> tuple[str, list[str]]:
    """The text with every block rewritten, and the blocks that changed ('table SPEC, line N')."""
    blocks = list(BLOCK.finditer(text))
    if len(OPEN.findall(text)) != len(blocks):
        raise DocsError(f"{name}: a `<!-- table: ... -->` marker has no `<!-- end table -->` after it")
    out, changed, last = [], [], 0
    for block in blocks:
        line = text.count("\n", 0, block.start()) + 1
        body = render(block["spec"], repo, f"{name} line {line}")
        out += [text[last : block.start("body")], body]
        last = block.end("body")
        if body != block["body"]:
            changed.append(f"table {block['spec'].strip()}, line {line}")
    return "".join(out) + text[last:], changed


def documents(repo: Path) -> list[Path]:
    return [p for p in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))] if p.exists()]


def update(repo: Path, check: bool) -> int:
    stale = []
    for path in documents(repo):
        name = path.relative_to(repo).as_posix()
        text = path.read_text()
        new, changed = regenerate(text, repo, name)
        if changed:
            stale.append(f"{name} ({'; '.join(changed)})")
            if not check:
                atomic_write_text(path, new)
                print(f"regenerated {name}: {'; '.join(changed)}")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; regenerate with `{COMMAND}` (make docs)", file=sys.stderr)
        return 1
    if not stale:
        print(f"every generated table is up to date ({len(documents(repo))} files)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--repo", type=Path, default=None,
                        help="the repository whose README.md, docs/*.md and docs/results/ are used (default: this one)")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 naming the file if a generated table is out of date")  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="snapshot")
    snap = commands.add_parser(
        "snapshot", help="copy a results folder into docs/results/NAME/ with stamp.json"
    )
    snap.add_argument("source", type=Path, help="a results folder, e.g. results/arena")
    snap.add_argument("--name", required=True, help="the folder under docs/results/, e.g. arena")
    snap.add_argument("--commit", default=None,
                      help="the commit whose code produced the results, when it is not this checkout's HEAD")  # fmt: skip
    args = parse(parser, argv)
    repo = (args.repo or repo_root()).resolve()
    if not repo.is_dir():
        parser.error(f"--repo {repo} is not a folder")
    try:
        if args.command == "snapshot":
            if not args.source.is_dir():
                parser.error(f"no such results folder: {args.source}")
            dest = snapshot(args.source, args.name, repo, args.commit)
            print(
                f"wrote {dest} ({len(policy_folders(dest))} policies); now run `{COMMAND}` to regenerate the tables"
            )
            return 0
        return update(repo, args.check)
    except DocsError as error:
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
