"""A user's wallet as people read it: what each funding source holds and every movement of
money with its reason. The HTTP API (``/v1/me/balances``, ``/v1/me/movements``), the web
console and ``hongbao users show`` all answer from here, so they never disagree.

Amounts are integer minor units. A user balance (零钱) and a 零钱通 account hold credits; a
card is an external source, so what it has paid is its debits and an open hold is a pending
debit (the unclaimed part of a card-funded packet inside its capture window). A 零钱通 refund
waits in refund clearing until the account's next confirmation time: it is shown as frozen with
its release time, not yet in the balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hongbao.bootstrap import Services
from hongbao.funding.sources import FundingKind, FundingSource
from hongbao.ledger.model import Account, Posting, PostingEvent, Transfer
from hongbao.packets.authorization import AuthorizationState
from hongbao.platform.i18n import Language
from hongbao.refunds.records import RefundState

MAX_MOVEMENTS: Final = 200
CARD_KINDS: Final = frozenset(
    {FundingKind.DEBIT_CARD, FundingKind.CREDIT_CARD, FundingKind.FOREIGN_CARD}
)
# Packets looked at for open card holds: holds last minutes, so the newest sends suffice.
HOLD_SCAN: Final = 100

# Why money moved, by the ledger transfer's code (packets/authorization.py,
# refunds/settlement.py, distribution/model.py, the demo's funding), in zh and en.
REASONS: Final[dict[int, tuple[str, str]]] = {
    1: ("充值", "top-up"),
    101: ("发红包", "red packet sent"),
    102: ("领取红包", "red packet share claimed"),
    103: ("红包过期退回", "expired packet refunded"),
    104: ("银行卡预授权", "card hold for a packet"),
    105: ("银行卡扣款", "card charged for claimed shares"),
    106: ("外币换汇", "foreign-currency funding"),
    107: ("撤回退款", "recall refund"),
    108: ("撤回释放预授权", "card hold released by a recall"),
    111: ("撤回退款到账", "refund paid back"),
    112: ("退款进入清算", "refund into clearing"),
    113: ("退款到账", "refund arrived"),
    114: ("退款手续费", "refund fee"),
    115: ("退款换汇", "refund currency exchange"),
    116: ("退款换汇", "refund currency exchange"),
    117: ("汇率差额", "exchange-rate difference"),
    118: ("人工入账到零钱", "credited to balance by support"),
    121: ("预算注资", "budget funded"),
    122: ("预算分配", "budget allocated"),
    123: ("预算追加", "budget topped up"),
    124: ("预算关闭退回", "budget closed, remainder returned"),
    125: ("退款回到预算", "refund back to a budget"),
    126: ("退款逐级返还", "refund passed up a level"),
    127: ("退款返还企业", "refund back to the enterprise"),
}
UNKNOWN_REASON: Final = ("其他", "other")


def reason_of(code: int, language: Language) -> str:
    zh, en = REASONS.get(code, UNKNOWN_REASON)
    return zh if language == "zh" else en


@dataclass(frozen=True, slots=True)
class Frozen:
    """A refund on its way into 零钱通, released at the account's next confirmation."""

    refund_id: str
    packet_id: str
    amount_minor: int
    release_at_us: int


@dataclass(frozen=True, slots=True)
class Hold:
    """The open part of a card-funded packet: released or charged when its window ends."""

    packet_id: str
    amount_minor: int
    window_ends_at_us: int


@dataclass(frozen=True, slots=True)
class SourceBalance:
    source_id: str
    kind: FundingKind
    currency: str
    balance_minor: int  # held (balance, 零钱通, budget) or paid so far (a card)
    available_minor: int  # what may still be spent (cards: not bounded by hongbao)
    frozen: tuple[Frozen, ...] = ()
    holds: tuple[Hold, ...] = ()

    @property
    def frozen_minor(self) -> int:
        return sum(entry.amount_minor for entry in self.frozen)

    @property
    def held_minor(self) -> int:
        return sum(entry.amount_minor for entry in self.holds)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to one of the user's accounts: + in, - out (a hold placed is -, a hold
    released is +)."""

    source_id: str
    transfer_id: str
    code: int
    event: PostingEvent
    amount_minor: int  # signed, from the user's side
    currency: str
    packet_id: str | None
    at_us: int


def balances(services: Services, user_id: str) -> list[SourceBalance]:
    """What each of ``user_id``'s funding sources holds now (the user must exist)."""
    services.identity.user(user_id)
    sources = services.funding.funding_sources(user_id)
    accounts = services.ledger.accounts([source.ledger_account_id for source in sources])
    frozen = _frozen(services, user_id)
    holds = _holds(services, user_id) if any(s.kind in CARD_KINDS for s in sources) else {}
    answer = []
    for source in sources:
        account = accounts.get(source.ledger_account_id)
        answer.append(_balance(source, account, frozen.get(source.ledger_account_id, ()), holds))
    return answer


