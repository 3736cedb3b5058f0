"""The packet half of R-M2, checked against the ledger on one consistent snapshot.

For every packet: its shares add up to its total and its counters match its claimed shares;
every claimed share was paid exactly once, by the transfer named for it, from escrow to the
claimer's balance, and no unclaimed share was paid; escrow holds exactly the unclaimed
remainder (nothing once expired); and a card packet whose window is open holds on the card
exactly what is not yet charged. ``hongbao ledger verify`` runs these checks after the ledger's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from hongbao.ledger.model import PendingState
from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.model import Packet, PacketState, Share
from hongbao.packets.ports import UnitOfWork

PAGE_SIZE: Final = 500
# Closed before every share was claimed: escrow gave the remainder back.
# Closed before every share was claimed; a delayed send's escrow is empty until its delivery
# posts the reservation (a card's hold is checked on its own).
CLOSED_EARLY: Final = frozenset(
    {PacketState.EXPIRED, PacketState.RECALLED, PacketState.CANCELLED, PacketState.SCHEDULED}
)
MAX_LISTED_PROBLEMS: Final = 100


@dataclass(frozen=True, slots=True)
class PacketProblem:
    check: str
    packet_id: str
    detail: str


@dataclass
class PacketReport:
    packets: int = 0
    shares: int = 0
    open_card_holds: int = 0
    problems: list[PacketProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, check: str, packet_id: str, detail: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(PacketProblem(check, packet_id, detail))


def verify_packets(uow: UnitOfWork) -> PacketReport:
    report = PacketReport()
    for page in _packet_pages(uow):
        shares = {
            packet.id: uow.packets.shares_of(packet.id, limit=packet.share_count + 1)
            for packet in page
        }
        _check_page(uow, page, shares, report)
    return report


def _packet_pages(uow: UnitOfWork) -> Iterator[list[Packet]]:
    after: tuple[str] | None = None
    while page := uow.packets.packets.page(after, limit=PAGE_SIZE):
        yield page
        after = (page[-1].id,)


def _check_page(
    uow: UnitOfWork, page: list[Packet], shares: dict[str, list[Share]], report: PacketReport
) -> None:
    claim_ids = [f"claim:{p.id}:{s.position}" for p in page for s in shares[p.id]]
    transfers = uow.ledger.get_transfers(claim_ids)
    escrows = uow.ledger.get_accounts([packet.escrow_account_id for packet in page])
    for packet in page:
        report.packets += 1
        report.shares += len(shares[packet.id])
        _check_counters(packet, shares[packet.id], report)
        for share in shares[packet.id]:
            transfer = transfers.get(f"claim:{packet.id}:{share.position}")
            if share.claimed_by is None:
                if transfer is not None:
                    report.add("share.paid_unclaimed", packet.id, f"share {share.position}")
                continue
            expected = (
                packet.escrow_account_id,
                f"user:{share.claimed_by}:balance",
                share.amount_minor,
            )
            if (
                transfer is None
                or (transfer.debit_account_id, transfer.credit_account_id, transfer.amount)
                != expected
            ):
                report.add("share.paid_once", packet.id, f"share {share.position}: {transfer}")
        escrow = escrows.get(packet.escrow_account_id)
        if escrow is None:
            report.add("escrow.missing", packet.id, packet.escrow_account_id)
            continue
        held = _open_hold(uow, packet, report)
        expected_escrow = 0 if held or packet.state in CLOSED_EARLY else packet.remainder_minor
        if escrow.credit_balance != expected_escrow:
            report.add(
                "escrow.remainder",
                packet.id,
                f"escrow holds {escrow.credit_balance}, expected {expected_escrow}",
            )


def _check_counters(packet: Packet, shares: list[Share], report: PacketReport) -> None:
    claimed = [share for share in shares if share.claimed_by is not None]
    facts = (
        len(shares) == packet.share_count,
        sum(share.amount_minor for share in shares) == packet.total_minor,
        len(claimed) == packet.claimed_count,
        sum(share.amount_minor for share in claimed) == packet.claimed_minor,
        (packet.state is PacketState.EXHAUSTED) == (packet.claimed_count == packet.share_count)
        or packet.state in CLOSED_EARLY,
    )
    if not all(facts):
        report.add("packet.counters", packet.id, f"shares and counters disagree: {facts}")


def _open_hold(uow: UnitOfWork, packet: Packet, report: PacketReport) -> bool:
    """True when the packet's card window is open, after checking its hold on the card."""
    if not packet.is_card_funded:
        return False
    authorization = uow.packets.authorizations.get(packet.id)
    if authorization is None:
        report.add("card.authorization_missing", packet.id, "a card packet without its hold")
        return False
    if not authorization.is_held:
        return False
    report.open_card_holds += 1
    _check_hold(uow, authorization, report)
    return True


def _check_hold(uow: UnitOfWork, authorization: CardAuthorization, report: PacketReport) -> None:
    pending = uow.ledger.get_pending([authorization.hold_id]).get(authorization.hold_id)
    if pending is None or pending.state is not PendingState.PENDING:
        report.add("card.hold_open", authorization.packet_id, f"{authorization.hold_id}: {pending}")
    elif pending.amount != authorization.open_minor:
        report.add(
            "card.hold_amount",
            authorization.packet_id,
            f"the card holds {pending.amount}, expected {authorization.open_minor}",
        )
