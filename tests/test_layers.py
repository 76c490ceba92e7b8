"""The house rules (DESIGN.md, "The house, by domain"): imports flow one way, and no
module imports itself back through others.

- ``models`` imports nothing of ours; ``adapters`` only ``adapters.base``; ``config`` only
  ``config``.
- ``broker.platform`` (db, queue, outbox, settings, security, errors …) imports no domain.
- Each domain package (``broker.registry``, ``broker.policy`` …) imports the platform, the
  models, ``adapters.base`` and the domains its ``__init__`` docstring names on its
  ``May import:`` line — never the web layers, the CLI or the entry points.
- ``broker.api`` and ``broker.portal`` import the domains, never each other.
- Only the entry points (factory, run, startup, jobs, worker, cron, plugins, seed) and
  the CLI import anything; nothing imports ``app.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("models", "broker", "adapters", "config", "app", "tests", "bench")
LAYERS = ("broker.api", "broker.portal", "broker.cli")
PLATFORM = "broker.platform"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {
    module_name(p): p for folder in ("broker", "models", "adapters", "config") for p in (ROOT / folder).rglob("*.py")
}


def imports_of(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def package_of(module: str) -> str:
    """``broker.referral.routing`` → ``broker.referral``; an entry point is its own."""
    return ".".join(module.split(".")[:2]) if module.startswith("broker.") else module.split(".")[0]


DOMAINS = sorted(
    name
    for name in {package_of(m) for m in MODULES if m.startswith("broker.")}
    if (ROOT / name.replace(".", "/") / "__init__.py").exists() and name != PLATFORM and name not in LAYERS
)
ENTRY_POINTS = sorted(
    m for m in MODULES if m.startswith("broker.") and m.count(".") == 1 and m not in {*DOMAINS, PLATFORM, *LAYERS}
)


def may_import(domain: str) -> set[str]:
    """The domains a package's docstring names on its ``May import:`` line."""
    doc = ast.get_docstring(ast.parse(MODULES[domain].read_text(encoding="utf-8"))) or ""
    match = re.search(r"May import:([^\n]*(?:\n(?!\n)[^\n]*)*)", doc)
    assert match, f"{domain}/__init__.py must say what it may import ('May import: …')"
    named = {f"broker.{word}" for word in re.findall(r"broker\.([a-z_]+)", match.group(1))}
    return named & set(DOMAINS)


def allowed(importer: str, imported: str) -> bool:
    top = imported.split(".")[0]
    if top in ("app", "tests", "bench"):
        return False
    if importer.startswith("models"):
        return top == "models"
    if importer.startswith("adapters"):
        return imported.startswith("adapters.base") or imported == "adapters" or importer == imported
    if importer.startswith("config"):
        return top == "config"
    if top == "adapters" and not (imported.startswith("adapters.base") or imported == "adapters"):
        return False
    if top != "broker":
        return True
    src, dst = package_of(importer), package_of(imported)
    if src == dst or imported == "broker":
        return True
    if src in ENTRY_POINTS or src == "broker.cli":
        return True
    if src == PLATFORM:
        return False
    if src in ("broker.api", "broker.portal"):
        return dst == PLATFORM or dst in DOMAINS
    return dst == PLATFORM or dst in may_import(src)


def test_the_house_has_its_rooms():
    assert {"broker.registry", "broker.policy", "broker.referral", "broker.money", "broker.audit"} <= set(DOMAINS)
    assert len(ENTRY_POINTS) <= 8, ENTRY_POINTS


@pytest.mark.parametrize("folder", ["models", "adapters", "config", "broker"])
def test_imports_point_the_right_way(folder):
    wrong = [
        f"{module} → {imp}"
        for module, path in MODULES.items()
        if module.split(".")[0] == folder
        for imp in sorted(imports_of(path))
        if not allowed(module, imp)
    ]
    assert wrong == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_package_says_what_it_holds_and_may_import(domain):
    doc = ast.get_docstring(ast.parse(MODULES[domain].read_text(encoding="utf-8")))
    assert doc
    assert len(doc.splitlines()) >= 2
    may_import(domain)


def test_api_and_portal_do_not_import_each_other():
    wrong = [
        f"{m} → {i}"
        for m, p in MODULES.items()
        for i in imports_of(p)
        if (m.startswith("broker.api") and i.startswith("broker.portal"))
        or (m.startswith("broker.portal") and i.startswith("broker.api"))
    ]
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles():
    graph = {m: {i for i in imports_of(p) if i in MODULES and i != m} for m, p in MODULES.items()}
    # A package's __init__ that re-exports its modules is not a cycle with them.
    for m in graph:
        graph[m] = {i for i in graph[m] if not (m.startswith(i + ".") and MODULES[i].name == "__init__.py")}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for folder in ("broker", "adapters", "models", "config")
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_nothing_imports_app_py():
    wrong = [
        str(path.relative_to(ROOT))
        for folder in OURS
        if (ROOT / folder).is_dir()
        for path in (ROOT / folder).rglob("*.py")
        if "app" in {i.split(".")[0] for i in imports_of(path)} and path.name != "app.py"
    ]
    assert wrong == []
