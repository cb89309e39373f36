"""The layers of the portal, read from the imports of its modules (nothing is imported here):

- services never import task modules (tasks import services; dispatch modules enqueue by
  name), so that no module imports another that imports it back;
- views, forms, the admin and tasks never import the covage package: the services speak to
  Covage and turn its errors into the portal's own (the sandbox, a Django app of its own
  under covage/, is not the API client and may be served);
- no module imports another that imports it back, directly or through others.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

TASK_MODULES = {
    "orders.tasks",
    "exports.tasks",
    "reconciliation.tasks",
    "notifications.tasks",
    "bulk.tasks",
}
PORTAL_APPS = (
    "portal",
    "covage",
    "orders",
    "exports",
    "reconciliation",
    "dashboard",
    "notifications",
    "directory",
    "bulk",
)
# The layers that must not speak to Covage: modules of these names, or inside packages of them.
UPPER_LAYERS = {"views", "forms", "admin", "tasks"}
SANDBOX = "covage.sandbox"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def base_dir() -> Path:
    return Path(settings.BASE_DIR)


def source_files() -> Iterator[Path]:
    """The portal's own modules: no tests, no migrations."""
    base = base_dir()
    for app in PORTAL_APPS:
        for path in sorted((base / app).rglob("*.py")):
            if "migrations" not in path.relative_to(base).parts:
                yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(base_dir()).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_upper_layer(path: Path) -> bool:
    """views.py, forms.py, admin.py, tasks.py, or a module inside views/, forms/... packages."""
    parts = path.relative_to(base_dir()).with_suffix("").parts
    return any(part in UPPER_LAYERS for part in parts)


def speaks_to_covage(module: str) -> bool:
    is_covage = module == "covage" or module.startswith("covage.")
    is_sandbox = module == SANDBOX or module.startswith(f"{SANDBOX}.")
    return is_covage and not is_sandbox


def test_no_service_module_imports_a_task_module() -> None:
    base = base_dir()
    services = [
        *base.glob("*/services.py"),
        *base.glob("*/services/*.py"),
        *base.glob("*/dispatch.py"),
    ]
    assert services, "no services module found: the test would prove nothing"
    offenders = {
        str(path.relative_to(base)): sorted(imported_modules(path) & TASK_MODULES)
        for path in services
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_views_forms_admin_and_tasks_do_not_import_covage() -> None:
    base = base_dir()
    upper = [path for path in source_files() if is_upper_layer(path)]
    found_layers = {
        part
        for path in upper
        for part in path.relative_to(base).with_suffix("").parts
        if part in UPPER_LAYERS
    }
    assert found_layers == UPPER_LAYERS, f"only {found_layers} found: the test proves less"
    assert len(upper) >= 10, [str(path.relative_to(base)) for path in upper]
    offenders = {
        str(path.relative_to(base)): sorted(filter(speaks_to_covage, imported_modules(path)))
        for path in upper
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def project_imports(path: Path, modules: set[str]) -> set[str]:
    """The portal modules `path` imports, anywhere in it (functions included):
    `from package import module` imports the module, `from module import name` the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif node.module in modules:
                    found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in source_files()}
    modules = set(paths)
    return {name: project_imports(path, modules) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = import_graph()
    # Known imports, so that an empty graph cannot pass.
    assert "orders.services" in graph["orders.tasks"]
    assert "orders.services.sync" in graph["orders.services.confirm"]
    assert cycles(graph) == []
