"""The backlog as ``/readyz`` reports it: outbox lag and due work, and whether a worker keeps up.

The worker is not a process this API can see; its liveness shows in what it leaves behind. A
stopped worker lets outbox deliveries and due work pile up past their time, so "keeping up" is
read from the same thresholds that enter degrade mode. It is reported, never a reason for a
process to be unready: every API process of a database sees the same backlog.
"""

from __future__ import annotations

from typing import Any

from hongbao.entrypoints.ops.operations import Operations


def backlog_report(operations: Operations, *, refresh: bool) -> dict[str, Any]:
    """The latest backlog sample (refreshed when older than the sampling interval and
    ``refresh``), with the worker's keeping up judged against the degrade thresholds."""
    sampler = operations.sampler
    max_age = max(operations.settings.backlog_refresh_seconds, 0.0)
    sample = sampler.refresh(max_age) if refresh else sampler.latest
    if sample is None or sample.backlog is None:
        error = None if sample is None else sample.error
        return {"sampled": False, "error": error or "no sample yet", "worker_keeping_up": None}
    backlog = sample.backlog
    thresholds = operations.settings.degrade
    keeping_up = (
        backlog.outbox_lag_seconds < thresholds.outbox_lag_enter_seconds
        and backlog.due_work_overdue < thresholds.overdue_enter
    )
    return {
        "sampled": True,
        "age_seconds": round(max(sampler.monotonic() - sample.taken_at, 0.0), 3),
        "outbox_pending": backlog.outbox_pending,
        "outbox_lag_seconds": backlog.outbox_lag_seconds,
        "due_work_due": backlog.due_work_due,
        "due_work_overdue": backlog.due_work_overdue,
        "cap": backlog.cap,
        "worker_keeping_up": keeping_up,
    }
