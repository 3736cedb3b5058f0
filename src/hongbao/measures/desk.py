"""The measures desk: notes a help-page view (one counter row, O(1)) and reads the dashboard,
which aggregates the counter rows, the recalls by day, the guidance hints and risk's daily
tallies (reads may aggregate; the money path only ever bumps a row)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from hongbao.identity.reads import find_user
from hongbao.measures.baselines import Baseline, baseline_of
from hongbao.measures.counts import ANY, UNKNOWN_BAND, Count, Labels, Measure, key_of
from hongbao.measures.guidance import CohortFigures, GuidanceCohort, GuidanceFigures
from hongbao.measures.ports import Database, UnitOfWork
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock
from hongbao.recall.explanations import Cause
from hongbao.risk.profile import MICROSECONDS_PER_DAY

MAX_COUNT_ROWS: Final = 10_000
DAYS_SHOWN: Final = 14
RISK_DAYS: Final = 30
RISK_LEVELS: Final = (1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class DayOutcomes:
    day: int  # UTC day number (days since 1970-01-01)
    done: int = 0
    denied: int = 0
    challenged: int = 0


@dataclass(slots=True)
class BandFigures:
    age_band: str
    attempts: int = 0
    successes: int = 0
    misoperations: int = 0
    refused_before_success: int = 0
    help_views: int = 0
    hints: dict[str, int] = field(default_factory=dict)  # shown, dismissed, clicked

    @property
    def misoperation_rate(self) -> float | None:
        return self.misoperations / self.attempts if self.attempts else None

    @property
    def attempts_before_success(self) -> float | None:
        """Recall attempts a success took on average, itself included."""
        if not self.successes:
            return None
        return 1 + self.refused_before_success / self.successes


@dataclass(slots=True)
class DeviceFigures:
    device_model: str
    platform: str
    done: int = 0
    denied: int = 0
    latency_us: int = 0

    @property
    def success_rate(self) -> float | None:
        ended = self.done + self.denied
        return self.done / ended if ended else None

    @property
    def mean_latency_seconds(self) -> float | None:
        return self.latency_us / self.done / MICROSECONDS_PER_SECOND if self.done else None

    @property
    def baseline(self) -> Baseline | None:
        return baseline_of(self.device_model)


@dataclass(frozen=True, slots=True)
class Dashboard:
    days: tuple[DayOutcomes, ...]
    causes: dict[str, int]
    bands: tuple[BandFigures, ...]
    devices: tuple[DeviceFigures, ...]
    risk_levels: dict[int, int]  # decisions at each level over RISK_DAYS days
    counts: tuple[Count, ...]
    guidance: GuidanceFigures


@dataclass
class MeasureDesk:
    database: Database
    clock: Clock

    def note_help_view(self, user_id: str) -> None:
        """A person opened the help page: one more view for their age band."""

        def work(uow: UnitOfWork) -> None:
            user = find_user(uow.identity, user_id)
            band = user.age_band.value if user is not None and user.age_band else UNKNOWN_BAND
            labels = Labels(band)
            row = uow.measures.counts.lock(*key_of(Measure.HELP_VIEW, labels))
            if row is None:
                uow.measures.counts.insert(Count.first(Measure.HELP_VIEW, labels, 0))
            else:
                uow.measures.counts.replace(row.plus(0))

        self.database.transact(work)

    def counts(self) -> list[Count]:
        return self.database.read(lambda uow: uow.measures.all_counts(limit=MAX_COUNT_ROWS))

    def dashboard(self) -> Dashboard:
        today = self.clock.now_us() // MICROSECONDS_PER_DAY

        def read(uow: UnitOfWork) -> Dashboard:
            counts = uow.measures.all_counts(limit=MAX_COUNT_ROWS)
            by_day = uow.measures.recall_outcomes_by_day(
                (today - DAYS_SHOWN + 1) * MICROSECONDS_PER_DAY
            )
            tallies = uow.risk.daily.get_many(
                [(day,) for day in range(today - RISK_DAYS + 1, today + 1)]
            )
            levels = dict.fromkeys(RISK_LEVELS, 0)
            for tally in tallies.values():
                levels[1] += tally.at_level_1
                levels[2] += tally.at_level_2
                levels[3] += tally.at_level_3
                levels[4] += tally.at_level_4
            return Dashboard(
                days=_days(today, by_day),
                causes=_causes(counts),
                bands=_bands(counts, uow.measures.hints_by_band()),
                devices=_devices(counts),
                risk_levels=levels,
                counts=tuple(counts),
                guidance=_guidance(counts),
            )

        return self.database.read(read)


def _days(today: int, rows: list[tuple[int, str, int]]) -> tuple[DayOutcomes, ...]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for day, state, count in rows:
        found[day][state] = found[day].get(state, 0) + count
    return tuple(
        DayOutcomes(
            day,
            found[day].get("done", 0),
            found[day].get("denied", 0),
            found[day].get("challenged", 0),
        )
        for day in range(today - DAYS_SHOWN + 1, today + 1)
    )


def _causes(counts: list[Count]) -> dict[str, int]:
    causes = {cause.value: 0 for cause in Cause}
    for row in counts:
        if row.measure is Measure.REFUSAL_CAUSE and row.detail in causes:
            causes[row.detail] += row.count
    return causes


def _bands(counts: list[Count], hints: list[tuple[str, str, int]]) -> tuple[BandFigures, ...]:
    bands: dict[str, BandFigures] = {}

    def band(name: str) -> BandFigures:
        return bands.setdefault(name, BandFigures(name))

    for row in counts:
        figures = band(row.age_band)
        if row.measure in {Measure.RECALL_DONE, Measure.RECALL_DENIED, Measure.RECALL_CHALLENGED}:
            figures.attempts += row.count
        elif row.measure is Measure.MISOPERATION:
            figures.misoperations += row.count
        elif row.measure is Measure.ATTEMPTS_BEFORE_SUCCESS:
            figures.successes += row.count
            figures.refused_before_success += row.total
        elif row.measure is Measure.HELP_VIEW:
            figures.help_views += row.count
    for name, event, people in hints:
        figures = band(name)
        figures.hints[event] = figures.hints.get(event, 0) + people
    return tuple(bands[name] for name in sorted(bands))


def _devices(counts: list[Count]) -> tuple[DeviceFigures, ...]:
    devices: dict[tuple[str, str], DeviceFigures] = {}
    for row in counts:
        if row.platform == ANY:
            continue
        key = (row.device_model, row.platform)
        figures = devices.setdefault(key, DeviceFigures(*key))
        if row.measure is Measure.RECALL_DONE:
            figures.done += row.count
        elif row.measure is Measure.RECALL_DENIED:
            figures.denied += row.count
        elif row.measure is Measure.RECALL_LATENCY:
            figures.latency_us += row.total
    return tuple(devices[key] for key in sorted(devices))


def _guidance(counts: list[Count]) -> GuidanceFigures:
    """Both guidance cohorts' attempts and misoperations, every age band added up."""
    cohorts = {cohort.value: CohortFigures() for cohort in GuidanceCohort}
    for row in counts:
        figures = cohorts.get(row.detail)
        if figures is None:
            continue
        if row.measure is Measure.COHORT_ATTEMPT:
            figures.attempts += row.count
        elif row.measure is Measure.COHORT_MISOPERATION:
            figures.misoperations += row.count
    return GuidanceFigures(
        with_bubble=cohorts[GuidanceCohort.WITH_BUBBLE.value],
        no_bubble=cohorts[GuidanceCohort.NO_BUBBLE.value],
    )
