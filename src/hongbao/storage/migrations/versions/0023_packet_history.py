"""A packet's events form a hash chain; a day's root over the chains' heads is recorded.

Revision ID: 0023_packet_history
Revises: 0022_support_measures
Create Date: 2026-12-05

Each event of a packet's stream carries the previous event's hash and its own (R-B2, the rule
in ``hongbao.platform.chain``). The events written before this revision are chained here, in
stream order, so every packet's chain starts at its first event. An index on the chained
events' time serves the daily root; the roots are kept one row per day.
"""

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from hongbao.platform.chain import GENESIS, entry_hash, payload_digest

revision = "0023_packet_history"
down_revision = "0022_support_measures"
branch_labels = None
depends_on = None

HASH = 64
PAGE = 1_000


def upgrade() -> None:
    op.add_column("platform_outbox_events", sa.Column("previous_hash", sa.String(HASH)))
    op.add_column("platform_outbox_events", sa.Column("entry_hash", sa.String(HASH)))
    _chain_existing_events()
    op.create_index(
        "platform_outbox_chained_by_time",
        "platform_outbox_events",
        ["created_at_us", "stream", "stream_sequence"],
        postgresql_where=sa.text("entry_hash IS NOT NULL"),
        sqlite_where=sa.text("entry_hash IS NOT NULL"),
    )
    op.create_table(
        "packet_history_roots",
        sa.Column("day", sa.String(10), primary_key=True),  # YYYY-MM-DD, UTC
        sa.Column("previous_root", sa.String(HASH), nullable=False),
        sa.Column("root", sa.String(HASH), nullable=False),
        sa.Column("head_count", sa.BigInteger, nullable=False),
        sa.Column("recorded_at_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("packet_history_roots")
    op.drop_index("platform_outbox_chained_by_time", table_name="platform_outbox_events")
    op.drop_column("platform_outbox_events", "entry_hash")
    op.drop_column("platform_outbox_events", "previous_hash")


def _chain_existing_events() -> None:
    """Hash every packet stream's events in order, a page at a time."""
    connection = op.get_bind()
    update = sa.text(
        "UPDATE platform_outbox_events SET previous_hash = :previous, entry_hash = :own"
        " WHERE id = :id"
    )
    previous_stream = ""
    previous_hash = GENESIS
    for row in _packet_events(connection):
        event_id, stream, sequence, event_type, payload, at_us = row
        if stream != previous_stream:
            previous_stream, previous_hash = stream, GENESIS
        own = entry_hash(
            stream, sequence, event_type, at_us, previous_hash, payload_digest(payload)
        )
        connection.execute(update, {"previous": previous_hash, "own": own, "id": event_id})
        previous_hash = own


def _packet_events(connection: Any) -> Iterator[tuple[Any, ...]]:
    after: tuple[str, int] = ("", 0)
    page = sa.text(
        "SELECT id, stream, stream_sequence, event_type, payload, created_at_us"
        " FROM platform_outbox_events WHERE stream LIKE 'packet:%'"
        " AND (stream > :stream OR (stream = :stream AND stream_sequence > :sequence))"
        " ORDER BY stream, stream_sequence LIMIT :limit"
    )
    while True:
        rows = connection.execute(
            page, {"stream": after[0], "sequence": after[1], "limit": PAGE}
        ).fetchall()
        yield from (tuple(row) for row in rows)
        if len(rows) < PAGE:
            return
        after = (rows[-1][1], rows[-1][2])
