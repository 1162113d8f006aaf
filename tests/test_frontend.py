"""The browser bundles: every package the sources import is declared, every bundle is loaded."""

from __future__ import annotations

import json
import re
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1] / "webapp" / "frontend"
TEMPLATES = Path(__file__).resolve().parents[1] / "webapp" / "templates"
# `import x from "pkg/…"`, `from "pkg"`, `import "pkg"` and CSS `@import "pkg/…"`
SPECIFIER = re.compile(r"""(?:\bfrom|\bimport|@import)\s+["']([^"'.][^"']*)["']""")


def package_of(specifier: str) -> str:
    """The npm package a bare import specifier names: ``@scope/name`` or ``name``."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def imported_packages() -> set[str]:
    found = set()
    for source in sorted((FRONTEND / "src").glob("*")):
        if source.suffix in (".js", ".mjs", ".css"):
            found |= {package_of(spec) for spec in SPECIFIER.findall(source.read_text())}
    return found


def test_every_imported_package_is_declared() -> None:
    manifest = json.loads((FRONTEND / "package.json").read_text())
    declared = set(manifest["dependencies"])
    imported = imported_packages()
    assert "bpmn-js" in imported  # the pattern finds what is there
    assert imported - declared == set()


def test_the_lock_file_declares_what_the_manifest_does() -> None:
    manifest = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    root = lock["packages"][""]
    assert root.get("dependencies", {}) == manifest.get("dependencies", {})
    assert root.get("devDependencies", {}) == manifest.get("devDependencies", {})


def test_every_bundle_is_loaded_by_a_page() -> None:
    build = (FRONTEND / "build.mjs").read_text()
    entries = re.search(r"entryPoints:\s*\{(.*?)\}", build, re.S)
    assert entries is not None
    names = re.findall(r"""^\s*"?([\w-]+)"?:\s*join\(""", entries.group(1), re.M)
    assert "app" in names
    pages = "\n".join(path.read_text() for path in TEMPLATES.rglob("*.html"))
    loaded = set(re.findall(r"dist/([\w-]+)\.(?:js|css)", pages))
    assert set(names) - loaded == set()
