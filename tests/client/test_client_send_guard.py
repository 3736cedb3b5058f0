"""The Python client and the send-time guard (R-B1): a stopped send raises with its reasons and
the offered time; the same key with ``deliver_at`` schedules it, ``cancel_scheduled`` releases
it, and the recorded decision reads back as a typed model."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hongbao.client import ApiError, Client
from hongbao.platform.clock import from_datetime
from tests.client.conftest import Served

BEIJING = ZoneInfo("Asia/Shanghai")


def send_late(client: Client, **options: object) -> object:
    return client.send_packet(
        type="group_normal",
        amount="250.00",
        shares=5,
        funding_source_id="li-wei-balance",
        group_id="xinghe-team",
        key="late",
        **options,  # type: ignore[arg-type]
    )


def test_a_stopped_send_is_delayed_then_cancelled_through_the_client(served: Served) -> None:
    now = datetime.fromtimestamp(served.clock.now_us() / 1_000_000, BEIJING)
    late = from_datetime(now.replace(hour=23, minute=0, second=0, microsecond=0))
    served.clock.advance(microseconds=late - served.clock.now_us())
    client = served.client("li-wei")
    before = served.balance("li-wei")

    with pytest.raises(ApiError) as stopped:
        send_late(client)
    assert stopped.value.code == "packets.confirmation_needed"
    assert stopped.value.details["reasons"] == ["late_night", "large_amount", "guarded_group"]
    decision = client.guard_decision(str(stopped.value.decision_id))
    assert (decision.outcome, decision.reasons) == (
        "confirmation_needed",
        ["late_night", "large_amount", "guarded_group"],
    )

    offered = datetime.fromisoformat(str(stopped.value.details["offered_deliver_at"]))
    packet = client.send_packet(
        type="group_normal",
        amount="250.00",
        shares=5,
        funding_source_id="li-wei-balance",
        group_id="xinghe-team",
        key="late",
        deliver_at=offered,
    )
    assert (packet.state, packet.deliver_at_us) == ("scheduled", from_datetime(offered))
    assert client.packet(packet.id).state == "scheduled"
    cancelled = client.cancel_scheduled(packet.id)
    assert cancelled.state == "cancelled"
    assert served.balance("li-wei") == before
