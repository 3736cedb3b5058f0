"""A requester's risk profile: what the rules measure, kept in one row per user so that the
money path reads it in O(1) and updates it in the recall's own transaction (R-K2).

Bounded by construction: the times of the last ``MAX_ATTEMPTS_KEPT`` recall requests (the
attempt rule needs at most its threshold of them), the amounts recalled per day for the last
``MAX_DAYS_KEPT`` days (the cumulative rule counts whole days, UTC), and the last place a
request reported, with its time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Final

from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.policy.document import RiskPolicy
from hongbao.risk.geo import Place, distance_km
from hongbao.risk.model import RiskHistory

MAX_ATTEMPTS_KEPT: Final = 16
MAX_DAYS_KEPT: Final = 32
MICROSECONDS_PER_MINUTE: Final = 60 * MICROSECONDS_PER_SECOND
MICROSECONDS_PER_DAY: Final = 24 * 60 * MICROSECONDS_PER_MINUTE


@dataclass(frozen=True, slots=True)
class RiskProfile:
    user_id: str
    attempts: str = "[]"  # JSON: times (µs) of the last recall requests, oldest first
    recalled: str = "{}"  # JSON: {UTC day number: minor units recalled that day}
    place_latitude_e6: int | None = None
    place_longitude_e6: int | None = None
    place_at_us: int | None = None
    updated_at_us: int = 0

    def attempt_times(self) -> list[int]:
        times: list[int] = json.loads(self.attempts)
        return times

    def recalled_by_day(self) -> dict[int, int]:
        return {int(day): minor for day, minor in json.loads(self.recalled).items()}

    def place(self) -> Place | None:
        if self.place_latitude_e6 is None or self.place_longitude_e6 is None:
            return None
        return Place(self.place_latitude_e6, self.place_longitude_e6)

    def with_attempt(self, now_us: int, place: Place | None) -> RiskProfile:
        """This profile after a recall request at ``now_us`` from ``place`` (None: unknown,
        which keeps the last known place)."""
        times = [*self.attempt_times(), now_us][-MAX_ATTEMPTS_KEPT:]
        moved = replace(self, attempts=json.dumps(times), updated_at_us=now_us)
        if place is None:
            return moved
        return replace(
            moved,
            place_latitude_e6=place.latitude_e6,
            place_longitude_e6=place.longitude_e6,
            place_at_us=now_us,
        )

    def with_recalled(self, amount_minor: int, now_us: int) -> RiskProfile:
        """This profile after ``amount_minor`` was recalled at ``now_us``."""
        today = now_us // MICROSECONDS_PER_DAY
        days = {
            day: minor
            for day, minor in self.recalled_by_day().items()
            if day > today - MAX_DAYS_KEPT
        }
        days[today] = days.get(today, 0) + amount_minor
        return replace(self, recalled=json.dumps(days, sort_keys=True), updated_at_us=now_us)


def history_of(
    profile: RiskProfile,
    now_us: int,
    place: Place | None,
    amount_minor: int,
    policy: RiskPolicy,
    *,
    device_locked: bool,
    vip: bool,
    new_attempt: bool = True,
) -> RiskHistory:
    """What the rules measure for a request at ``now_us`` (counted as an attempt when it is a
    ``new_attempt``, its ``amount_minor`` as recalled), from the profile as it was before."""
    window_start = now_us - policy.attempt_window_minutes * MICROSECONDS_PER_MINUTE
    earlier = sum(1 for at in profile.attempt_times() if at > window_start)
    attempts = earlier + (1 if new_attempt else 0)
    first_day = now_us // MICROSECONDS_PER_DAY - policy.cumulative_window_days + 1
    recalled = sum(m for day, m in profile.recalled_by_day().items() if day >= first_day)
    return RiskHistory(
        attempts_in_window=attempts,
        recalled_in_window_minor=recalled + amount_minor,
        moved_km=_moved_km(profile, now_us, place, policy),
        device_locked=device_locked,
        vip=vip,
    )


def _moved_km(
    profile: RiskProfile, now_us: int, place: Place | None, policy: RiskPolicy
) -> int | None:
    """Whole kilometres from the last known place, when it was reported within the travel
    window and this request reports one; None otherwise (unknown is never a move)."""
    last, at_us = profile.place(), profile.place_at_us
    if place is None or last is None or at_us is None:
        return None
    if now_us - at_us > policy.travel_window_minutes * MICROSECONDS_PER_MINUTE:
        return None
    return int(distance_km(last, place))
