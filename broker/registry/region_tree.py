"""Reading the region tree (district/county → street/town → community/village → grid):
which node covers which grid, a grid's place (its ancestors), every grid below a node,
a grid's county, and whether a list of served regions (a partner's, a restriction's)
reaches a grid — the one function routing and restrictions both ask.

The tree is small (a few thousand nodes for a city), so it is read whole in two queries
into a :class:`Tree` and answered from memory: no query per grid in a loop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, aliased

from models import Grid, Region

ALL_REGIONS = "*"
# A node's level by its kind: 1 district/county, 2 street/town, 3 community/village.
LEVELS = {"district": 1, "county": 1, "street": 2, "town": 2, "community": 3, "village": 3}
KINDS_AT = {1: ("district", "county"), 2: ("street", "town"), 3: ("community", "village")}


@dataclass(frozen=True)
class Node:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None

    @property
    def level(self) -> int:
        return LEVELS[self.kind]


@dataclass(frozen=True)
class Served:
    """Where a served-regions list reaches a grid: ``*``, the grid itself, or a node
    above it (the nearest one listed)."""

    code: str
    name: str
    kind: str  # "all", "grid" or a node's kind


@dataclass
class Tree:
    nodes: dict[int, Node] = field(default_factory=dict)
    by_code: dict[str, Node] = field(default_factory=dict)
    children: dict[int | None, list[Node]] = field(default_factory=dict)
    grid_node: dict[int, int | None] = field(default_factory=dict)  # grid id → its node
    grid_ids: dict[str, int] = field(default_factory=dict)  # grid code → id
    grid_names: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id → code, name, district

    def ancestors(self, node_id: int | None) -> list[Node]:
        """The node and every node above it, nearest first."""
        out: list[Node] = []
        seen: set[int] = set()
        while node_id is not None and node_id in self.nodes and node_id not in seen:
            seen.add(node_id)
            node = self.nodes[node_id]
            out.append(node)
            node_id = node.parent_id
        return out

    def place_of(self, grid_id: int) -> list[Node]:
        """The grid's ancestors, district first (empty for a grid not placed)."""
        return list(reversed(self.ancestors(self.grid_node.get(grid_id))))

    def covers(self, node_id: int, grid_id: int) -> bool:
        """Whether the grid lies below the node."""
        return any(n.id == node_id for n in self.ancestors(self.grid_node.get(grid_id)))

    def below(self, node_id: int) -> list[Node]:
        """The node and every node below it."""
        out, todo = [], [self.nodes[node_id]] if node_id in self.nodes else []
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(self.children.get(node.id, []))
        return out

    def grids_below(self, node_id: int) -> frozenset[int]:
        """Every grid under the node, however deep."""
        ids = {n.id for n in self.below(node_id)}
        return frozenset(g for g, n in self.grid_node.items() if n in ids)

    def child_of(self, node_id: int, grid_id: int) -> Node | None:
        """The child of ``node_id`` on the way down to the grid (None: not below it, or
        the grid hangs directly under the node)."""
        path = self.ancestors(self.grid_node.get(grid_id))
        for i, n in enumerate(path):
            if n.id == node_id:
                return path[i - 1] if i > 0 else None
        return None

    def county_of(self, grid_id: int) -> str | None:
        """The name of the grid's district or county: whose figures and policies apply. A
        grid not yet placed answers with the district it records."""
        place = self.place_of(grid_id)
        if place:
            return place[0].name
        names = self.grid_names.get(grid_id)
        return names[2] if names else None

    def path_label(self, node: Node) -> str:
        """``武昌区 / 中南路街道 / 中南社区``."""
        return " / ".join(n.name for n in reversed(self.ancestors(node.id)))


def load(session: Session) -> Tree:
    """The whole tree and where each grid hangs, in two queries."""
    tree = Tree()
    rows = session.execute(
        select(Region.id, Region.code, Region.name, Region.kind, Region.parent_id).order_by(Region.code)
    ).all()
    for r in rows:
        node = Node(r.id, r.code, r.name, r.kind, r.parent_id)
        tree.nodes[node.id] = node
        tree.by_code[node.code] = node
        tree.children.setdefault(node.parent_id, []).append(node)
    for gid, code, name, district, region_id in session.execute(
        select(Grid.id, Grid.code, Grid.name, Grid.district, Grid.region_id)
    ).all():
        tree.grid_node[gid] = region_id
        tree.grid_ids[code] = gid
        tree.grid_names[gid] = (code, name, district)
    return tree


def serves(tree: Tree, regions: Iterable[str] | None, grid_code: str) -> Served | None:
    """Whether a served-regions list (grid codes, region codes, ``*``) reaches the grid,
    and through what: the grid itself first, then the nearest node above it listed, then
    ``*``. None: it does not."""
    wanted = set(regions or [])
    if grid_code in wanted:
        return Served(grid_code, grid_code, "grid")
    gid = tree.grid_ids.get(grid_code)
    if gid is not None:
        for node in tree.ancestors(tree.grid_node.get(gid)):
            if node.code in wanted:
                return Served(node.code, node.name, node.kind)
    if ALL_REGIONS in wanted:
        return Served(ALL_REGIONS, ALL_REGIONS, "all")
    return None


def grids_below(session: Session, region_id: int) -> frozenset[int]:
    """Every grid under a node (for a scoped user's principal)."""
    return load(session).grids_below(region_id)


def place_of(session: Session, grid_id: int) -> list[Node]:
    """A grid's ancestors, district first."""
    return load(session).place_of(grid_id)


def covers(session: Session, node_code: str, grid_code: str) -> bool:
    """Whether the grid ``grid_code`` lies below the node ``node_code``."""
    tree = load(session)
    node, gid = tree.by_code.get(node_code), tree.grid_ids.get(grid_code)
    return node is not None and gid is not None and tree.covers(node.id, gid)


def in_counties(grid_id: ColumnElement, names: Iterable[str]) -> ColumnElement[bool]:
    """SQL: the grid lies in one of these districts or counties, by the tree (a grid not
    yet placed, by the district it records). Uncorrelated: read once per query."""
    names = list(names)
    community, street, district = aliased(Region), aliased(Region), aliased(Region)
    placed = (
        select(Grid.id)
        .join(community, community.id == Grid.region_id)
        .join(street, street.id == community.parent_id)
        .join(district, district.id == street.parent_id)
        .where(district.name.in_(names))
    )
    unplaced = select(Grid.id).where(Grid.region_id.is_(None), Grid.district.in_(names))
    return or_(grid_id.in_(placed.scalar_subquery()), grid_id.in_(unplaced.scalar_subquery()))


def county_of(session: Session, grid: Grid | None) -> str | None:
    """A grid's district or county name, by the tree (its recorded district when it is
    not placed): whose figures and policies apply."""
    if grid is None:
        return None
    if grid.region_id is None:
        return grid.district
    node, seen = session.get(Region, grid.region_id), set()
    while node is not None and node.parent_id is not None and node.id not in seen:
        seen.add(node.id)
        node = session.get(Region, node.parent_id)  # at most three steps, from the identity map when loaded
    return node.name if node is not None else grid.district
