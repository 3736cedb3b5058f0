"""The send-time guard (R-B1) on the command line: a stopped send's reasons, a recorded
decision, and delivery times read as Beijing time."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from hongbao.entrypoints.cli.render import SHANGHAI, local_time
from hongbao.entrypoints.cli.session import console
from hongbao.packets.errors import PacketCode
from hongbao.packets.guard import GuardDecision, explain
from hongbao.packets.guarding import GuardStop
from hongbao.packets.model import Packet
from hongbao.packets.split import PacketError
from hongbao.platform.clock import from_datetime

CONFIRMATION_NEEDED_STATUS: Final = 409
OK: Final = 200


def parse_local_time(text: str) -> int:
    """An ISO-8601 moment; without an offset it is Beijing time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise PacketError(
            f"--deliver-at {text!r} is not a time such as 2026-12-06T08:00",
            code=PacketCode.INVALID,
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return from_datetime(moment)


def guard_status(outcome: Packet | GuardStop) -> int:
    """A stopped send is kept as the key's answer (with its decision) but is no success."""
    return CONFIRMATION_NEEDED_STATUS if isinstance(outcome, GuardStop) else OK


def show_guard_stop(stop: GuardStop) -> None:
    decision = stop.decision
    _zh, en = explain(decision)
    console.print(f"confirmation needed ({PacketCode.CONFIRMATION_NEEDED.value}): nothing sent")
    for reason in en:
        console.print(f"  - {reason}")
    offered = local_time(decision.offered_at_us)
    console.print(
        f"decision {decision.decision_id}; run it again with --confirm to send now, or "
        f"--deliver-at {offered.replace(' ', 'T')} to send at {offered} Beijing time"
    )


def show_guard_decision(decision: GuardDecision) -> None:
    zh, en = explain(decision)
    console.print(
        f"{decision.decision_id}: {decision.outcome} for packet {decision.packet_id} from "
        f"{decision.sender_id} under policy {decision.policy_version} at "
        f"{local_time(decision.created_at_us)}"
    )
    signals = decision.signal_map()
    for check in signals["checks"]:
        mark = "hit" if check["hit"] else "-"
        console.print(
            f"  {check['reason']}: {check['value']} (threshold {check['threshold']}) {mark}"
        )
    regret = signals["regret"]
    console.print(f"  regret score {regret['score']} (threshold {regret['threshold']}):")
    for term in regret["terms"]:
        console.print(
            f"    {term['term']}: {term['ratio_per_mille']}/1000 x {term['weight']} "
            f"= {term['points']} points"
        )
    for chinese, english in zip(zh, en, strict=True):
        console.print(f"  {english} / {chinese}")
    console.print(f"  offered delivery: {local_time(decision.offered_at_us)}")
