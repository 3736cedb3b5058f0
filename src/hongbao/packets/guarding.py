"""The guard inside a send: the verdict on a send command, the decision kept when it is risky,
the bounds of a delivery time, and the counters a send and a recall add to (R-B1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hongbao.packets.errors import PacketCode
from hongbao.packets.guard import (
    GuardDecision,
    GuardOutcome,
    GuardVerdict,
    SendContext,
    decision_for,
    evaluate,
    explain,
    is_night,
    local_moment,
)
from hongbao.packets.model import Packet
from hongbao.packets.ports import UnitOfWork
from hongbao.packets.regret import (
    EVERYONE,
    SendHabits,
    group_audience,
    person_audience,
    regret_score,
)
from hongbao.packets.split import PacketError
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.policy.document import GuardPolicy, Policy

if TYPE_CHECKING:
    from hongbao.packets.service import SendPacket

MICROSECONDS_PER_HOUR = 3600 * MICROSECONDS_PER_SECOND


def audience_of(command: SendPacket) -> str:
    """Whom a send goes to, as the counters name it: its group, or its recipient."""
    if command.group_id is not None:
        return group_audience(command.group_id)
    return person_audience(command.recipient_id or "")


@dataclass(frozen=True, slots=True)
class GuardStop:
    """A send the guard stopped: nothing moved; the decision is written in the caller's unit."""

    decision: GuardDecision
    zone: str  # the policy's local time zone, in which the offered time is shown

    def error(self) -> PacketError:
        """The answer as a typed refusal: its reasons, values and the delayed send offered."""
        zh, en = explain(self.decision)
        return PacketError(
            "this send needs confirmation: " + "; ".join(en),
            code=PacketCode.CONFIRMATION_NEEDED,
            decision_id=self.decision.decision_id,
            policy_version=self.decision.policy_version,
            reasons=[reason.value for reason in self.decision.reason_list()],
            reasons_zh=zh,
            reasons_en=en,
            offered_deliver_at_us=self.decision.offered_at_us,
            offered_deliver_at=local_moment(self.decision.offered_at_us, self.zone).isoformat(),
        )


def guard_send(
    command: SendPacket,
    policy: Policy,
    now_us: int,
    *,
    group_type: str | None,
    overall: SendHabits,
    towards: SendHabits,
) -> GuardVerdict:
    """The guard's verdict on a send, from its context and the sender's counters."""
    zone = policy.recall.timezone
    at_night = is_night(local_moment(now_us, zone).timetz(), policy.guard)
    score = regret_score(
        overall,
        towards,
        amount_minor=command.amount.minor,
        at_night=at_night,
        policy=policy.guard.regret,
    )
    return evaluate(SendContext(now_us, command.amount, group_type, score), policy.guard, zone)


def _decision(
    verdict: GuardVerdict, outcome: GuardOutcome, command: SendPacket, version: str, now_us: int
) -> GuardDecision:
    return decision_for(
        verdict,
        outcome=outcome,
        packet_id=command.packet_id,
        sender_id=command.sender_id,
        request_digest=command.digest(),
        policy_version=version,
        now_us=now_us,
    )


def stop(
    uow: UnitOfWork, verdict: GuardVerdict, command: SendPacket, policy: Policy, now_us: int
) -> GuardStop:
    decision = _decision(verdict, GuardOutcome.CONFIRMATION_NEEDED, command, policy.version, now_us)
    # The same request evaluated again (a refusal is not kept under a default key) names the
    # same decision: the first record stands.
    if uow.packets.guard_decisions.get(decision.decision_id) is None:
        uow.packets.guard_decisions.insert(decision)
    return GuardStop(decision, policy.recall.timezone)


def record_guarded(
    uow: UnitOfWork, verdict: GuardVerdict, command: SendPacket, version: str, now_us: int
) -> None:
    """A risky send that went ahead is kept too: confirmed, or delayed."""
    if not verdict.risky:
        return
    outcome = GuardOutcome.CONFIRMED if command.deliver_at_us is None else GuardOutcome.DELAYED
    uow.packets.guard_decisions.insert(_decision(verdict, outcome, command, version, now_us))


def check_deliver_at(deliver_at_us: int | None, now_us: int, policy: GuardPolicy) -> int | None:
    """A delayed send's delivery time: after now, at most ``max_delay_hours`` ahead."""
    if deliver_at_us is None:
        return None
    if deliver_at_us <= now_us:
        raise PacketError(
            "deliver_at must be after now", code=PacketCode.DELIVER_AT_PAST, now_us=now_us
        )
    latest_us = now_us + policy.max_delay_hours * MICROSECONDS_PER_HOUR
    if deliver_at_us > latest_us:
        raise PacketError(
            f"deliver_at is at most {policy.max_delay_hours} hours ahead",
            code=PacketCode.DELIVER_AT_TOO_FAR,
            max_delay_hours=policy.max_delay_hours,
            latest_us=latest_us,
        )
    return deliver_at_us


def _audience(packet: Packet) -> str:
    if packet.group_id is not None:
        return group_audience(packet.group_id)
    return person_audience(packet.recipient_id or "")


def sent_counts(packet: Packet, now_us: int) -> list[SendHabits]:
    """What one send adds to its sender's counters, overall and towards its audience."""
    return [
        SendHabits(packet.sender_id, audience, 1, 0, packet.total_minor, now_us)
        for audience in (EVERYONE, _audience(packet))
    ]


def recalled_counts(packet: Packet, now_us: int) -> list[SendHabits]:
    """What one executed recall adds to its sender's counters."""
    return [
        SendHabits(packet.sender_id, audience, 0, 1, 0, now_us)
        for audience in (EVERYONE, _audience(packet))
    ]
