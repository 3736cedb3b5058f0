"""Red packets and their shares.

Revision ID: 0005_packets
Revises: 0004_outbox
Create Date: 2026-11-29

One claim per user per packet is a unique index on (packet, claimer); shares never hold more
than the packet (CHECKs on the counters, and the ledger's escrow cannot go negative).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_packets"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    op.create_table(
        "packets",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("packet_type", sa.String(16), nullable=False),
        sa.Column("sender_id", sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("share_count", sa.Integer, nullable=False),
        sa.Column("funding_source_id", sa.String(ID), nullable=False),
        sa.Column(
            "source_account_id", sa.String(ID), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column("recipient_id", sa.String(ID), sa.ForeignKey("identity_users.id")),
        sa.Column("group_id", sa.String(ID), sa.ForeignKey("identity_groups.id")),
        sa.Column(
            "escrow_account_id", sa.String(ID), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=False),
        sa.Column("claimed_count", sa.Integer, nullable=False),
        sa.Column("claimed_minor", sa.BigInteger, nullable=False),
        sa.Column("split_algorithm", sa.String(64), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("split_seed", sa.String(256), nullable=False),
        sa.CheckConstraint(
            "packet_type IN ('personal', 'group_normal', 'group_lucky', 'enterprise')",
            name="packet_type_known",
        ),
        sa.CheckConstraint("state IN ('open', 'exhausted', 'expired')", name="packet_state_known"),
        sa.CheckConstraint("total_minor >= share_count AND share_count >= 1", name="packet_total"),
        sa.CheckConstraint(
            "claimed_count BETWEEN 0 AND share_count AND claimed_minor BETWEEN 0 AND total_minor",
            name="packet_claims_within_packet",
        ),
        sa.CheckConstraint(
            "(recipient_id IS NULL) <> (group_id IS NULL)", name="packet_one_audience"
        ),
    )
    op.create_index("packets_sender", "packets", ["sender_id"])
    op.create_table(
        "packet_shares",
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("claimed_by", sa.String(ID), sa.ForeignKey("identity_users.id")),
        sa.Column("claimed_at_us", sa.BigInteger),
        sa.PrimaryKeyConstraint("packet_id", "position"),
        sa.CheckConstraint("amount_minor >= 1", name="share_at_least_one_minor_unit"),
        sa.CheckConstraint(
            "(claimed_by IS NULL) = (claimed_at_us IS NULL)", name="share_claim_complete"
        ),
    )
    # R-P5: one claim per user per packet, enforced by the database.
    op.create_index(
        "packet_shares_one_claim_per_user",
        "packet_shares",
        ["packet_id", "claimed_by"],
        unique=True,
        postgresql_where=sa.text("claimed_by IS NOT NULL"),
        sqlite_where=sa.text("claimed_by IS NOT NULL"),
    )
    op.create_index("packet_shares_claimer", "packet_shares", ["claimed_by"])


def downgrade() -> None:
    op.drop_table("packet_shares")
    op.drop_table("packets")
