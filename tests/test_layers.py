"""The import rules of DESIGN.md, read from the source with ast (imports inside functions count):
which layer may import which, no import cycles in the runtime, nothing outside tests/ imports
tests/, and the runtime's third-party imports are exactly those scripts/runtime_imports.toml
lists (the list scripts/build_extension.py bundles into the Blender extension)."""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("rigs", "inference", "exporters", "render", "cli")
BASE = {
    "emosync",
    "emosync.errors",
    "emosync.atomic",
    "emosync.checksum",
}  # the package root: every layer's
# DESIGN.md's layer table and "where the next parts go": the emosync layers each may import.
MAY_IMPORT = {
    "rigs": {"rigs"},
    "inference": {"rigs", "inference"},
    "exporters": {"rigs", "inference", "exporters"},
    # evaluation measures what the runtime makes: the portrait videos (render) and pictures
    "evaluation": {"rigs", "inference", "exporters", "render", "evaluation"},
    "studio": {"rigs", "inference", "exporters", "studio"},
    "render": {"rigs", "inference", "exporters", "render"},
    "cli": {"rigs", "inference", "exporters", "cli", "evaluation", "studio", "render"},
    "blender_addon": {"rigs", "inference", "exporters", "studio", "blender_addon"},
    "training": {"rigs", "inference", "exporters", "evaluation", "training"},
}
# exporters see inference only through the FaceCurves type (DESIGN.md).
EXPORTERS_FROM_INFERENCE = {"emosync.inference", "emosync.inference.facecurves"}
NEVER_IN_RUNTIME = {"torch", "bpy", "aud", "open_clip"}
SKIP_DIRS = {"node_modules", "build", "__pycache__"}


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name (relative imports resolved)
    line: int
    names: tuple[str, ...] = ()  # what a `from X import a, b` takes


@cache
def source_files() -> tuple[Path, ...]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return tuple(sorted(found))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("emosync", *parts))


@cache
def imports_of(path: Path) -> tuple[Import, ...]:
    """Every import statement in the file, at any depth."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append(Import(module, node.lineno, tuple(a.name for a in node.names)))
    return tuple(found)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "emosync" and len(parts) > 1 else None


def third_party(module: str) -> str | None:
    top = module.split(".", maxsplit=1)[0]
    if not top or top == "emosync" or top in sys.stdlib_module_names or top == "__future__":
        return None
    return top


def files_in(*layers: str) -> list[Path]:
    return [p for p in source_files() if p.relative_to(ROOT).parts[0] in layers]


def internal_targets(imp: Import) -> list[str]:
    """The emosync modules an import loads: `from emosync.inference import convertor` loads
    emosync.inference.convertor where that is a module."""
    targets = [imp.module]
    for name in imp.names:
        candidate = f"{imp.module}.{name}"
        rel = Path(*candidate.split(".")[1:])
        if (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file():
            targets.append(candidate)
    return targets


@cache
def runtime_imports() -> dict[str, dict]:
    return tomllib.loads((ROOT / "scripts" / "runtime_imports.toml").read_text(encoding="utf-8"))


def test_layers_import_only_what_design_allows():
    bad = []
    for path in files_in(*MAY_IMPORT):
        layer = path.relative_to(ROOT).parts[0]
        for imp in imports_of(path):
            for target in internal_targets(imp):
                if not target.startswith("emosync") or target in BASE:
                    continue
                to = layer_of(target)
                ok = to in MAY_IMPORT[layer]
                if layer == "exporters" and to == "inference":
                    ok = target in EXPORTERS_FROM_INFERENCE
                if not ok:
                    bad.append(f"{path.relative_to(ROOT)}:{imp.line} imports {target}")
    assert not bad, "\n".join(bad)


def test_rigs_need_numpy_alone_and_runtime_never_loads_torch_or_bpy():
    bad = []
    for path in files_in(*RUNTIME):
        layer = path.relative_to(ROOT).parts[0]
        for imp in imports_of(path):
            top = third_party(imp.module)
            if top in NEVER_IN_RUNTIME or (layer == "rigs" and top not in (None, "numpy")):
                bad.append(f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}")
    assert not bad, "\n".join(bad)


def test_runtime_third_party_imports_are_the_listed_ones():
    """A new third-party import in the runtime must be listed: bundled in the extension,
    Blender's own, or optional (then it is imported inside a function, never at module level)."""
    table = runtime_imports()
    listed = {name for section in ("blender", "bundled", "optional") for name in table[section]}
    unlisted, eager_optional = [], []
    for path in files_in(*RUNTIME):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or getattr(node, "level", 0):
                continue
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""]  # fmt: skip
            for top in filter(None, map(third_party, modules)):
                where = f"{path.relative_to(ROOT)}:{node.lineno} imports {top}"
                if top not in listed:
                    unlisted.append(where)
                elif top in table["optional"] and id(node) in top_level:
                    eager_optional.append(where)
    assert not unlisted, "add to scripts/runtime_imports.toml:\n" + "\n".join(unlisted)
    assert not eager_optional, "optional modules load lazily:\n" + "\n".join(eager_optional)


def test_every_listed_runtime_import_is_used():
    used = {third_party(imp.module) for path in files_in(*RUNTIME) for imp in imports_of(path)} - {
        None
    }
    table = runtime_imports()
    listed = {name for section in ("blender", "bundled", "optional") for name in table[section]}
    assert listed <= used, f"listed but not imported by the runtime: {sorted(listed - used)}"


def test_bundled_wheels_are_pinned():
    for name, wheels in runtime_imports()["bundled"].items():
        assert wheels and all("==" in w for w in wheels), name


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                members.append(top)
                if top == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def runtime_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in files_in(*RUNTIME)}
    modules.update({module_name(ROOT / f): ROOT / f for f in ("errors.py", "atomic.py")})
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for imp in imports_of(path) for t in internal_targets(imp)}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycles_in_the_runtime():
    cycles = strongly_connected(runtime_graph())
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_relative_and_function_level_imports_are_read():
    found = imports_of(ROOT / "blender_addon" / "ops.py")
    assert any(i.module.startswith("emosync.blender_addon") for i in found)
    neural = {i.module for i in imports_of(ROOT / "inference" / "pipeline.py")}
    assert "emosync.inference.convertor" in neural


@cache
def modules_in_tests() -> set[str]:
    return {p.stem for p in (ROOT / "tests").rglob("*.py")} | {"tests"}


@pytest.mark.parametrize("folder", ["rigs", "inference", "exporters", "cli", "evaluation",
                                    "blender_addon", "training", "bench", "scripts", "studio",
                                    "render"])  # fmt: skip
def test_nothing_outside_tests_imports_tests(folder):
    bad = []
    for path in files_in(folder):
        text = path.read_text(encoding="utf-8")
        if "sys.path" in text and '"tests"' in text:
            bad.append(f"{path.relative_to(ROOT)} puts tests/ on sys.path")
        for imp in imports_of(path):
            top = imp.module.split(".")[0]
            if top in modules_in_tests() or imp.module.startswith("emosync.tests"):
                bad.append(f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}")
    assert not bad, "\n".join(bad)
