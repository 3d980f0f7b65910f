"""The package's import graph: no module imports (through others) a module that imports it back, and the
settings never import the commands (they parse; the commands run); the CDK app imports only the contract."""

from __future__ import annotations

import ast
from pathlib import Path

import collector_runtime

PACKAGE = Path(collector_runtime.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """The collector_runtime modules `path` imports, at any depth of its code (also inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {each for each in found if each.startswith("collector_runtime")}


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path, name) & modules.keys() for name, path in modules.items()}


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_the_settings_import_no_command() -> None:
    graph = import_graph()
    settings = [name for name in graph if _package_of(name) == "collector_runtime.settings"]
    assert settings
    for name in settings:
        reached = {module for module in _reaches(graph, name) if _package_of(module) == "collector_runtime.commands"}
        assert not reached, f"{name} imports {sorted(reached)}"


def test_no_package_imports_one_that_imports_it_back() -> None:
    """Between collector_runtime's packages (settings, commands, sources, outputs, core...) imports go one way."""
    graph = import_graph()
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        own = _package_of(module)
        packages.setdefault(own, set()).update(_package_of(each) for each in imported if _package_of(each) != own)
    cycles = sorted(
        (first, second) for first in packages for second in packages[first] if first in _reaches(packages, second)
    )
    assert not cycles, f"packages that import each other: {cycles}"


def test_every_command_in_the_table_has_a_runner() -> None:
    """The one table of commands (settings.COMMANDS) names each command's runner; each one exists."""
    import importlib

    from collector_runtime.settings import COMMANDS

    names = [spec.name for spec in COMMANDS]
    assert len(names) == len(set(names)) and "listen" in names and "unset-ini" in names
    for spec in COMMANDS:
        module, function = spec.runner.split(".")
        assert callable(getattr(importlib.import_module(f"collector_runtime.commands.{module}"), function)), spec.name


def test_the_cdk_app_imports_only_the_contract_from_the_runtime() -> None:
    """`stacks/` and `app.py` share names with the runtime through `collector_runtime.contract` alone (its
    docstring says so): anything else would pull the runtime's dependencies into `cdk synth`."""
    root = PACKAGE.parent
    found = {}
    for path in [root / "app.py", *sorted((root / "stacks").rglob("*.py"))]:
        imported = _imports(path, "stacks.module") - {"collector_runtime", "collector_runtime.contract"}
        imported = {name for name in imported if not name.startswith("collector_runtime.contract.")}
        if imported:
            found[path.relative_to(root).as_posix()] = sorted(imported)
    assert not found, found
