"""Bodies of a packet's tamper-evident history (R-B2): its chain's entries and head."""

from __future__ import annotations

from hongbao.entrypoints.http.schemas import Body
from hongbao.packets.history import PacketHistory, ShownEntry
from hongbao.platform.chain import CHAIN_VERSION, payload_digest


class HistoryEntryView(Body):
    """One entry: what was hashed, and the hashes stored with it. ``payload`` is the event's
    canonical JSON text exactly as hashed (None when it is the sender's own and withheld from
    the caller); ``payload_digest`` is its SHA-256, which the entry's hash covers."""

    sequence: int
    event_type: str
    at_us: int
    payload: str | None
    payload_digest: str
    previous_hash: str | None
    hash: str | None

    @classmethod
    def of(cls, shown: ShownEntry) -> HistoryEntryView:
        entry = shown.entry
        return cls(
            sequence=entry.sequence,
            event_type=entry.event_type,
            at_us=entry.at_us,
            payload=shown.payload,
            payload_digest=payload_digest(entry.payload),
            previous_hash=entry.previous_hash,
            hash=entry.hash,
        )


class ChainHeadView(Body):
    sequence: int  # 0 for a packet without events
    hash: str


class PacketHistoryView(Body):
    """The packet's chain, in sequence order, and its head (the last entry's hash). The
    hashing rule is named by ``chain`` and described in docs/packet-history.md."""

    packet_id: str
    stream: str
    chain: str
    entries: list[HistoryEntryView]
    head: ChainHeadView

    @classmethod
    def of(cls, history: PacketHistory) -> PacketHistoryView:
        return cls(
            packet_id=history.packet_id,
            stream=f"packet:{history.packet_id}",
            chain=CHAIN_VERSION,
            entries=[HistoryEntryView.of(shown) for shown in history.entries],
            head=ChainHeadView(sequence=history.head.sequence, hash=history.head.hash),
        )
