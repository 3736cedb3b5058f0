"""Refund tracking: held and retried refunds, operator credits, FX rates and clearing hops.

Revision ID: 0010_refund_tracking
Revises: 0009_refunds
Create Date: 2026-11-29

Refunds written before this revision were all started by a recall; ``trigger`` says so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_refund_tracking"
down_revision = "0009_refunds"
branch_labels = None
depends_on = None

ID = 128
OLD_STATES = "'in_clearing', 'frozen', 'settled', 'released'"
NEW_STATES = f"{OLD_STATES}, 'held', 'failed_retrying', 'failed', 'credited'"
OLD_ARRIVED = "(state IN ('settled', 'released')) = (settled_at_us IS NOT NULL)"
NEW_ARRIVED = "(state IN ('settled', 'released', 'credited')) = (settled_at_us IS NOT NULL)"
RATE = 40  # a decimal rate as text


def upgrade() -> None:
    # SQLite cannot change a CHECK in place: batch mode rebuilds the table and copies the rows.
    with op.batch_alter_table("refunds", recreate="auto") as batch:
        batch.add_column(
            sa.Column("trigger", sa.String(16), nullable=False, server_default="recall")
        )
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at_us", sa.BigInteger))
        batch.add_column(sa.Column("last_error", sa.String(512)))
        batch.add_column(sa.Column("card_currency", sa.String(3)))
        batch.add_column(sa.Column("card_amount_minor", sa.BigInteger))
        batch.add_column(sa.Column("rate_at_refund", sa.String(RATE)))
        batch.add_column(sa.Column("rate_at_refund_as_of_us", sa.BigInteger))
        batch.add_column(sa.Column("rate_source", sa.String(64)))
        batch.add_column(sa.Column("rate_at_send", sa.String(RATE)))
        batch.add_column(sa.Column("amount_at_send_rate_minor", sa.BigInteger))
        batch.add_column(sa.Column("fx_difference_minor", sa.BigInteger))
        batch.add_column(sa.Column("hops", sa.Text, nullable=False, server_default="[]"))
        batch.drop_constraint("refund_state_known", type_="check")
        batch.create_check_constraint("refund_state_known", f"state IN ({NEW_STATES})")
        batch.drop_constraint("refund_settled_when_arrived", type_="check")
        batch.create_check_constraint("refund_settled_when_arrived", NEW_ARRIVED)
        batch.create_check_constraint("refund_trigger_known", "trigger IN ('recall', 'expiry')")
        batch.create_check_constraint("refund_attempts_range", "attempts BETWEEN 0 AND 100")
        batch.create_check_constraint(
            "refund_fx_complete",
            "(card_currency IS NULL) = (card_amount_minor IS NULL) "
            "AND (card_currency IS NULL) = (rate_at_refund IS NULL)",
        )
    # The scheduler's retries and the operator's queue read refunds by the next attempt.
    op.create_index("refunds_next_attempt", "refunds", ["state", "next_attempt_at_us"])
    with op.batch_alter_table("recalls", recreate="auto") as batch:
        batch.add_column(sa.Column("refund_id", sa.String(ID + 16)))


def downgrade() -> None:
    with op.batch_alter_table("recalls", recreate="auto") as batch:
        batch.drop_column("refund_id")
    op.drop_index("refunds_next_attempt", "refunds")
    with op.batch_alter_table("refunds", recreate="auto") as batch:
        for name in (
            "refund_fx_complete",
            "refund_attempts_range",
            "refund_trigger_known",
            "refund_settled_when_arrived",
            "refund_state_known",
        ):
            batch.drop_constraint(name, type_="check")
        batch.create_check_constraint("refund_state_known", f"state IN ({OLD_STATES})")
        batch.create_check_constraint("refund_settled_when_arrived", OLD_ARRIVED)
        for column in (
            "hops",
            "fx_difference_minor",
            "amount_at_send_rate_minor",
            "rate_at_send",
            "rate_source",
            "rate_at_refund_as_of_us",
            "rate_at_refund",
            "card_amount_minor",
            "card_currency",
            "last_error",
            "next_attempt_at_us",
            "attempts",
            "trigger",
        ):
            batch.drop_column(column)
