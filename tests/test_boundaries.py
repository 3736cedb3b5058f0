"""The import graph between hongbao's top-level packages, checked against one table.

Each edge says "some module of A imports some module of B" (imports under ``TYPE_CHECKING``
count: a type is a dependency too). The table below is the whole list of allowed edges; an
edge missing from it fails, and so does any cycle. Contexts own their ports and storage
implements them, so no context imports storage, entrypoints or bootstrap, and ``platform``
imports no context at all.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "hongbao"

CONTEXTS = frozenset(
    {
        "money",
        "fx",
        "ledger",
        "identity",
        "funding",
        "social",
        "risk",
        "packets",
        "recall",
        "refunds",
        "distribution",
        "policy",
        "support",
        "measures",
    }
)
PACKAGES = CONTEXTS | {"platform", "storage", "entrypoints", "client", "bootstrap", "testing"}
EVERY_CONTEXT = CONTEXTS | {"platform"}

# The allowed edges, importer -> imported. Keep the rules of the module docstring. A context
# lists exactly what it imports, so a new dependency is a decision made here; the layers that
# compose contexts (storage, wiring, entry points, test fakes) may import any of them.
ALLOWED: Mapping[str, frozenset[str]] = {
    "platform": frozenset(),
    "money": frozenset({"platform"}),
    "fx": frozenset({"money", "platform"}),
    "ledger": frozenset({"money", "platform"}),
    "identity": frozenset({"money", "platform"}),
    "funding": frozenset({"identity", "ledger", "money", "platform"}),
    # The social consequences of recalls run on the policy's numbers, in money for the pair cap.
    "social": frozenset({"identity", "money", "platform", "policy"}),
    "risk": frozenset({"platform", "policy"}),
    "policy": frozenset({"money", "platform"}),
    "packets": frozenset(
        {
            "distribution",
            "fx",
            "funding",
            "identity",
            "ledger",
            "money",
            "platform",
            "policy",
            "refunds",
            "risk",
            "social",
        }
    ),
    "refunds": frozenset(
        {
            "distribution",
            "fx",
            "funding",
            "identity",
            "ledger",
            "money",
            "platform",
            "policy",
        }
    ),
    "distribution": frozenset({"funding", "identity", "ledger", "money", "platform"}),
    "recall": frozenset(
        {
            "funding",
            "identity",
            "ledger",
            "money",
            "packets",
            "platform",
            "policy",
            "refunds",
            "risk",
        }
    ),
    # A support case attaches the person's age band and their recall attempts.
    "support": frozenset({"identity", "platform"}),
    # Recall decisions counted per age band and device model, with risk's daily tallies.
    "measures": frozenset({"identity", "platform", "recall", "risk"}),
    "storage": EVERY_CONTEXT,
    "bootstrap": EVERY_CONTEXT | {"storage"},
    "testing": EVERY_CONTEXT | {"storage"},
    # The console checks a packet's history with the client's own code (R-B2), not the server's.
    "entrypoints": EVERY_CONTEXT | {"storage", "bootstrap", "client"},
    "client": frozenset({"money"}),
}

# Modules that hold a context's rows as storage sees them: only storage (and the wiring that
# builds it) may import them.
STORAGE_FACING_SUFFIXES = ("_tables",)
STORAGE_FACING_IMPORTERS = frozenset({"storage", "bootstrap", "testing"})

# A context's ports (the tables and repositories it asks storage for) are its own; another
# context names them only where it hands its unit of work on to that context's functions.
SHARED_PORTS: Mapping[str, frozenset[str]] = {
    "ledger": CONTEXTS,  # every context's money moves through the ledger's functions
    # A support case and the measures read the person (their age band) and device.
    "identity": frozenset(
        {"distribution", "funding", "measures", "packets", "recall", "refunds", "social", "support"}
    ),
    # A send, a refund, a recall and a budget read the funding source the money comes from or
    # goes back to (a recall with its other reads, in one round trip).
    "funding": frozenset({"distribution", "packets", "recall"}),
    "social": frozenset({"packets"}),  # a group packet checks its audience in the same unit
    "packets": frozenset({"recall"}),  # a recall acts on the packet in the packet's unit
    "recall": frozenset({"measures"}),  # each recall decision is counted where it is read
    "distribution": frozenset({"packets", "refunds"}),  # a refund may unwind through budgets
    "refunds": frozenset({"packets"}),  # expiry and recall refund the remainder in one unit
    # A send and a claim check the device's lock, a recall reads and updates the requester's
    # risk profile, in the same unit (R-K1, R-K2).
    "risk": frozenset({"measures", "packets", "recall"}),  # the dashboard reads daily tallies
}


# Reads that name columns belong in storage, behind a port's named method (``shares_of``).
COLUMN_QUERIES = frozenset({"where", "find", "find_in", "read_find_in"})
REMAINING_COLUMN_QUERIES: frozenset[str] = frozenset()  # none left: keep it so


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterable[str]:
    """Every hongbao module ``path`` imports, relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            # ``from hongbao.x import y`` may name the module ``hongbao.x.y``.
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "hongbao" else None


