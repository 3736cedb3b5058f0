"""/v1/operator/incidents: reconciliation incidents (R-X2), listed, read and resolved by
operators with a note (who and when are recorded on the incident)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.context import (
    Context,
    IdempotencyKey,
    Lang,
    Operator,
    RawBody,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas import Id
from hongbao.entrypoints.http.schemas.incidents import IncidentView, ResolveBody
from hongbao.recall.incidents import (
    MAX_LISTED,
    IncidentState,
    incident,
    list_incidents,
    resolve_incident,
)

router = APIRouter(prefix="/v1/operator/incidents", tags=["operator"])
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="at most this many")]
PacketFilter = Annotated[Id | None, Query(description="only this packet's")]


@router.get("", response_model=list[IncidentView], responses=READ)
def incidents(
    api: Context,
    _: Operator,
    state: IncidentState | None = None,
    packet_id: PacketFilter = None,
    limit: Limit = 100,
) -> list[IncidentView]:
    """Reconciliation incidents in id order: ``open`` ones wait for an operator, ``closed``
    ones say who resolved them, when and how."""
    found = list_incidents(api.services.database, state=state, packet_id=packet_id, limit=limit)
    return [IncidentView.of(item) for item in found]


@router.get("/{incident_id}", response_model=IncidentView, responses=READ)
def show_incident(incident_id: str, api: Context, _: Operator) -> IncidentView:
    """One incident: the packet and the decision that found it, the facts that disagreed and,
    once resolved, who resolved it, when and how."""
    return IncidentView.of(incident(api.services.database, incident_id))


@router.post("/{incident_id}/resolve", response_model=IncidentView, responses=WRITE)
def resolve(
    incident_id: str,
    body: ResolveBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Resolve an open incident with a note; the operator and the time are recorded. A
    resolved incident is a conflict (409)."""

    def action() -> tuple[int, object]:
        closed = resolve_incident(
            api.services.database,
            incident_id,
            resolved_by=who.subject,
            resolution=body.note,
            now_us=api.services.clock.now_us(),
        )
        return 200, IncidentView.of(closed).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)
