"""The layers of the house: every import points down (or across within a layer without cycles), experts
and policies never import each other, and envs imports none of the others. Lazy imports inside
functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    "envs": 0,  # Isaac Lab tasks
    "compute": 1,  # shared parts: threads and processes, files, datasets, control, rollouts, the trainer
    "storage": 1,
    "episodes": 1,
    "control": 1,
    "rollouts": 1,
    "training": 1,
    "experts": 2,  # teachers and students
    "policies": 2,
    "tools": 3,  # commands
    "evaluation": 3,
}
NEVER = {("experts", "policies"), ("policies", "experts")}


def imports_of(path: Path) -> set[str]:
    """The goalnav packages a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & LAYERS.keys()
    return found


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the files that import it."""
    graph: dict[str, dict[str, list[str]]] = {p: {} for p in LAYERS}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            for target in imports_of(path) - {package}:
                graph[package].setdefault(target, []).append(str(path.relative_to(ROOT)))
    return graph


def violations(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    problems = []
    for source, targets in graph.items():
        for target, files in targets.items():
            if LAYERS[target] > LAYERS[source]:
                problems.append(
                    f"{source} (layer {LAYERS[source]}) imports {target} (layer {LAYERS[target]}): {files}"
                )
            if (source, target) in NEVER:
                problems.append(f"{source} imports {target}, its neighbour's internals: {files}")

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            t == goal or (t not in seen and reaches(t, goal, seen | {t})) for t in graph.get(start, {})
        )

    cycles = sorted({tuple(sorted((s, t))) for s in graph for t in graph[s] if reaches(t, s, {t})})
    problems += [f"{a} and {b} import each other (directly or through others)" for a, b in cycles]
    return problems


def test_every_package_is_in_a_layer():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYERS), "give the new package a layer in tests/test_layers.py and the README"


def test_imports_point_down_the_layers():
    assert violations(package_graph()) == []


def test_the_check_catches_upward_imports_and_cycles():
    graph = {p: {} for p in LAYERS}
    graph["envs"]["training"] = ["envs/x.py"]
    graph["rollouts"]["episodes"] = ["rollouts/a.py"]
    graph["episodes"]["rollouts"] = ["episodes/b.py"]
    graph["policies"]["experts"] = ["policies/c.py"]
    found = violations(graph)
    assert any(v.startswith("envs (layer 0) imports training") for v in found)
    assert any("episodes and rollouts import each other" in v for v in found)
    assert any("policies imports experts" in v for v in found)
