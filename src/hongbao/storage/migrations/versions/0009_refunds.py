"""Refunds and where each one stands (R-F6).

Revision ID: 0009_refunds
Revises: 0008_due_work_order
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_refunds"
down_revision = "0008_due_work_order"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(ID + 16), primary_key=True),
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("owner_id", sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("fee_minor", sa.BigInteger, nullable=False),
        sa.Column("net_minor", sa.BigInteger, nullable=False),
        sa.Column(
            "destination_account_id",
            sa.String(ID),
            sa.ForeignKey("ledger_accounts.id"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("arrives_at_us", sa.BigInteger, nullable=False),
        sa.Column("frozen_until_us", sa.BigInteger),
        sa.Column("settled_at_us", sa.BigInteger),
        sa.Column("calendar", sa.String(64)),
        sa.Column("substituted", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.CheckConstraint(
            "state IN ('in_clearing', 'frozen', 'settled', 'released')", name="refund_state_known"
        ),
        sa.CheckConstraint(
            "amount_minor >= 1 AND fee_minor >= 0 AND net_minor = amount_minor - fee_minor",
            name="refund_amounts_add_up",
        ),
        sa.CheckConstraint(
            "(state IN ('settled', 'released')) = (settled_at_us IS NOT NULL)",
            name="refund_settled_when_arrived",
        ),
    )
    op.create_index("refunds_owner", "refunds", ["owner_id", "created_at_us"])
    op.create_index("refunds_state", "refunds", ["state"])


def downgrade() -> None:
    op.drop_table("refunds")
