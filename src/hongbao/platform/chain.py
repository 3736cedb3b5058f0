"""Hash chains over event streams: each event of a chained stream hashes the one before it.

A packet's stream (``packet:{id}``) is chained (R-B2): every event written to it, whatever its
type, carries the hash of the stream's previous event and its own, so changing, removing or
reordering any stored event breaks the chain from that event on. The rule, which the Python
client implements again on its own so that a participant need not trust the server's code:

- ``payload_digest`` = lowercase hex SHA-256 of the payload's canonical JSON (UTF-8; keys
  sorted, no blanks, non-ASCII escaped: exactly the stored text);
- ``entry_hash`` = lowercase hex SHA-256 of the UTF-8 bytes of these lines joined by ``\\n``:
  ``hongbao-chain-v1``, the stream, the sequence (decimal), the event type, the time
  (``at_us``, decimal microseconds since the epoch), the previous entry's hash, the payload
  digest;
- the first entry's previous hash is ``GENESIS`` (64 zeros); sequences run 1, 2, 3 … without
  gaps.

Hashing the payload's digest rather than the payload lets a viewer check the links of an
entry whose payload is withheld from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.platform.invariants import invariant

CHAIN_VERSION: Final = "hongbao-chain-v1"
GENESIS: Final = "0" * 64
# The streams whose events are chained: a packet's own stream. A user's feed holds copies of
# packet events and is not chained; its originals are.
CHAINED_PREFIXES: Final = ("packet:",)


def is_chained(stream: str) -> bool:
    return stream.startswith(CHAINED_PREFIXES)


def payload_digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def entry_hash(  # noqa: PLR0917 - the hashed fields, in the documented order
    stream: str,
    sequence: int,
    event_type: str,
    at_us: int,
    previous_hash: str,
    digest: str,
) -> str:
    lines = (CHAIN_VERSION, stream, str(sequence), event_type, str(at_us), previous_hash, digest)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A chained stream's last entry: its sequence and hash (0 and ``GENESIS`` when empty)."""

    sequence: int
    hash: str


EMPTY: Final = ChainHead(0, GENESIS)


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One stored entry as read back: what was hashed, and the hashes stored with it."""

    stream: str
    sequence: int
    event_type: str
    payload: str  # canonical JSON
    at_us: int
    previous_hash: str | None
    hash: str | None


class BreakReason(StrEnum):
    """Why a chain is not intact at an entry."""

    SEQUENCE_GAP = "sequence_gap"  # an entry is missing, or two share a number
    UNCHAINED = "unchained"  # an entry carries no hashes
    PREVIOUS_MISMATCH = "previous_mismatch"  # it does not name the entry before it
    HASH_MISMATCH = "hash_mismatch"  # its content no longer matches its hash


@dataclass(frozen=True, slots=True)
class ChainBreak:
    sequence: int
    reason: BreakReason
    expected: str
    found: str


def first_break(entries: Sequence[ChainEntry]) -> ChainBreak | None:
    """The first entry of a stream (entries in sequence order) where the chain breaks; None
    when every hash recomputes and every entry names the one before it."""
    previous = EMPTY
    for entry in entries:
        found = _break_at(entry, previous)
        if found is not None:
            return found
        previous = ChainHead(entry.sequence, entry.hash or "")
    return None


def _break_at(entry: ChainEntry, previous: ChainHead) -> ChainBreak | None:
    if entry.sequence != previous.sequence + 1:
        return ChainBreak(
            entry.sequence,
            BreakReason.SEQUENCE_GAP,
            str(previous.sequence + 1),
            str(entry.sequence),
        )
    if entry.previous_hash is None or entry.hash is None:
        return ChainBreak(entry.sequence, BreakReason.UNCHAINED, "hashes", "none")
    if entry.previous_hash != previous.hash:
        return ChainBreak(
            entry.sequence, BreakReason.PREVIOUS_MISMATCH, previous.hash, entry.previous_hash
        )
    recomputed = entry_hash(
        entry.stream,
        entry.sequence,
        entry.event_type,
        entry.at_us,
        entry.previous_hash,
        payload_digest(entry.payload),
    )
    if recomputed != entry.hash:
        return ChainBreak(entry.sequence, BreakReason.HASH_MISMATCH, recomputed, entry.hash)
    return None


# The daily root: one hash over the heads of every chain that grew during a day (UTC), chained
# to the previous day's root, so rewriting any chain wholesale (every hash recomputed) changes
# a root that was already recorded and published.
ROOT_VERSION: Final = "hongbao-day-root-v1"


@dataclass(frozen=True, slots=True)
class StreamHead:
    """A chain's head as of a day's end."""

    stream: str
    sequence: int
    hash: str


def day_root(day: str, previous_root: str, heads: Iterable[StreamHead]) -> tuple[str, int]:
    """The root of ``day`` (``YYYY-MM-DD``) and how many heads it covers. ``heads`` must come
    sorted by stream in code point order; the first recorded day's previous root is
    ``GENESIS``."""
    digest = hashlib.sha256(f"{ROOT_VERSION}\n{day}\n{previous_root}\n".encode())
    count = 0
    last_stream = ""
    for head in heads:
        invariant(head.stream > last_stream, "a day's heads come sorted, one per stream")
        digest.update(f"{head.stream} {head.sequence} {head.hash}\n".encode())
        last_stream = head.stream
        count += 1
    return digest.hexdigest(), count
