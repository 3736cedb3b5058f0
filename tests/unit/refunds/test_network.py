"""The simulated card network: idempotent payouts and the declines a drill asks for."""

from __future__ import annotations

import pytest

from hongbao.platform.errors import InvalidInput
from hongbao.refunds.network import PayoutResult, SimulatedCardNetwork
from hongbao.refunds.records import Refund, RefundState
from hongbao.refunds.routes import RefundRoute


def refund(refund_id: str = "recall:p-1", card: str = "card:c-1") -> Refund:
    return Refund(
        id=refund_id,
        packet_id="p-1",
        owner_id="alice",
        route=RefundRoute.DEBIT_CARD,
        currency="CNY",
        amount_minor=100,
        fee_minor=0,
        net_minor=100,
        destination_account_id=card,
        state=RefundState.IN_CLEARING,
        created_at_us=0,
        arrives_at_us=0,
        frozen_until_us=None,
        settled_at_us=None,
        calendar=None,
        substituted=False,
        reason="test",
    )


def test_a_payout_asked_twice_is_accepted_twice_and_made_once() -> None:
    network = SimulatedCardNetwork()
    first, again = network.pay_out(refund()), network.pay_out(refund())
    assert (first.result, again.result) == (PayoutResult.ACCEPTED, PayoutResult.ACCEPTED)
    assert again.message == "already paid out"


def test_a_drill_declines_the_next_payouts_to_one_card_only() -> None:
    network = SimulatedCardNetwork()
    network.decline("card:c-1", times=2, message="issuer timeout")
    results = [network.pay_out(refund()).result for _ in range(3)]
    assert results == [PayoutResult.DECLINED_TEMPORARILY] * 2 + [PayoutResult.ACCEPTED]
    assert network.pay_out(refund("recall:p-2", "card:c-2")).result is PayoutResult.ACCEPTED


def test_a_closed_card_declines_for_good() -> None:
    network = SimulatedCardNetwork()
    network.close_card("card:c-1")
    outcomes = [network.pay_out(refund()) for _ in range(3)]
    assert {outcome.result for outcome in outcomes} == {PayoutResult.DECLINED_PERMANENTLY}
    assert outcomes[0].message == "the card is closed"


@pytest.mark.parametrize("times", [0, -1, 1_001, True, "2"])
def test_a_drill_takes_a_sensible_count(times: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        SimulatedCardNetwork().decline("card:c-1", times)  # type: ignore[arg-type]
    assert raised.value.code == "refunds.drill_invalid"
