"""Delayed sends (R-B1): money reserved at sending, delivered by the scheduler, cancellable for
free until then.

A delayed send is a packet in state ``scheduled``. Its money is reserved at once: from a
balance or 零钱通 by a pending ledger transfer into its escrow; from a card by the card hold, as
for any card send. At ``deliver_at`` the ``packet.deliver`` job posts the reservation (a card's
hold stays open: its window runs from delivery) and the packet opens. Until then the sender
may cancel it: the reservation is voided, so nothing was charged and no fee is due, whatever
the source. Delivery and cancel each lock the packet row first and act only on a scheduled
packet, so when they race exactly one of them happens.

The card rule: a hold is authorized at scheduling. Its window (claims are paid from it, a recall
voids it) ends ``card_authorization_minutes`` after delivery, and its backstop (the
authorization's validity) counts from scheduling. The policy refuses a ``max_delay_hours``
whose delay plus window reaches the backstop, so a hold never outlives its authorization and
no re-authorization is needed. A balance's reservation has the same backstop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import TransferKind, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.packets import authorization as card
from hongbao.packets.authorization import TransferCode
from hongbao.packets.claims import CONSUMERS, refuse
from hongbao.packets.errors import PacketCode
from hongbao.packets.events import (
    PacketDelivered,
    PacketEvent,
    PacketSent,
    ScheduledSendCancelled,
)
from hongbao.packets.model import Packet, PacketState
from hongbao.packets.ports import UnitOfWork
from hongbao.platform.clock import is_due
from hongbao.platform.invariants import invariant, present
from hongbao.platform.outbox import append, new_events
from hongbao.platform.scheduler import schedule_new
from hongbao.policy.document import PacketPolicy

DELIVER_KIND: Final = "packet.deliver"
SECONDS_PER_HOUR: Final = 3600


def _reserved_id(packet_id: str) -> str:
    return f"send:{packet_id}"  # the id an immediate send's transfer has: one per packet


def reservation(packet: Packet, policy: PacketPolicy) -> TransferRequest | None:
    """A delayed send's pending transfer from a balance into escrow; None for any other send."""
    if packet.deliver_at_us is None:
        return None
    return TransferRequest(
        _reserved_id(packet.id),
        TransferCode.SCHEDULED_RESERVE,
        packet.total_minor,
        packet.source_account_id,
        packet.escrow_account_id,
        packet.currency,
        kind=TransferKind.PENDING,
        timeout_seconds=policy.card_hold_backstop_hours * SECONDS_PER_HOUR,
        reference=packet.id,
    )


def schedule_delivery(uow: UnitOfWork, packet: Packet, now_us: int) -> None:
    schedule_new(
        uow.scheduler,
        work_id=f"deliver:{packet.id}",
        kind=DELIVER_KIND,
        payload={"packet_id": packet.id},
        due_at_us=present(packet.deliver_at_us, "a delayed send has its time", packet=packet.id),
        now_us=now_us,
    )


def _publish(uow: UnitOfWork, events: list[PacketEvent], now_us: int) -> None:
    append(uow.outbox, new_events(events), consumers=CONSUMERS, now_us=now_us)


def _settle_reservation(uow: UnitOfWork, packet: Packet, kind: TransferKind, now_us: int) -> None:
    """Post (delivery) or void (cancel) a balance's reservation, or void a card's hold."""
    if packet.is_card_funded:
        if kind is TransferKind.VOID_PENDING:
            authorization = present(
                uow.packets.authorizations.get(packet.id),
                "a card packet has its authorization",
                packet_id=packet.id,
            )
            uow.packets.authorizations.replace(card.release(uow, authorization, now_us))
        return  # delivered: the hold stays, its window runs from now
    posting = kind is TransferKind.POST_PENDING
    request = TransferRequest(
        f"{'deliver' if posting else 'cancel'}:{packet.id}",
        TransferCode.SCHEDULED_DELIVERY if posting else TransferCode.SCHEDULED_CANCEL,
        None,
        kind=kind,
        pending_id=_reserved_id(packet.id),
        reference=packet.id,
    )
    (result,) = ledger_operations.create_transfers(uow.ledger, [request], now_us)
    invariant(
        result.code is TransferResultCode.OK,
        "a delayed send's reservation settles as planned",
        packet_id=packet.id,
        result=result.code.value,
    )


def deliver_handler(uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
    """Scheduler handler: deliver a delayed send, unless its sender cancelled it first."""
    packet_id = str(payload["packet_id"])
    packet = present(
        uow.packets.packets.lock(packet_id), "a delivery for an existing packet", packet=packet_id
    )
    if packet.state is not PacketState.SCHEDULED:
        invariant(
            packet.state is PacketState.CANCELLED,
            "only a cancel beats a delivery",
            packet_id=packet_id,
            state=packet.state.value,
        )
        return
    deliver_at_us = present(packet.deliver_at_us, "a scheduled packet has its time")
    invariant(is_due(deliver_at_us, now_us), "delivery runs when due", packet_id=packet_id)
    _settle_reservation(uow, packet, TransferKind.POST_PENDING, now_us)
    uow.packets.packets.replace(replace(packet, state=PacketState.OPEN))
    events: list[PacketEvent] = [
        PacketDelivered(packet.id, deliver_at_us),
        PacketSent(packet.id, packet.total_minor),
    ]
    _publish(uow, events, now_us)


def cancel_scheduled(uow: UnitOfWork, packet_id: str, sender_id: str, now_us: int) -> Packet:
    """The sender cancels a delayed send before delivery: the reservation is voided (free)."""
    packet = uow.packets.packets.lock(packet_id)
    if packet is None:
        raise refuse(f"no packet {packet_id!r}", PacketCode.UNKNOWN_PACKET)
    if packet.sender_id != sender_id:
        raise refuse("only the sender cancels a delayed send", PacketCode.NOT_THE_SENDER)
    if packet.state is not PacketState.SCHEDULED:
        raise refuse(
            f"packet {packet_id!r} is {packet.state.value}, not a delayed send waiting",
            PacketCode.NOT_SCHEDULED,
            state=packet.state.value,
        )
    _settle_reservation(uow, packet, TransferKind.VOID_PENDING, now_us)
    cancelled = replace(packet, state=PacketState.CANCELLED)
    uow.packets.packets.replace(cancelled)
    _publish(uow, [ScheduledSendCancelled(packet.id, packet.total_minor)], now_us)
    return cancelled
