"""A packet's tamper-evident history, fetched and verified on the participant's side (R-B2).

The server hashes every event of a packet into a chain; this module recomputes every hash
from what the server sent, with its own code, so that a participant does not have to trust
the server's checks. The rule (``hongbao-chain-v1``, docs/packet-history.md): an entry's hash
is the SHA-256 of these lines joined by newlines, as UTF-8: ``hongbao-chain-v1``, the stream
``packet:{id}``, the sequence, the event type, the time in microseconds, the previous entry's
hash (64 zeros for the first), and the SHA-256 of the payload's canonical JSON text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from pydantic import StrictInt

from hongbao.client.models import Model

CHAIN_VERSION: Final = "hongbao-chain-v1"
GENESIS: Final = "0" * 64


class HistoryEntry(Model):
    sequence: StrictInt
    event_type: str
    at_us: StrictInt
    payload: str | None  # canonical JSON text; None when withheld from the caller
    payload_digest: str
    previous_hash: str | None
    hash: str | None


class ChainHead(Model):
    sequence: StrictInt
    hash: str


class PacketHistory(Model):
    packet_id: str
    stream: str
    chain: str
    entries: list[HistoryEntry]
    head: ChainHead


@dataclass(frozen=True, slots=True)
class Verdict:
    """``intact``, or the first entry where the chain breaks and why."""

    intact: bool
    entries: int
    broken_at: int | None = None  # the sequence of the first broken entry
    reason: str | None = None

    def __str__(self) -> str:
        if self.intact:
            return f"intact ({self.entries} entries)"
        return f"broken at entry {self.broken_at}: {self.reason}"


def verify(history: PacketHistory) -> Verdict:
    """Recompute every link and hash of ``history`` and its head."""
    if history.chain != CHAIN_VERSION:
        return Verdict(False, len(history.entries), 0, f"unknown chain rule {history.chain!r}")
    previous_sequence, previous_hash = 0, GENESIS
    for entry in history.entries:
        reason = _broken(history.stream, entry, previous_sequence, previous_hash)
        if reason is not None:
            return Verdict(False, len(history.entries), entry.sequence, reason)
        previous_sequence, previous_hash = entry.sequence, entry.hash or ""
    if (history.head.sequence, history.head.hash) != (previous_sequence, previous_hash):
        return Verdict(
            False,
            len(history.entries),
            history.head.sequence,
            "the head does not name the last entry",
        )
    return Verdict(True, len(history.entries))


def _broken(
    stream: str, entry: HistoryEntry, previous_sequence: int, previous_hash: str
) -> str | None:
    if entry.sequence != previous_sequence + 1:
        return f"expected entry {previous_sequence + 1}, found {entry.sequence}"
    if entry.previous_hash is None or entry.hash is None:
        return "the entry carries no hashes"
    if entry.previous_hash != previous_hash:
        return "it does not name the previous entry's hash"
    if entry.payload is not None and _sha256(entry.payload) != entry.payload_digest:
        return "its payload does not match its digest"
    lines = (
        CHAIN_VERSION,
        stream,
        str(entry.sequence),
        entry.event_type,
        str(entry.at_us),
        entry.previous_hash,
        entry.payload_digest,
    )
    if _sha256("\n".join(lines)) != entry.hash:
        return "its content does not match its hash"
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
