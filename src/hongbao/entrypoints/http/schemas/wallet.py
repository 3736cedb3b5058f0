"""Bodies of a user's wallet: balances per funding source, movements with their reasons, the
groups a user belongs to."""

from __future__ import annotations

from hongbao.entrypoints.http.schemas import Amount, Body, iso_time
from hongbao.entrypoints.wallet import Frozen, Hold, Movement, SourceBalance, reason_of
from hongbao.platform.i18n import Language
from hongbao.social.groups import Group, GroupType


class FrozenView(Body):
    refund_id: str
    packet_id: str
    amount: Amount
    release_at_us: int
    release_at: str

    @classmethod
    def of(cls, frozen: Frozen, currency: str) -> FrozenView:
        return cls(
            refund_id=frozen.refund_id,
            packet_id=frozen.packet_id,
            amount=Amount.of(frozen.amount_minor, currency),
            release_at_us=frozen.release_at_us,
            release_at=iso_time(frozen.release_at_us),
        )


class HoldView(Body):
    packet_id: str
    amount: Amount
    window_ends_at_us: int
    window_ends_at: str

    @classmethod
    def of(cls, hold: Hold, currency: str) -> HoldView:
        return cls(
            packet_id=hold.packet_id,
            amount=Amount.of(hold.amount_minor, currency),
            window_ends_at_us=hold.window_ends_at_us,
            window_ends_at=iso_time(hold.window_ends_at_us),
        )


class BalanceView(Body):
    source_id: str
    kind: str  # balance | money_market | debit_card | credit_card | foreign_card | budget
    balance: Amount  # held (balance, 零钱通, budget) or paid so far (a card)
    available: Amount  # what may still be spent (0 for a card: its bank decides)
    frozen: list[FrozenView]  # 零钱通 refunds waiting for the next confirmation time
    frozen_total: Amount
    holds: list[HoldView]  # a card's open holds (card-funded packets inside their window)
    held_total: Amount

    @classmethod
    def of(cls, balance: SourceBalance) -> BalanceView:
        currency = balance.currency
        return cls(
            source_id=balance.source_id,
            kind=balance.kind.value,
            balance=Amount.of(balance.balance_minor, currency),
            available=Amount.of(balance.available_minor, currency),
            frozen=[FrozenView.of(entry, currency) for entry in balance.frozen],
            frozen_total=Amount.of(balance.frozen_minor, currency),
            holds=[HoldView.of(entry, currency) for entry in balance.holds],
            held_total=Amount.of(balance.held_minor, currency),
        )


class MovementView(Body):
    source_id: str
    transfer_id: str
    code: int  # the ledger transfer's code (why money moved)
    reason: str  # the code in words, in the request's language
    event: str  # posted | pending (a hold) | post_pending | void_pending | expired
    direction: str  # in | out
    amount: Amount  # unsigned; direction says which way
    packet_id: str | None
    at_us: int
    at: str

    @classmethod
    def of(cls, movement: Movement, language: Language) -> MovementView:
        return cls(
            source_id=movement.source_id,
            transfer_id=movement.transfer_id,
            code=movement.code,
            reason=reason_of(movement.code, language),
            event=movement.event.value,
            direction="out" if movement.amount_minor < 0 else "in",
            amount=Amount.of(abs(movement.amount_minor), movement.currency),
            packet_id=movement.packet_id,
            at_us=movement.at_us,
            at=iso_time(movement.at_us),
        )


class MyGroupView(Body):
    id: str
    name: str
    type: GroupType
    owner_user_id: str

    @classmethod
    def of(cls, group: Group) -> MyGroupView:
        return cls(
            id=group.id, name=group.name, type=group.group_type, owner_user_id=group.owner_user_id
        )
