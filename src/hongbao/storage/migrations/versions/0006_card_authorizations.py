"""Card-funded packets: the funding kind on every packet and one authorization per card packet.

Revision ID: 0006_card_authorizations
Revises: 0005_packets
Create Date: 2026-11-29

Packets sent before this revision were all funded from a balance or money-market source; the
column's default records that for them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_card_authorizations"
down_revision = "0005_packets"
branch_labels = None
depends_on = None

ID = 128
FUNDING_KINDS = "'balance', 'money_market', 'debit_card', 'credit_card', 'foreign_card'"


def upgrade() -> None:
    # One statement both engines accept; SQLite cannot add a constraint to an existing table
    # any other way without rebuilding it.
    op.execute(
        "ALTER TABLE packets ADD COLUMN funding_kind VARCHAR(16) NOT NULL DEFAULT 'balance' "
        f"CONSTRAINT packet_funding_kind_known CHECK (funding_kind IN ({FUNDING_KINDS}))"
    )
    op.create_table(
        "packet_authorizations",
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), primary_key=True),
        sa.Column(
            "card_account_id", sa.String(ID), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column("charge_currency", sa.String(3), nullable=False),
        sa.Column("authorized_minor", sa.BigInteger, nullable=False),
        sa.Column("charged_minor", sa.BigInteger, nullable=False),
        sa.Column("packet_currency", sa.String(3), nullable=False),
        sa.Column("fx_rate", sa.String(40)),
        sa.Column("fx_rate_as_of_us", sa.BigInteger),
        sa.Column("fx_rate_source", sa.String(256)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("window_ends_at_us", sa.BigInteger, nullable=False),
        sa.Column("backstop_at_us", sa.BigInteger, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("closed_at_us", sa.BigInteger),
        sa.CheckConstraint(
            "state IN ('held', 'captured', 'released')", name="authorization_state_known"
        ),
        sa.CheckConstraint(
            "authorized_minor >= 1 AND charged_minor BETWEEN 0 AND authorized_minor",
            name="authorization_charged_within_authorized",
        ),
        sa.CheckConstraint(
            "(state = 'held') = (closed_at_us IS NULL)", name="authorization_closed_when_not_held"
        ),
        sa.CheckConstraint(
            "(fx_rate IS NULL) = (fx_rate_as_of_us IS NULL)", name="authorization_rate_complete"
        ),
        sa.CheckConstraint("sequence >= 0", name="authorization_sequence"),
    )
    # The capture job and the verifier look for windows that are still open.
    op.create_index(
        "packet_authorizations_held",
        "packet_authorizations",
        ["window_ends_at_us"],
        postgresql_where=sa.text("state = 'held'"),
        sqlite_where=sa.text("state = 'held'"),
    )


def downgrade() -> None:
    op.drop_table("packet_authorizations")
    op.drop_column("packets", "funding_kind")
