"""The layers of the house: every import points down (or across within a layer without cycles), experts
and policies never import each other, and envs imports none of the others; and no module imports itself
through others, at any depth. Lazy imports inside functions count too."""

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


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph() -> dict[str, set[str]]:
    """goalnav module -> the goalnav modules it imports, anywhere in it (functions included). An import
    counts towards the module it names (``from a.b import c``: a.b.c when that is a module, else a.b);
    relative imports are resolved."""
    files = {module_name(p): p for package in LAYERS for p in sorted((ROOT / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets |= {
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                }
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_no_module_imports_itself_through_others():
    assert import_cycles(module_graph()) == []


def test_the_cycle_check_finds_cycles_at_any_depth():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"a"}, "e": {"a"}, "f": {"g"}, "g": {"f"}, "h": set()}
    assert import_cycles(graph) == [["a", "b", "c", "d"], ["f", "g"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_module_graph_sees_function_level_and_relative_imports():
    graph = module_graph()
    assert "policies.encoders.pixels" in graph["policies.encoders.base"]  # imported inside make_encoder
    assert "policies.encoders.base" in graph["policies.encoders"]  # the package's __init__


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
