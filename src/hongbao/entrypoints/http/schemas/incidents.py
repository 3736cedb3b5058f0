"""Bodies of the operators' reconciliation incidents (R-X2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hongbao.entrypoints.http.schemas import NO_CONTROL, Body, iso_time
from hongbao.recall.incidents import MAX_RESOLUTION_LENGTH, IncidentState
from hongbao.recall.records import Incident


class ResolveBody(Body):
    # How it was resolved, for whoever reads the incident next (the resolver is the caller).
    note: Annotated[str, Field(min_length=1, max_length=MAX_RESOLUTION_LENGTH, pattern=NO_CONTROL)]


class IncidentView(Body):
    id: str
    packet_id: str
    decision_id: str  # the recall decision that found the mismatch
    state: IncidentState
    detail: str  # the facts that disagreed
    opened_at_us: int
    opened_at: str
    closed_at_us: int | None
    closed_at: str | None
    resolved_by: str | None
    resolution: str | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentView:
        return cls(
            id=incident.id,
            packet_id=incident.packet_id,
            decision_id=incident.decision_id,
            state=IncidentState(incident.state),
            detail=incident.detail,
            opened_at_us=incident.opened_at_us,
            opened_at=iso_time(incident.opened_at_us),
            closed_at_us=incident.closed_at_us,
            closed_at=iso_time(incident.closed_at_us),
            resolved_by=incident.resolved_by,
            resolution=incident.resolution,
        )
