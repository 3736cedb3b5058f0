"""The hash chain's rule (R-B2), pinned: an outside verifier implements it from the docs, so
a changed byte would break every chain already stored. The server's check and the client's
own implementation agree on what is intact and where a chain breaks."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import pytest

from hongbao.client.history import HistoryEntry, PacketHistory, verify
from hongbao.platform.chain import (
    EMPTY,
    GENESIS,
    BreakReason,
    ChainEntry,
    StreamHead,
    day_root,
    entry_hash,
    first_break,
    payload_digest,
)
from hongbao.platform.invariants import InvariantViolation
from hongbao.platform.outbox import NewEvent, number_events

PAYLOAD = '{"packet_id":"p-1","total":3000}'
STREAM = "packet:p-1"


def test_an_entry_hash_is_sha256_over_the_documented_lines() -> None:
    """Version, stream, sequence, type, time, previous hash and payload digest, one a line."""
    digest = hashlib.sha256(PAYLOAD.encode()).hexdigest()
    text = f"hongbao-chain-v1\n{STREAM}\n1\nPacketSent\n1796000000000000\n{GENESIS}\n{digest}"
    assert payload_digest(PAYLOAD) == digest
    assert entry_hash(STREAM, 1, "PacketSent", 1796000000000000, GENESIS, digest) == (
        hashlib.sha256(text.encode()).hexdigest()
    )


def test_a_day_root_hashes_the_day_the_previous_root_and_the_sorted_heads() -> None:
    heads = [StreamHead("packet:a", 3, "1" * 64), StreamHead("packet:b", 1, "2" * 64)]
    text = (
        f"hongbao-day-root-v1\n2026-11-29\n{GENESIS}\n"
        f"packet:a 3 {'1' * 64}\npacket:b 1 {'2' * 64}\n"
    )
    expected = hashlib.sha256(text.encode()).hexdigest()
    assert day_root("2026-11-29", GENESIS, heads) == (expected, 2)
    with pytest.raises(InvariantViolation):
        day_root("2026-11-29", GENESIS, list(reversed(heads)))


def chain_of(count: int) -> list[ChainEntry]:
    """``count`` events numbered and hashed by the outbox, read back as entries."""
    events = [(NewEvent(STREAM, "PacketClaimed", {"n": n}), 1_000 + n, ()) for n in range(count)]
    written, _deliveries = number_events(events, {STREAM: EMPTY}, max_attempts=1)
    return [
        ChainEntry(
            e.stream,
            e.stream_sequence,
            e.event_type,
            e.payload,
            e.created_at_us,
            e.previous_hash,
            e.entry_hash,
        )
        for e in written
    ]


def as_sent(entries: list[ChainEntry]) -> PacketHistory:
    """The entries as the API sends them to a participant who may see every payload."""
    return PacketHistory(
        packet_id="p-1",
        stream=STREAM,
        chain="hongbao-chain-v1",
        entries=[
            HistoryEntry(
                sequence=e.sequence,
                event_type=e.event_type,
                at_us=e.at_us,
                payload=e.payload,
                payload_digest=payload_digest(e.payload),
                previous_hash=e.previous_hash,
                hash=e.hash,
            )
            for e in entries
        ],
        head={"sequence": entries[-1].sequence, "hash": entries[-1].hash},  # type: ignore[arg-type]
    )


def test_the_outbox_numbers_and_links_a_chain_both_checks_call_intact() -> None:
    entries = chain_of(4)
    assert [e.sequence for e in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == GENESIS
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(entries))
    assert first_break(entries) is None
    assert verify(as_sent(entries)).intact


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: replace(e, payload='{"n":99}'), BreakReason.HASH_MISMATCH),
        (lambda e: replace(e, at_us=e.at_us + 1), BreakReason.HASH_MISMATCH),
        (lambda e: replace(e, event_type="PacketRecalled"), BreakReason.HASH_MISMATCH),
        (lambda e: replace(e, previous_hash="f" * 64), BreakReason.PREVIOUS_MISMATCH),
        (lambda e: replace(e, sequence=7), BreakReason.SEQUENCE_GAP),
        (lambda e: replace(e, hash=None), BreakReason.UNCHAINED),
    ],
)
def test_any_change_to_an_entry_breaks_the_chain_at_that_entry_for_both_checks(
    change: object, reason: BreakReason
) -> None:
    entries = chain_of(4)
    entries[2] = change(entries[2])  # type: ignore[operator]
    broken = first_break(entries)
    assert broken is not None
    assert (broken.sequence, broken.reason) == (entries[2].sequence, reason)
    if entries[2].hash is not None:
        assert not verify(as_sent(entries)).intact
