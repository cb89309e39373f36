"""Services never import task modules (tasks import services; dispatch modules enqueue by
name), so that no module imports another that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

TASK_MODULES = {"orders.tasks", "exports.tasks", "reconciliation.tasks"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_service_module_imports_a_task_module() -> None:
    base = Path(settings.BASE_DIR)
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
