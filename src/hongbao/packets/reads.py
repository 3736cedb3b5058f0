"""What other contexts read of a packet beyond its row, sent now and answered later.

A recall needs a packet's card authorization and, once someone claimed, when the first claim
landed; it asks through this function, with its other reads, and never reads the packets'
tables itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.model import Packet
from hongbao.packets.ports import PacketTables


@dataclass(frozen=True, slots=True)
class PacketDetails:
    """A packet's card authorization (card-funded packets only) and first claim's time."""

    authorization: CardAuthorization | None
    first_claim_at_us: int | None


def read_packet_details(packets: PacketTables, packet: Packet) -> Callable[[], PacketDetails]:
    """Send the reads; the returned function reads their answers."""
    authorization = (
        packets.authorizations.read_many([(packet.id,)]) if packet.is_card_funded else dict
    )
    # The first claim's time matters only once someone claimed.
    shares = (
        packets.read_shares_of(packet.id, limit=packet.share_count)
        if packet.claimed_count > 0
        else list
    )

    def answer() -> PacketDetails:
        claimed_at = [share.claimed_at_us for share in shares() if share.claimed_at_us is not None]
        return PacketDetails(
            authorization=authorization().get((packet.id,)),
            first_claim_at_us=min(claimed_at) if claimed_at else None,
        )

    return answer
