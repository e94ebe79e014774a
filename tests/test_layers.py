"""The layers point one way (flows → tasks → warehouse → models → config) and no modules import in a circle.

Read from the source with :mod:`ast`, so an import made inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A layer may import itself and the layers after it in this list, never those before it.
LAYERS = ["flows", "tasks", "warehouse", "models", "config"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["broadsheet", *parts])


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for layer in LAYERS for path in sorted((REPO / layer).rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for every broadsheet module ``path`` imports; ``from package import module`` names it."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names if alias.name.startswith("broadsheet."))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).rstrip(".")
            if not base.startswith("broadsheet."):
                continue
            for alias in node.names:
                yield node.lineno, (f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)


def _layer(module: str) -> str:
    return module.split(".")[1]


def test_every_layer_imports_only_itself_and_the_layers_below() -> None:
    modules = _modules()
    wrong = [f"{path.relative_to(REPO)}:{line} imports {target}"
             for name, path in modules.items() for line, target in _imports(path, modules)
             if LAYERS.index(_layer(target)) < LAYERS.index(_layer(name))]
    assert wrong == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    modules = _modules()
    graph = {name: {target for _, target in _imports(path, modules) if target in modules and target != name}
             for name, path in modules.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 while on the current path, 2 when done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target):], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def _defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _exported(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return [element.value for element in ast.walk(node.value) if isinstance(element, ast.Constant)]
    return []


def test_only_a_package_init_re_exports() -> None:
    passed_on = {}
    for name, path in _modules().items():
        if path.name != "__init__.py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if foreign := sorted(set(_exported(tree)) - _defined(tree)):
                passed_on[name] = foreign
    assert passed_on == {}


def test_code_reaches_another_stage_only_through_its_package() -> None:
    """``broadsheet.tasks.fetch`` is the fetch stage's surface: other code never imports its leaf modules' names."""
    modules = _modules()
    stages = {name for name, path in modules.items() if path.name == "__init__.py" and name.count(".") == 2
              and name.startswith("broadsheet.tasks.")}
    reached_in = []
    for name, path in modules.items():
        for line, target in _imports(path, modules):
            stage = ".".join(target.split(".")[:3])
            if stage in stages and target != stage and not name.startswith(stage + ".") and name != stage:
                reached_in.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert reached_in == []