def _balance(
    source: FundingSource,
    account: Account | None,
    frozen: tuple[Frozen, ...],
    holds: dict[str, tuple[Hold, ...]],
) -> SourceBalance:
    currency = source.currency if account is None else account.currency
    if account is None:  # a source whose account was never opened holds nothing
        return SourceBalance(source.id, source.kind, currency, 0, 0)
    if source.kind in CARD_KINDS:
        paid = account.debits_posted - account.credits_posted
        return SourceBalance(
            source.id, source.kind, currency, paid, 0, holds=holds.get(source.id, ())
        )
    return SourceBalance(
        source.id,
        source.kind,
        currency,
        account.credit_balance,
        account.available_credit_balance,
        frozen=frozen,
    )


def _frozen(services: Services, user_id: str) -> dict[str, tuple[Frozen, ...]]:
    found: dict[str, list[Frozen]] = {}
    for refund in services.refunds.of_owner(user_id):
        if refund.state is RefundState.FROZEN and refund.frozen_until_us is not None:
            found.setdefault(refund.destination_account_id, []).append(
                Frozen(refund.id, refund.packet_id, refund.net_minor, refund.frozen_until_us)
            )
    return {account: tuple(entries) for account, entries in found.items()}


def _holds(services: Services, user_id: str) -> dict[str, tuple[Hold, ...]]:
    found: dict[str, list[Hold]] = {}
    for packet in services.packets.sent_by(user_id, HOLD_SCAN):
        if not packet.is_card_funded:
            continue
        authorization = services.packets.authorization(packet.id)
        if authorization is None or authorization.state is not AuthorizationState.HELD:
            continue
        open_minor = authorization.authorized_minor - authorization.charged_minor
        found.setdefault(packet.funding_source_id, []).append(
            Hold(packet.id, open_minor, authorization.window_ends_at_us)
        )
    return {source: tuple(entries) for source, entries in found.items()}


def movements(services: Services, user_id: str, limit: int = 50) -> list[Movement]:
    """The newest movements over all of ``user_id``'s funding sources, newest first."""
    services.identity.user(user_id)
    limit = max(1, min(limit, MAX_MOVEMENTS))
    sources = services.funding.funding_sources(user_id)
    postings: list[tuple[FundingSource, Posting]] = []
    for source in sources:
        postings.extend(
            (source, posting)
            for posting in services.ledger.history(source.ledger_account_id, limit)
        )
    postings.sort(key=lambda pair: (pair[1].timestamp_us, pair[1].sequence), reverse=True)
    postings = postings[:limit]
    transfers: dict[str, Transfer] = services.database.read(
        lambda uow: uow.ledger.get_transfers({posting.transfer_id for _, posting in postings})
    )
    answer = []
    for source, posting in postings:
        transfer = transfers.get(posting.transfer_id)
        delta = posting.delta
        # Credits are money reaching the user's side and debits money leaving it, for a card
        # too (its debit paid a packet, its credit is a refund); a charged hold moves from
        # pending to posted, so the posted change is the one to show.
        posted = delta.credits_posted - delta.debits_posted
        change = posted or (delta.credits_pending - delta.debits_pending)
        answer.append(
            Movement(
                source.id,
                posting.transfer_id,
                0 if transfer is None else transfer.code,
                posting.event,
                change,
                source.currency if transfer is None else transfer.currency,
                None if transfer is None else transfer.reference,
                posting.timestamp_us,
            )
        )
    return answer
