"""Changing the region tree (admin): a node created, renamed or moved (never under
itself or its own descendants, always one level below its parent), and a grid placed
under its community or village. Every change is audited; a grid's ``district``,
``street`` and ``community`` names follow its place, so that a rename or a move reads
the same everywhere at once. Reading is in :mod:`.region_tree`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import region_tree
from broker.registry.region_tree import KINDS_AT, LEVELS, Node, Tree
from models import Grid, Region

define(
    {
        "region_exists": N_("A region or grid with the code %(code)s already exists."),
        "region_cycle": N_("%(code)s cannot move under %(parent)s: that is itself or below it."),
        "region_level": N_("A %(kind)s belongs directly under a %(parent_kind)s."),
        "region_scope": N_("Only an administrator of the whole installation changes the region tree."),
        "region_kind.district": N_("district"),
        "region_kind.county": N_("county"),
        "region_kind.street": N_("street"),
        "region_kind.town": N_("town"),
        "region_kind.community": N_("community"),
        "region_kind.village": N_("village"),
        "region_kind.none": N_("nothing (the top of the tree)"),
    }
)


def _kinds(level: int) -> list[dict[str, str]]:
    """The kinds of a level as text codes (``region_kind.*``), for a refusal's parameters."""
    return [{"code": f"region_kind.{k}"} for k in KINDS_AT.get(level, ("none",))]


def _require_tree_admin(principal: Principal) -> None:
    principal.require("admin")
    if principal.region_id is not None:
        raise Forbidden("Only an administrator of the whole installation changes the region tree.", code="region_scope")


def region_by_code(session: Session, code: str) -> Region | None:
    return session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()


def summary(region: Region, parent_code: str | None) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "kind": region.kind, "parent": parent_code}


def _check_level(kind: str, parent: Node | Region | None) -> None:
    level = LEVELS[kind]
    parent_level = LEVELS[parent.kind] if parent is not None else 0
    if parent_level != level - 1:
        wanted = "/".join(KINDS_AT[level - 1]) if level > 1 else "nothing"
        raise Conflict(
            f"A {kind} belongs directly under a {wanted}.",
            details={"kind": {"code": f"region_kind.{kind}"}, "parent_kind": _kinds(level - 1)},
            code="region_level",
        )


def create_region(session: Session, principal: Principal, data: dict) -> Region:
    """Add a node under ``parent`` (a district or county has none)."""
    _require_tree_admin(principal)
    code = data["code"].strip()
    taken = session.execute(select(Grid.id).where(Grid.code == code)).first() is not None
    if taken or region_by_code(session, code) is not None:
        raise Conflict(
            f"A region or grid with the code {code} already exists.", details={"code": code}, code="region_exists"
        )
    parent = None
    if data.get("parent"):
        parent = region_by_code(session, data["parent"])
        if parent is None:
            raise Invalid("No region has this parent code.", details={"parent": ["unknown region"]})
    _check_level(data["kind"], parent)
    region = Region(code=code, name=data["name"].strip(), kind=data["kind"], parent_id=parent.id if parent else None)
    session.add(region)
    session.flush()
    audit.record(session, "region.created", region, after=summary(region, parent.code if parent else None))
    return region


