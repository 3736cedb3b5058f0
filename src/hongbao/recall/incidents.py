"""Reconciliation incidents (R-X2) for operators: listed, read and resolved with a note.

A recall that finds a packet's record and its escrow disagreeing is denied and opens one
incident per packet (``RecallService``). An operator looks into it and resolves it: the
incident closes with who resolved it, when and how, kept on the incident itself as its audit
record. A closed incident stays closed; resolving it again is a conflict.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Final

from hongbao.platform.limits import MAX_ID_LENGTH
from hongbao.recall.errors import RecallCode
from hongbao.recall.gather import RecallError
from hongbao.recall.ports import Database, UnitOfWork
from hongbao.recall.records import Incident

MAX_LISTED: Final = 500
MAX_RESOLUTION_LENGTH: Final = 2_000


class IncidentState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # resolved by an operator


def list_incidents(
    database: Database,
    *,
    state: IncidentState | None = None,
    packet_id: str | None = None,
    limit: int = 100,
) -> list[Incident]:
    """Incidents in key order, in one state and of one packet when asked; at most ``limit``
    (1 to ``MAX_LISTED``)."""
    if not 1 <= limit <= MAX_LISTED:
        raise RecallError(f"list 1 to {MAX_LISTED} incidents", code=RecallCode.INVALID)
    equal: dict[str, str] = {}
    if state is not None:
        equal["state"] = state.value
    if packet_id is not None:
        equal["packet_id"] = packet_id

    def read(uow: UnitOfWork) -> list[Incident]:
        table = uow.recalls.incidents
        return table.find(equal, limit=limit) if equal else table.page(None, limit=limit)

    return database.read(read)


def incident(database: Database, incident_id: str) -> Incident:
    return database.read(lambda uow: _existing(uow, incident_id, lock=False))


def resolve_incident(
    database: Database, incident_id: str, *, resolved_by: str, resolution: str, now_us: int
) -> Incident:
    """Close an open incident with who resolved it and how; a closed one is a conflict."""
    resolution = resolution.strip()
    if not resolved_by or len(resolved_by) > MAX_ID_LENGTH:
        raise RecallError("say who resolves the incident", code=RecallCode.RESOLUTION_INVALID)
    if not resolution or len(resolution) > MAX_RESOLUTION_LENGTH:
        raise RecallError(
            f"say how the incident was resolved, in 1 to {MAX_RESOLUTION_LENGTH} characters",
            code=RecallCode.RESOLUTION_INVALID,
        )

    def work(uow: UnitOfWork) -> Incident:
        found = _existing(uow, incident_id, lock=True)
        if found.state != IncidentState.OPEN:
            raise RecallError(
                f"incident {incident_id} was resolved by {found.resolved_by}",
                code=RecallCode.INCIDENT_CLOSED,
                resolved_by=found.resolved_by,
                closed_at_us=found.closed_at_us,
            )
        closed = replace(
            found,
            state=IncidentState.CLOSED.value,
            closed_at_us=now_us,
            resolved_by=resolved_by,
            resolution=resolution,
        )
        uow.recalls.incidents.replace(closed)
        return closed

    return database.transact(work)


def _existing(uow: UnitOfWork, incident_id: str, *, lock: bool) -> Incident:
    table = uow.recalls.incidents
    found = table.lock(incident_id) if lock else table.get(incident_id)
    if found is None:
        raise RecallError(f"no incident {incident_id!r}", code=RecallCode.UNKNOWN_INCIDENT)
    return found
