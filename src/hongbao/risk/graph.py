"""The link graph of ring detection (R-K3, 团伙): accounts and what links them, in connected
components kept incrementally in tables.

Nodes are accounts (``user:{id}``) and what accounts share: devices (``device:{id}``), SIMs
(``sim:{id}``) and funding cards (``card:{issuer}/{masked number}``); two accounts that
cycled money between them often enough are linked directly. Each node row names its
component; a link merges the components of its nodes by relabelling the smaller ones' nodes
to the largest (small into large: a node moves O(log n) times over its life). A component
stops growing at ``MAX_COMPONENT_NODES``: a link that would pass it is left out, so every
relabelling reads at most that many rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

from hongbao.platform.invariants import invariant
from hongbao.platform.records import RecordTable

MAX_COMPONENT_NODES: Final = 5_000
MAX_NODES_PER_LINK: Final = 64
USER_PREFIX: Final = "user:"


@dataclass(frozen=True, slots=True)
class GraphNode:
    node: str
    component: str
    is_user: bool


@dataclass(frozen=True, slots=True)
class Component:
    id: str
    users: int
    nodes: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class Pair:
    """Rapid cycles between two accounts, either way round (``low`` < ``high``)."""

    low: str
    high: str
    cycles: int
    last_at_us: int


class GraphTables(Protocol):
    @property
    def graph_nodes(self) -> RecordTable[GraphNode]: ...

    @property
    def components(self) -> RecordTable[Component]: ...

    def nodes_in(self, component_id: str, *, limit: int) -> list[GraphNode]:
        """The nodes of a component, in node order; more than ``limit`` is cut."""
        ...


def user_node(user_id: str) -> str:
    return f"{USER_PREFIX}{user_id}"


def link(tables: GraphTables, nodes: Sequence[str], now_us: int) -> Component:
    """Put ``nodes`` (the first one an account) in one component, as far as the size cap
    allows, and return the first node's component as it is then."""
    invariant(0 < len(nodes) <= MAX_NODES_PER_LINK, "a link names 1 to 64 nodes")
    wanted = list(dict.fromkeys(nodes))
    stored = tables.graph_nodes.get_many([(name,) for name in wanted])
    known = {key[0]: node for key, node in stored.items()}
    new = [
        GraphNode(name, name, name.startswith(USER_PREFIX)) for name in wanted if name not in known
    ]
    tables.graph_nodes.insert_many(new)
    tables.components.insert_many(
        [Component(node.node, int(node.is_user), 1, now_us) for node in new]
    )
    known.update({node.node: node for node in new})
    ids = sorted({known[name].component for name in wanted})
    found = {key[0]: c for key, c in tables.components.get_many([(i,) for i in ids]).items()}
    invariant(set(found) == set(ids), "every node's component exists")
    # The largest absorbs the others, the first node's own component first among equals.
    first = known[wanted[0]].component
    ordered = sorted(found.values(), key=lambda c: (-c.nodes, c.id != first, c.id))
    target = ordered[0]
    absorbed = {target.id}
    for other in ordered[1:]:
        if target.nodes + other.nodes > MAX_COMPONENT_NODES:
            continue
        moved = tables.nodes_in(other.id, limit=MAX_COMPONENT_NODES)
        tables.graph_nodes.replace_many(
            [replace(node, component=target.id) for node in moved], columns=("component",)
        )
        tables.components.replace(replace(other, users=0, nodes=0, updated_at_us=now_us))
        absorbed.add(other.id)
        target = replace(
            target,
            users=target.users + other.users,
            nodes=target.nodes + other.nodes,
            updated_at_us=now_us,
        )
    if len(ordered) > 1:
        tables.components.replace(target)
    return target if first in absorbed else found[first]


def members(tables: GraphTables, component_id: str) -> list[str]:
    """The accounts (user ids) of a component, in id order."""
    nodes = tables.nodes_in(component_id, limit=MAX_COMPONENT_NODES)
    return sorted(n.node.removeprefix(USER_PREFIX) for n in nodes if n.is_user)


def component_of(tables: GraphTables, node: str) -> str | None:
    found = tables.graph_nodes.get(node)
    return found.component if found else None