def update_region(session: Session, principal: Principal, code: str, data: dict) -> Region:
    """Rename a node, change its kind within its level, or move it under another parent
    (with everything below it). A move under itself or its own descendants is refused."""
    _require_tree_admin(principal)
    region = region_by_code(session, code)
    if region is None:
        raise NotFound("No such region.")
    tree = region_tree.load(session)
    old_parent = tree.nodes.get(region.parent_id) if region.parent_id else None
    before = summary(region, old_parent.code if old_parent else None)
    kind = data.get("kind", region.kind)
    if LEVELS[kind] != LEVELS[region.kind]:
        raise Conflict(
            f"A {region.kind} can become only a {' or '.join(KINDS_AT[LEVELS[region.kind]])}.",
            details={"kind": {"code": f"region_kind.{kind}"}, "parent_kind": _kinds(LEVELS[region.kind] - 1)},
            code="region_level",
        )
    parent: Node | None = old_parent
    if "parent" in data:
        parent = tree.by_code.get(data["parent"]) if data["parent"] else None
        if data["parent"] and parent is None:
            raise Invalid("No region has this parent code.", details={"parent": ["unknown region"]})
        if parent is not None and any(n.id == region.id for n in tree.ancestors(parent.id)):
            raise Conflict(
                f"{region.code} cannot move under {parent.code}: that is itself or below it.",
                details={"code": region.code, "parent": parent.code},
                code="region_cycle",
            )
        _check_level(kind, parent)
    region.kind = kind
    if "name" in data:
        region.name = data["name"].strip()
    region.parent_id = parent.id if parent else None
    session.flush()
    after = summary(region, parent.code if parent else None)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record(
            session,
            "region.updated",
            region,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        sync_grid_names(session, region_tree.load(session), region.id)
    return region


def sync_grid_names(session: Session, tree: Tree, node_id: int) -> None:
    """Give every grid below the node the names of its place."""
    for gid in tree.grids_below(node_id):
        names = [n.name for n in tree.place_of(gid)]
        if len(names) == 3:
            grid = session.get(Grid, gid)
            grid.district, grid.street, grid.community = names
    session.flush()


def _next_code(tree: Tree, parent: Node | None) -> str:
    prefix = f"{parent.code}." if parent else "R"
    n = len(tree.children.get(parent.id if parent else None, [])) + 1
    while f"{prefix}{n:02d}" in tree.by_code or f"{prefix}{n:02d}" in tree.grid_ids:
        n += 1
    return f"{prefix}{n:02d}"


def _kind_for(level: int, name: str) -> str:
    if level == 1:
        return "county" if name.endswith("县") else "district"
    if level == 2:
        return "town" if name.endswith(("镇", "乡")) else "street"
    return "village" if name.endswith("村") else "community"


def place_by_names(session: Session, grid: Grid) -> Region:
    """Hang a grid under the community its names give (district, street, community),
    making the nodes that are missing; the codes of new nodes follow their parent's."""
    tree = region_tree.load(session)
    parent: Node | None = None
    for level, name in enumerate((grid.district, grid.street, grid.community), start=1):
        found = next((n for n in tree.children.get(parent.id if parent else None, []) if n.name == name), None)
        if found is None:
            region = Region(
                code=_next_code(tree, parent),
                name=name,
                kind=_kind_for(level, name),
                parent_id=parent.id if parent else None,
            )
            session.add(region)
            session.flush()
            audit.record(session, "region.created", region, after=summary(region, parent.code if parent else None))
            found = Node(region.id, region.code, region.name, region.kind, region.parent_id)
            tree.nodes[found.id] = found
            tree.by_code[found.code] = found
            tree.children.setdefault(found.parent_id, []).append(found)
        parent = found
    grid.region_id = parent.id
    session.flush()
    return session.get(Region, parent.id)


def place_under(session: Session, grid: Grid, code: str) -> Region:
    """Hang a grid under the community or village ``code``; its names follow."""
    tree = region_tree.load(session)
    node = tree.by_code.get(code)
    if node is None or node.level != 3:
        raise Invalid(
            "A grid hangs under a community or village: no such node.",
            details={"region": ["not a community or village"]},
        )
    grid.region_id = node.id
    grid.district, grid.street, grid.community = (n.name for n in reversed(tree.ancestors(node.id)))
    session.flush()
    return session.get(Region, node.id)


def node_view(tree: Tree, node: Node, *, depth: int) -> dict[str, Any]:
    """A node as the API shows it, with its children ``depth`` levels down and the grids
    hanging directly under it."""
    parent = tree.nodes.get(node.parent_id) if node.parent_id else None
    grids = sorted(tree.grid_names[g][0] for g, n in tree.grid_node.items() if n == node.id)
    view: dict[str, Any] = {
        "code": node.code,
        "name": node.name,
        "kind": node.kind,
        "parent": parent.code if parent else None,
        "path": tree.path_label(node),
        "grids": grids,
    }
    if depth > 0:
        view["children"] = [node_view(tree, c, depth=depth - 1) for c in tree.children.get(node.id, [])]
    return view


def read_tree(session: Session, principal: Principal, code: str | None = None) -> list[dict[str, Any]]:
    """The whole tree (roots and everything below), or one node with its children. A
    scoped user reads its own node and what lies below; the tree's shape is no secret
    to auditors and admins, households are."""
    principal.require("admin", "auditor")
    tree = region_tree.load(session)
    if code is None and principal.region_id is not None:
        node = tree.nodes.get(principal.region_id)
        return [node_view(tree, node, depth=3)] if node else []
    if code is None:
        return [node_view(tree, n, depth=3) for n in tree.children.get(None, [])]
    node = tree.by_code.get(code)
    if node is None or (
        principal.region_id is not None and not any(n.id == principal.region_id for n in tree.ancestors(node.id))
    ):
        raise NotFound("No such region.")
    return [node_view(tree, node, depth=1)]
