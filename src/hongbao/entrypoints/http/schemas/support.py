"""Support cases and the operators' measures as the API shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from pydantic import Field

from hongbao.entrypoints.http.schemas import NO_CONTROL, PROSE_PATTERN, Body, Id, iso_time
from hongbao.measures.desk import Dashboard
from hongbao.measures.guidance import SOURCE_REDUCTION_PERCENT, CohortFigures, GuidanceFigures
from hongbao.support.cases import MAX_TEXT_LENGTH, CaseOrigin, CaseState, SupportCase, SupportNote
from hongbao.support.service import CaseFile

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# The document carries the exact rule; the server refuses control characters itself and the
# rest (blank text) with support's own code.
Text = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEXT_LENGTH,
        pattern=NO_CONTROL,
        json_schema_extra={"pattern": PROSE_PATTERN},
    ),
]


class OpenCaseBody(Body):
    question: Text
    origin: CaseOrigin = CaseOrigin.HELP
    decision_id: Id | None = None
    packet_id: Id | None = None


class TextBody(Body):
    text: Text


class AttemptView(Body):
    decision_id: str
    result: str
    reasons: list[str]
    at: str


class NoteView(Body):
    number: int
    kind: str
    author: str
    author_id: str
    text: str
    at_us: int
    at: str

    @classmethod
    def of(cls, note: SupportNote) -> NoteView:
        return cls(
            number=note.number,
            kind=note.kind.value,
            author=note.author.value,
            author_id=note.author_id,
            text=note.text,
            at_us=note.at_us,
            at=iso_time(note.at_us),
        )


class CaseView(Body):
    id: str
    user_id: str
    state: CaseState
    origin: CaseOrigin
    question: str
    device_id: str
    age_band: str | None
    decision_id: str | None
    packet_id: str | None
    opened_at: str
    updated_at: str
    closed_at: str | None

    @classmethod
    def of(cls, case: SupportCase) -> CaseView:
        return cls(
            id=case.id,
            user_id=case.user_id,
            state=case.state,
            origin=case.origin,
            question=case.question,
            device_id=case.device_id,
            age_band=case.age_band,
            decision_id=case.decision_id,
            packet_id=case.packet_id,
            opened_at=iso_time(case.opened_at_us),
            updated_at=iso_time(case.updated_at_us),
            closed_at=iso_time(case.closed_at_us),
        )


class CaseFileView(CaseView):
    attempts: list[AttemptView]
    notes: list[NoteView]

    @classmethod
    def of_file(cls, found: CaseFile) -> CaseFileView:
        attempts = [
            AttemptView(
                decision_id=a.decision_id,
                result=a.result,
                reasons=list(a.reasons),
                at=iso_time(a.at_us),
            )
            for a in found.attempts
        ]
        notes = [NoteView.of(note) for note in found.notes]
        return cls(**CaseView.of(found.case).model_dump(), attempts=attempts, notes=notes)


class DayView(Body):
    day: str  # the UTC date
    done: int
    denied: int
    challenged: int


class BandView(Body):
    age_band: str
    attempts: int
    misoperations: int
    misoperation_rate: float | None
    successes: int
    attempts_before_success: float | None
    help_views: int
    hints_shown: int
    hints_dismissed: int
    hints_clicked: int


class DeviceView(Body):
    device_model: str
    platform: str
    done: int
    denied: int
    success_rate: float | None
    mean_latency_seconds: float | None
    baseline_success_percent: str | None
    baseline_latency_seconds: str | None


class CohortView(Body):
    attempts: int
    misoperations: int
    misoperation_rate: float | None

    @classmethod
    def of(cls, figures: CohortFigures) -> CohortView:
        return cls(
            attempts=figures.attempts,
            misoperations=figures.misoperations,
            misoperation_rate=figures.misoperation_rate,
        )


class GuidanceView(Body):
    """Recall decisions by whether a recall guidance bubble had been shown first (R-U5)."""

    with_bubble: CohortView
    no_bubble: CohortView
    reduction: float | None  # 1 - with_bubble's rate / no_bubble's rate
    source_reduction_percent: str

    @classmethod
    def of(cls, figures: GuidanceFigures) -> GuidanceView:
        return cls(
            with_bubble=CohortView.of(figures.with_bubble),
            no_bubble=CohortView.of(figures.no_bubble),
            reduction=figures.reduction,
            source_reduction_percent=SOURCE_REDUCTION_PERCENT,
        )


class MeasuresView(Body):
    """What the operators' dashboard charts."""

    days: list[DayView]
    refusal_causes: dict[str, int]
    age_bands: list[BandView]
    devices: list[DeviceView]
    risk_levels: dict[str, int]
    risk_review_queue: int
    support_queue: int
    guidance: GuidanceView

    @classmethod
    def of(cls, dashboard: Dashboard, risk_queue: int, support_queue: int) -> MeasuresView:
        return cls(
            days=[
                DayView(
                    day=(EPOCH + timedelta(days=d.day)).date().isoformat(),
                    done=d.done,
                    denied=d.denied,
                    challenged=d.challenged,
                )
                for d in dashboard.days
            ],
            refusal_causes=dashboard.causes,
            age_bands=[
                BandView(
                    age_band=b.age_band,
                    attempts=b.attempts,
                    misoperations=b.misoperations,
                    misoperation_rate=b.misoperation_rate,
                    successes=b.successes,
                    attempts_before_success=b.attempts_before_success,
                    help_views=b.help_views,
                    hints_shown=b.hints.get("shown", 0),
                    hints_dismissed=b.hints.get("dismissed", 0),
                    hints_clicked=b.hints.get("clicked", 0),
                )
                for b in dashboard.bands
            ],
            devices=[
                DeviceView(
                    device_model=d.device_model,
                    platform=d.platform,
                    done=d.done,
                    denied=d.denied,
                    success_rate=d.success_rate,
                    mean_latency_seconds=d.mean_latency_seconds,
                    baseline_success_percent=d.baseline.success_percent if d.baseline else None,
                    baseline_latency_seconds=d.baseline.latency_seconds if d.baseline else None,
                )
                for d in dashboard.devices
            ],
            risk_levels={str(level): count for level, count in dashboard.risk_levels.items()},
            risk_review_queue=risk_queue,
            support_queue=support_queue,
            guidance=GuidanceView.of(dashboard.guidance),
        )
