# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The review queue of risk control (R-K5): held refunds and locked devices wait here with
their evidence for an operator, whose every decision is kept on the case (who, when, why).

- release: a held refund moves on at once (out of the risk-hold account, planned and carried
  out as any held refund); a hold nobody decides on is released at its release time;
- confirm: the case is suspicious; the money stays held (a later release still moves it), and
  with ``escalate`` the account is frozen for money-moving operations (level 4);
- unlock: a locked device may send, claim and recall again.

A user may also unlock their own locked device with a face verification (R-K1's "the user's
step-up"): a passed face check opened on that device for ``unlock_purpose(device_id)`` is spent
on the unlock, and the lock's case is decided by the user, the check named in its note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from hongbao.identity.devices import DeviceFingerprint
from hongbao.identity.service import set_status_in
from hongbao.identity.step_up import lock_challenge, spend_challenge
from hongbao.identity.users import UserStatus
from hongbao.identity.verification import ChallengeKind, ConsumeRequest, ConsumeResult
from hongbao.packets.service import PacketService
from hongbao.platform.clock import Clock
from hongbao.platform.errors import ErrorCode, HongbaoError, Outcome
from hongbao.platform.invariants import present
from hongbao.recall.ports import Database, UnitOfWork
from hongbao.risk.cases import CaseKind, CaseState, DeviceLock, LockState, RiskCase
from hongbao.risk.profile import MICROSECONDS_PER_DAY
from hongbao.risk.stats import MAX_STATS_DAYS, ReviewStats, review_stats

MAX_NOTE_LENGTH: Final = 500
MAX_QUEUE: Final = 500
DEFAULT_STATS_DAYS: Final = 30


class ReviewCode(ErrorCode):
    UNKNOWN_CASE = (
        "risk.unknown_case",
        Outcome.NOT_FOUND,
        "没有这个风控审核记录。",
        "There is no such risk review case.",
    )
    CASE_DECIDED = (
        "risk.case_decided",
        Outcome.CONFLICT,
        "这个风控审核记录已处理，不能再这样处理。",
        "This case has been decided and cannot take that decision now.",
    )
    DEVICE_NOT_LOCKED = (
        "risk.device_not_locked",
        Outcome.CONFLICT,
        "这台设备没有被风控锁定，无需解锁。",
        "This device is not locked by risk control; there is nothing to unlock.",
    )
    UNLOCK_NOT_VERIFIED = (
        "risk.unlock_not_verified",
        Outcome.REFUSED,
        "解锁需要在这台设备上完成一次人脸验证（用途 unlock:设备号），且该验证未被使用过。",
        "Unlocking needs a passed face verification opened on this device for "
        "'unlock:<device id>' and not used before.",
    )
    NOTE_INVALID = (
        "risk.note_invalid",
        Outcome.REFUSED,
        "处理说明为必填项，且不超过 500 个字符。",
        "A decision needs a note of 1 to 500 characters.",
    )


class ReviewError(HongbaoError):
    code = ReviewCode.UNKNOWN_CASE


@dataclass
class ReviewDesk:
    database: Database
    clock: Clock
    packets: PacketService

    def queue(self, state: CaseState = CaseState.OPEN, limit: int = 100) -> list[RiskCase]:
        bounded = max(1, min(limit, MAX_QUEUE))
        return self.database.read(lambda uow: uow.risk.cases_in(state.value, limit=bounded))

    def stats(self, days: int = DEFAULT_STATS_DAYS) -> ReviewStats:
        """The trigger rate and the precision of level >= 2 over the last ``days`` whole UTC
        days, today included (R-K6): decisions as the analysis tallied them, cases opened."""
        bounded = max(1, min(days, MAX_STATS_DAYS))
        today = self.clock.now_us() // MICROSECONDS_PER_DAY
        first = today - bounded + 1

        def read(uow: UnitOfWork) -> ReviewStats:
            tallies = uow.risk.daily.get_many([(day,) for day in range(first, today + 1)])
            cases = uow.risk.case_tally(first * MICROSECONDS_PER_DAY)
            return review_stats(bounded, tallies.values(), cases)

        return self.database.read(read)

    def case(self, case_id: str) -> RiskCase:
        return self.database.read(lambda uow: _case(uow, case_id))

    def release(self, case_id: str, operator: str, note: str) -> RiskCase:
        """Move a held refund on now (from an open or a confirmed case)."""

        def work(uow: UnitOfWork, case: RiskCase, now_us: int) -> CaseState:
            _expect(case, CaseKind.HOLD, {CaseState.OPEN, CaseState.CONFIRMED})
            refund_id = present(case.refund_id, "a hold case names its refund", case_id=case.id)
            self.packets.release_risk_hold(uow, refund_id, now_us)
            return CaseState.RELEASED

        return self._decide(case_id, operator, note, work)

    def confirm(self, case_id: str, operator: str, note: str, *, escalate: bool) -> RiskCase:
        """Mark a hold suspicious: its money stays held; ``escalate`` freezes the account."""

        def work(uow: UnitOfWork, case: RiskCase, _now_us: int) -> CaseState:
            _expect(case, CaseKind.HOLD, {CaseState.OPEN})
            if not escalate:
                return CaseState.CONFIRMED
            reason = f"risk review {case.id}: {note}"[:MAX_NOTE_LENGTH]
            set_status_in(uow.identity, case.user_id, UserStatus.FROZEN, reason)
            return CaseState.BLOCKED

        return self._decide(case_id, operator, note, work)

    def unlock(self, case_id: str, operator: str, note: str) -> RiskCase:
        """Let a locked device act again."""

        def work(uow: UnitOfWork, case: RiskCase, now_us: int) -> CaseState:
            _expect(case, CaseKind.LOCK, {CaseState.OPEN})
            lock = uow.risk.locks.lock(case.device_id, case.sim_id)
            if lock is not None and lock.is_locked:
                uow.risk.locks.replace(
                    replace(
                        lock,
                        state=LockState.UNLOCKED,
                        unlocked_at_us=now_us,
                        unlocked_by=operator,
                    )
                )
            return CaseState.UNLOCKED

        return self._decide(case_id, operator, note, work)

    def unlock_with_face(
        self, user_id: str, device: DeviceFingerprint, challenge_id: str
    ) -> DeviceLock:
        """The user's own unlock of their locked ``device`` by a passed face check (see the
        module's description); the check is spent in the same transaction as the unlock."""

        def unlock(uow: UnitOfWork) -> DeviceLock:
            now_us = self.clock.now_us()
            lock = uow.risk.locks.lock(device.device_id, device.sim_id)
            if lock is None or not lock.is_locked or lock.user_id != user_id:
                raise ReviewError(
                    f"device {device.device_id} is not locked for {user_id}",
                    code=ReviewCode.DEVICE_NOT_LOCKED,
                )
            _spend_face(uow, user_id, device, challenge_id, now_us)
            unlocked = replace(
                lock, state=LockState.UNLOCKED, unlocked_at_us=now_us, unlocked_by=user_id
            )
            uow.risk.locks.replace(unlocked)
            case = uow.risk.cases.lock(f"lock:{lock.decision_id}")
            if case is not None and case.state is CaseState.OPEN:
                note = f"unlocked by the user's face verification {challenge_id}"
                uow.risk.cases.replace(
                    replace(
                        case,
                        state=CaseState.UNLOCKED,
                        decided_by=user_id,
                        decided_at_us=now_us,
                        note=note,
                    )
                )
            return unlocked

        return self.database.transact(unlock)

    def _decide(
        self,
        case_id: str,
        operator: str,
        note: str,
        work: Callable[[UnitOfWork, RiskCase, int], CaseState],
    ) -> RiskCase:
        if not note.strip() or len(note) > MAX_NOTE_LENGTH:
            raise ReviewError("a decision needs a note", code=ReviewCode.NOTE_INVALID)

        def decide(uow: UnitOfWork) -> RiskCase:
            now_us = self.clock.now_us()
            case = _case(uow, case_id, lock=True)
            state = work(uow, case, now_us)
            decided = replace(
                case, state=state, decided_by=operator, decided_at_us=now_us, note=note
            )
            uow.risk.cases.replace(decided)
            return decided

        return self.database.transact(decide)


def unlock_purpose(device_id: str) -> str:
    """What a face check opened to unlock ``device_id`` is for (its ``purpose``)."""
    return f"unlock:{device_id}"


def _spend_face(
    uow: UnitOfWork, user_id: str, device: DeviceFingerprint, challenge_id: str, now_us: int
) -> None:
    challenge = lock_challenge(uow.identity, challenge_id)
    request = ConsumeRequest(user_id, device, unlock_purpose(device.device_id), ChallengeKind.FACE)
    result = (
        None if challenge is None else spend_challenge(uow.identity, challenge, request, now_us)
    )
    if result is not ConsumeResult.CONSUMED:
        raise ReviewError(
            f"check {challenge_id} cannot unlock: {result.value if result else 'unknown'}",
            code=ReviewCode.UNLOCK_NOT_VERIFIED,
            challenge_id=challenge_id,
            result=result.value if result else "unknown",
        )


def _case(uow: UnitOfWork, case_id: str, *, lock: bool = False) -> RiskCase:
    case = uow.risk.cases.lock(case_id) if lock else uow.risk.cases.get(case_id)
    if case is None:
        raise ReviewError(f"no risk case {case_id!r}", code=ReviewCode.UNKNOWN_CASE)
    return case


def _expect(case: RiskCase, kind: CaseKind, states: set[CaseState]) -> None:
    if case.kind is not kind or case.state not in states:
        raise ReviewError(
            f"case {case.id} is a {case.kind.value} case, {case.state.value}",
            code=ReviewCode.CASE_DECIDED,
        )