def _source_files() -> list[Path]:
    migrations = SOURCE / "storage" / "migrations"
    return sorted(p for p in SOURCE.rglob("*.py") if migrations not in p.parents)


def import_graph() -> dict[tuple[str, str], set[str]]:
    """Edges between top-level packages, each with the files that make it."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in _source_files():
        importer = _top(_module_name(path))
        if importer is None:
            continue
        for module in _imported(path):
            imported = _top(module)
            if imported is not None and imported != importer and imported in PACKAGES:
                edges[(importer, imported)].add(f"{path.relative_to(SOURCE)} -> {module}")
    return edges


def _cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle of the graph, as the list of packages along it, or None."""
    successors: dict[str, list[str]] = defaultdict(list)
    for importer, imported in sorted(edges):
        successors[importer].append(imported)
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for following in successors[node]:
            if state.get(following) == "open":
                return [*path[path.index(following) :], following]
            if following not in state and (found := visit(following)) is not None:
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(successors):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_every_package_is_known_to_the_table() -> None:
    """A new top-level package is added to the table on purpose, not by accident."""
    present = {
        path.stem if path.is_file() else path.name
        for path in SOURCE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert present <= PACKAGES, sorted(present - PACKAGES)
    assert set(ALLOWED) == PACKAGES


def test_the_table_keeps_the_layering_rules() -> None:
    """Platform imports no context; contexts import no storage, entrypoint or wiring; the
    client stands alone; storage implements ports and serves no entrypoint."""
    assert not ALLOWED["platform"] & (CONTEXTS | {"storage"})
    for context in CONTEXTS:
        assert not ALLOWED[context] & {"storage", "entrypoints", "bootstrap", "testing"}, context
    assert ALLOWED["client"] <= {"money"}
    assert "entrypoints" not in ALLOWED["storage"]
    assert _cycle((a, b) for a, targets in ALLOWED.items() for b in targets) is None


def test_every_import_edge_is_allowed() -> None:
    """Each edge between packages is in the table."""
    edges = import_graph()
    unexpected = {
        edge: sorted(files) for edge, files in edges.items() if edge[1] not in ALLOWED[edge[0]]
    }
    assert not unexpected, "\n".join(
        f"{a} -> {b}:\n    " + "\n    ".join(files) for (a, b), files in unexpected.items()
    )


def test_the_packages_import_each_other_without_cycles() -> None:
    """No package reaches itself through its imports."""
    edges = import_graph()
    cycle = _cycle(edges)
    if cycle is not None:
        steps = itertools.pairwise(cycle)
        files = "\n".join(
            f"{a} -> {b}:\n    " + "\n    ".join(sorted(edges[(a, b)])) for a, b in steps
        )
        raise AssertionError(f"import cycle {' -> '.join(cycle)}\n{files}")


def _imports_by_file() -> Iterable[tuple[str, str, str]]:
    """(file, importing package, imported module) for every import of a hongbao module."""
    for path in _source_files():
        importer = _top(_module_name(path))
        for module in _imported(path):
            if importer is not None and _top(module) is not None:
                yield str(path.relative_to(SOURCE)), importer, module


def test_no_one_but_storage_imports_table_bundles() -> None:
    """A context reaches another context's rows through its services and ports, never
    through the storage modules that hold them."""
    offending = sorted(
        f"{file} -> {module}"
        for file, importer, module in _imports_by_file()
        if importer not in STORAGE_FACING_IMPORTERS
        and module.rpartition(".")[2].endswith(STORAGE_FACING_SUFFIXES)
    )
    assert not offending, "\n".join(offending)


def test_contexts_name_other_contexts_ports_only_where_allowed() -> None:
    """Another context's ports module is its storage contract: naming it couples the two
    contexts' tables, so each such use is listed."""
    offending = sorted(
        f"{file} -> {module}"
        for file, importer, module in _imports_by_file()
        if importer in CONTEXTS
        and module.split(".")[2:3] == ["ports"]
        and (owner := module.split(".")[1]) != importer
        and importer not in SHARED_PORTS.get(owner, frozenset())
    )
    assert not offending, "\n".join(offending)


def _names_a_column(call: ast.Call) -> bool:
    """A table read given a column's name: ``where("packet_id", ...)`` or ``find({...})``."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in COLUMN_QUERIES):
        return False
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return True
    return isinstance(first, ast.Dict) and any(
        isinstance(key, ast.Constant) and isinstance(key.value, str) for key in first.keys
    )


def test_only_storage_queries_tables_by_column_name() -> None:
    """Contexts and entry points read through named port methods, so a column's name is
    known to storage alone."""
    offending = sorted(
        f"{path.relative_to(SOURCE)}:{node.lineno}"
        for path in _source_files()
        if _top(_module_name(path)) != "storage"
        and str(path.relative_to(SOURCE)) not in REMAINING_COLUMN_QUERIES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _names_a_column(node)
    )
    assert not offending, "\n".join(offending)


def test_the_files_still_querying_by_column_name_still_do() -> None:
    """A file that stopped naming columns leaves the list, so it cannot start again."""
    still = {
        str(path.relative_to(SOURCE))
        for path in _source_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _names_a_column(node)
    }
    assert not REMAINING_COLUMN_QUERIES - still


# The tables of the contexts that others ask through read functions (identity.reads,
# identity.step_up, funding's and social's services): the unit of work's attribute, then the
# table's.
GUARDED_TABLES: Mapping[str, frozenset[str]] = {
    "identity": frozenset(
        {"users", "enterprises", "exemptions", "devices", "device_owners", "challenges", "secrets"}
    ),
    "funding": frozenset({"sources"}),
    "social": frozenset({"groups", "members", "relationships"}),
}
TABLE_READERS = frozenset({"storage", "bootstrap", "testing", "entrypoints"})


def _touches_table(node: ast.Attribute) -> str | None:
    """``<something>.identity.users`` and the like: the owner and table it names, or None."""
    owner = node.value
    if not isinstance(owner, ast.Attribute) or owner.attr not in GUARDED_TABLES:
        return None
    return f"{owner.attr}.{node.attr}" if node.attr in GUARDED_TABLES[owner.attr] else None


def test_other_contexts_reach_identity_funding_and_social_through_their_functions() -> None:
    """A send, a claim, a recall or a refund asks identity, funding and social through their
    read functions and services (``identity.reads``, ``identity.step_up``, funding's and
    social's services), never through their tables."""
    offending = sorted(
        f"{path.relative_to(SOURCE)}:{node.lineno} {table}"
        for path in _source_files()
        if (importer := _top(_module_name(path))) is not None and importer not in TABLE_READERS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and (table := _touches_table(node)) is not None
        and table.partition(".")[0] != importer
    )
    assert not offending, "\n".join(offending)
