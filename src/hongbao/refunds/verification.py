"""The refund half of R-M2, checked against the ledger on one consistent snapshot.

For every refund: its amounts add up (``amount = net + fee``), it refunds exactly what its
packet left unclaimed, it is the packet's only refund, and every hop it records is the ledger
transfer it names (same accounts, same amount). Across refunds: each refund-clearing account
holds exactly the money of the refunds that have not arrived yet — in yuan for refunds on their
way to a balance, a card or the money-market account, in the card's currency for a foreign
card's. Money in clearing that no refund accounts for, or a refund whose money is not there,
is a problem. ``hongbao ledger verify`` runs these checks after the ledger's and the packets'.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from hongbao.money import CURRENCIES
from hongbao.refunds.ports import UnitOfWork
from hongbao.refunds.records import Refund, RefundState
from hongbao.refunds.settlement import clearing_account, risk_hold_account

PAGE_SIZE: Final = 500
MAX_LISTED_PROBLEMS: Final = 100


@dataclass(frozen=True, slots=True)
class RefundProblem:
    check: str
    refund_id: str
    detail: str


@dataclass
class RefundReport:
    refunds: int = 0
    in_flight: int = 0
    problems: list[RefundProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, check: str, refund_id: str, detail: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(RefundProblem(check, refund_id, detail))


def verify_refunds(uow: UnitOfWork) -> RefundReport:
    report = RefundReport()
    expected_clearing: Counter[str] = Counter()
    expected_risk_hold: Counter[str] = Counter()
    refunds_per_packet: Counter[str] = Counter()
    for page in _pages(uow):
        for refund in page:
            report.refunds += 1
            refunds_per_packet[refund.packet_id] += 1
            _check_refund(uow, refund, report)
            if refund.state is RefundState.RISK_HELD:
                report.in_flight += 1
                expected_risk_hold[refund.currency] += refund.amount_minor
            elif not refund.has_arrived:
                report.in_flight += 1
                currency, amount = _in_clearing(refund)
                expected_clearing[currency] += amount
    for packet_id, count in refunds_per_packet.items():
        if count > 1:
            report.add("refund.one_per_packet", packet_id, f"{count} refunds of one packet")
    _check_holding(uow, expected_clearing, report, clearing_account, "refund.clearing")
    _check_holding(uow, expected_risk_hold, report, risk_hold_account, "refund.risk_hold")
    return report


def _pages(uow: UnitOfWork) -> Iterator[list[Refund]]:
    after: str | None = None
    while page := uow.refunds.page(after, limit=PAGE_SIZE):
        yield page
        after = page[-1].id


def _in_clearing(refund: Refund) -> tuple[str, int]:
    """Where a refund that has not arrived keeps its money, and how much of it."""
    if refund.card_currency is not None and refund.card_amount_minor is not None:
        return refund.card_currency, refund.card_amount_minor
    return refund.currency, refund.amount_minor


def _check_refund(uow: UnitOfWork, refund: Refund, report: RefundReport) -> None:
    if refund.amount_minor <= 0 or refund.net_minor + refund.fee_minor != refund.amount_minor:
        report.add(
            "refund.amounts",
            refund.id,
            f"{refund.amount_minor} != {refund.net_minor} + {refund.fee_minor}",
        )
    left = uow.packets.remainder_of(refund.packet_id)
    if left is None or left != refund.amount_minor:
        report.add(
            "refund.remainder", refund.id, f"refunds {refund.amount_minor}, the packet left {left}"
        )
    transfers = uow.ledger.get_transfers([hop.transfer_id for hop in refund.hops])
    for hop in refund.hops:
        transfer = transfers.get(hop.transfer_id)
        recorded = (hop.from_account_id, hop.to_account_id, hop.amount_minor, hop.currency)
        if (
            transfer is None
            or (
                transfer.debit_account_id,
                transfer.credit_account_id,
                transfer.amount,
                transfer.currency,
            )
            != recorded
        ):
            report.add("refund.hop", refund.id, f"{hop.transfer_id}: {transfer}")


_HOLDING_WORDS: Final = {
    "refund.clearing": "clearing holds {held}, refunds on their way {owed}",
    "refund.risk_hold": "the risk hold holds {held}, risk-held refunds {owed}",
}


def _check_holding(
    uow: UnitOfWork,
    expected: Counter[str],
    report: RefundReport,
    account_of: Callable[[str], str],
    check: str,
) -> None:
    """Every currency's holding account (refund clearing, the risk hold) holds exactly the
    money of the refunds waiting in it."""
    ids = {account_of(currency): currency for currency in CURRENCIES}
    accounts = uow.ledger.get_accounts(list(ids))
    for account_id, currency in ids.items():
        account = accounts.get(account_id)
        held = 0 if account is None else account.credit_balance
        owed = expected[currency]
        if held != owed:
            report.add(check, account_id, _HOLDING_WORDS[check].format(held=held, owed=owed))
