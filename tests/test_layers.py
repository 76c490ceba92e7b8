"""Imports flow one way (DESIGN.md): models → nothing of ours; adapters → adapters.base;
the domain (broker) never imports the API, the portal or app.py; nothing imports app.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("models", "broker", "adapters", "config", "app", "tests", "bench")
# The top of the graph: composition root, CLI and launcher may import the web layers.
TOP = {"broker.factory", "broker.cli", "broker.run"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def allowed(importer: str, imported: str) -> bool:
    top = imported.split(".")[0]
    if importer.startswith("models"):
        return top == "models"
    if importer.startswith("adapters"):
        return imported.startswith("adapters.base") or imported == "adapters" or importer == imported
    if importer.startswith("config"):
        return top == "config"
    if importer.startswith("broker"):
        if top == "app":
            return False
        if top == "adapters":
            return imported.startswith("adapters.base") or imported == "adapters"
        web = imported.startswith(("broker.api", "broker.portal"))
        if web:
            return importer in TOP or importer.startswith(("broker.api", "broker.portal"))
        if imported in TOP:
            return importer in TOP
        return top in ("broker", "models", "config")
    return True


@pytest.mark.parametrize("folder", ["models", "adapters", "config", "broker"])
def test_imports_point_the_right_way(folder):
    wrong = []
    for path in sources(folder):
        importer = module_name(path)
        wrong += [f"{importer} → {imp}" for imp in imports_of(path) if not allowed(importer, imp)]
    assert wrong == []


def test_api_and_portal_do_not_import_each_other():
    wrong = []
    for path in sources("broker/api"):
        wrong += [f"{module_name(path)} → {i}" for i in imports_of(path) if i.startswith("broker.portal")]
    for path in sources("broker/portal"):
        wrong += [f"{module_name(path)} → {i}" for i in imports_of(path) if i.startswith("broker.api")]
    assert wrong == []


def test_nothing_imports_app_py():
    wrong = [
        str(path.relative_to(ROOT))
        for folder in OURS
        if (ROOT / folder).is_dir()
        for path in sources(folder)
        if "app" in {i.split(".")[0] for i in imports_of(path)} and path.name != "app.py"
    ]
    assert wrong == []
