"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (may take traffic), ``/metrics``.

A load balancer restarts a process on ``/healthz`` and routes traffic on ``/readyz``.

They bypass admission control, degrade mode and rate limits (the middleware lets them through),
so that they answer when the process is loaded, which is when they are needed most.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from hongbao.entrypoints.http.context import Context
from hongbao.entrypoints.ops.backlog_report import backlog_report
from hongbao.entrypoints.ops.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])
RETRY_AFTER_NOT_READY_SECONDS = 5


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and its event loop answers (nothing else is checked)."""
    return {"status": "alive"}


@router.get("/readyz", responses={503: {"description": "not ready; the body says why"}})
def readyz(api: Context) -> JSONResponse:
    """Whether this process can serve the money path: the database answers within a bound,
    the schema is at head and the process is not shedding load. Degrade mode and the backlog
    (outbox lag, overdue due work: a stopped worker) are reported but never make a healthy
    process unready: they are the same on every process of a database, so a load balancer
    acting on them would take the whole service out while sends still succeed."""
    operations = api.operations
    database, schema = operations.readiness.check()
    load = operations.admission.state()
    # The backlog first: a fresh sample moves degrade mode, which is then read as it stands.
    # A hanging database is not asked again for it: readiness already said so.
    backlog = backlog_report(operations, refresh=database.ok)
    degrade = operations.degrade.evaluate()
    ready = database.ok and schema.ok and not load.shedding
    body: dict[str, Any] = {
        "ready": ready,
        "checks": {
            "database": {"ok": database.ok, "detail": database.detail},
            "schema": {"ok": schema.ok, "detail": schema.detail},
            "load": {
                "ok": not load.shedding,
                "in_flight": load.in_flight,
                "waiting": load.waiting,
                "shed_total": load.shed,
            },
        },
        "degraded": {
            "active": degrade.active,
            "reasons": list(degrade.reasons),
            "forced": degrade.forced,
            "since_seconds": degrade.since_seconds,
            "money_path_p99_seconds": degrade.money_p99_seconds,
        },
        "backlog": backlog,
    }
    headers = {} if ready else {"Retry-After": str(RETRY_AFTER_NOT_READY_SECONDS)}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)


@router.get("/metrics", response_class=Response)
def metrics(api: Context) -> Response:
    """Prometheus exposition text (the database figures are sampled at most every few
    seconds)."""
    return Response(api.operations.render_metrics(), media_type=CONTENT_TYPE)
