"""Transactional outbox: events and their deliveries, one per consumer.

Revision ID: 0004_outbox
Revises: 0003_scheduler
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0003_scheduler"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    op.create_table(
        "platform_outbox_events",
        sa.Column("id", sa.String(2 * ID), primary_key=True),
        sa.Column("stream", sa.String(ID), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(ID), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        # One event per place in its stream: two writers racing on a stream cannot both win.
        sa.UniqueConstraint("stream", "stream_sequence", name="outbox_event_place"),
        sa.CheckConstraint("stream_sequence >= 1", name="outbox_sequence_positive"),
    )
    op.create_table(
        "platform_outbox_deliveries",
        sa.Column("consumer", sa.String(ID), nullable=False),
        sa.Column(
            "event_id",
            sa.String(2 * ID),
            sa.ForeignKey("platform_outbox_events.id"),
            nullable=False,
        ),
        sa.Column("stream", sa.String(ID), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at_us", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.String(2000)),
        sa.Column("delivered_at_us", sa.BigInteger),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')", name="delivery_state_known"
        ),
        sa.CheckConstraint(
            "(state = 'delivered') = (delivered_at_us IS NOT NULL)", name="delivery_completion"
        ),
    )
    op.create_index(
        "platform_outbox_deliveries_stream",
        "platform_outbox_deliveries",
        ["consumer", "stream", "stream_sequence"],
    )
    op.create_index(
        "platform_outbox_deliveries_due",
        "platform_outbox_deliveries",
        ["next_attempt_at_us"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("platform_outbox_deliveries")
    op.drop_table("platform_outbox_events")
