"""The package's import graph flows one way: the layers of the package map (the development
page of the docs), no cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "stepdistill"


def readme_rows(marker: str) -> list[list[str]]:
    """The cells of each row of the docs' table between ``<!-- MARKER:`` and its end."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    table = text.split(f"<!-- {marker}:", 1)[1].split(f"<!-- end {marker} -->", 1)[0]
    return [
        [cell.strip() for cell in row.strip().strip("|").split("|")] for row in table.splitlines()
    ]


def readme_layers() -> dict[str, int]:
    """Top-level module or folder name -> layer number, from the package map."""
    layers: dict[str, int] = {}
    for cells in readme_rows("layers"):
        if len(cells) >= 2 and cells[0].isdigit():
            for name in re.findall(r"`([\w.]+)`", cells[1]):
                layers[name] = int(cells[0])
    return layers


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def names_bound_in(package: str) -> set[str]:
    """Names a package's ``__init__`` imports or defines itself (none for a plain module)."""
    init = PACKAGE.parent.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return set()
    bound: set[str] = set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound


def imports(path: Path, known: set[str]) -> set[str]:
    """Every stepdistill module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = (package or module_name(path)).split(".")
                base = ".".join([*anchor[: len(anchor) - node.level + 1], base]).strip(".")
            bound = names_bound_in(base)
            names = [f"{base}.{alias.name}" for alias in node.names if alias.name not in bound]
            # "from pkg import submodule" imports the submodule; "from mod import name" the
            # module (also when the name is a function that pkg's __init__ binds over a
            # submodule of that name: stepdistill.extraction's extract)
            names = [base] + [n for n in names if n in known]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def layer_of(module: str, layers: dict[str, int]) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "errors"  # the package's own __init__: layer 0
    assert top in layers, f"{module}: top-level name {top!r} is not in the package map"
    return layers[top]


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) - {name} for name, path in found.items()}


def test_readme_map_names_every_top_level_module():
    layers = readme_layers()
    tops = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()}
    tops = {name for name in tops if not name.startswith(("_", ".")) or name == "__main__"}
    tops -= {"__pycache__"}
    assert tops <= set(layers), f"not in the package map: {sorted(tops - set(layers))}"


def test_no_module_imports_from_a_later_layer():
    layers = readme_layers()
    violations = [
        f"{module} (layer {layer_of(module, layers)}) imports {target} "
        f"(layer {layer_of(target, layers)})"
        for module, targets in graph().items()
        for target in sorted(targets)
        if layer_of(target, layers) > layer_of(module, layers)
    ]
    assert violations == []


def test_import_graph_has_no_cycle():
    edges = graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_walker_finds_imports_and_orders_stages():
    """Not vacuous: function-level imports are found, and the stages are ordered as the data
    flows (the teacher importing training code would be a violation)."""
    found, layers = graph(), readme_layers()
    assert "stepdistill.models.loading" in found["stepdistill.teacher.local_backend"]
    assert "stepdistill.training" in found["stepdistill.serving.engines"]
    order = ["tasks", "data", "models", "teacher", "extraction", "training", "serving", "cli"]
    assert [layers[name] for name in order] == sorted(layers[name] for name in order)
    assert layer_of("stepdistill.training.run", layers) > layer_of("stepdistill.teacher", layers)


def readme_stages() -> dict[str, str]:
    """Stage package -> its entry, from the docs' table of stage entries."""
    stages: dict[str, str] = {}
    for cells in readme_rows("stages"):
        names = re.findall(r"`([\w.]+)`", cells[0]) if len(cells) >= 3 else []
        if names:
            stages[names[0]] = cells[2]
    return stages


def internal_imports(edges: dict[str, set[str]], stages: set[str]) -> list[str]:
    """Imports of a stage's modules (``stepdistill.<stage>.<module>``) from outside it."""
    found = []
    for module, targets in edges.items():
        for target in sorted(targets):
            parts = target.split(".")
            if len(parts) > 2 and parts[1] in stages and module.split(".")[1:2] != parts[1:2]:
                found.append(f"{module} imports {target}: import from stepdistill.{parts[1]}")
    return found


def test_stages_are_reached_only_through_their_package():
    stages = readme_stages()
    assert {"extraction", "training", "serving", "experiments", "pipeline"} <= set(stages)
    assert internal_imports(graph(), set(stages)) == []
    # each entry the docs name is what the stage's package offers
    import importlib

    for stage, entry in stages.items():
        offered = set(importlib.import_module(f"stepdistill.{stage}").__all__)
        named = set(re.findall(r"`(\w+)`", entry))
        assert named and named <= offered, (stage, named - offered)


def test_the_stage_check_catches_an_internal_import():
    edges = {"stepdistill.demo": {"stepdistill.training.run", "stepdistill.training"}}
    assert internal_imports(edges, {"training"}) == [
        "stepdistill.demo imports stepdistill.training.run: import from stepdistill.training"
    ]
    own = {"stepdistill.training.run": {"stepdistill.training.methods"}}
    assert internal_imports(own, {"training"}) == []
