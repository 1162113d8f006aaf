"""The layering rule of engine/README.md: webapp → engine → SpiffWorkflow, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "engine": ("flask", "flask_sqlalchemy", "marshmallow", "webapp", "sqlalchemy"),
    "forms": ("flask", "webapp", "SpiffWorkflow"),
    # BPMN and DMN are read by the engine alone: webapp gets what it needs as dataclasses
    "webapp": ("SpiffWorkflow", "lxml", "xml", "defusedxml"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_check_sees_imports() -> None:
    sample = ROOT / "webapp" / "services" / "applications.py"
    assert "engine" in imported_modules(sample)
