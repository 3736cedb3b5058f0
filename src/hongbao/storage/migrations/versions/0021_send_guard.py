"""The send-time guard (R-B1): delayed sends, the senders' counters and guard decisions.

Revision ID: 0021_send_guard
Revises: 0020_hints_seen
Create Date: 2026-12-05

Packets may be scheduled (money reserved, delivered later) or cancelled before delivery, and
say when they are delivered. ``send_habits`` holds each sender's counters, overall (audience
'') and per group or person, which the regret score reads instead of scanning history.
``guard_decisions`` keeps every risky send's evaluation.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_send_guard"
down_revision = "0020_hints_seen"
branch_labels = None
depends_on = None

ID = 128
STATES = "'open', 'exhausted', 'expired', 'recalled'"


def upgrade() -> None:
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.add_column(sa.Column("deliver_at_us", sa.BigInteger))
        batch.drop_constraint("packet_state_known", type_="check")
        batch.create_check_constraint(
            "packet_state_known", f"state IN ({STATES}, 'scheduled', 'cancelled')"
        )
    op.create_table(
        "send_habits",
        sa.Column("sender_id", sa.String(ID), primary_key=True),
        sa.Column("audience_id", sa.String(2 * ID), primary_key=True),
        sa.Column("sends", sa.BigInteger, nullable=False),
        sa.Column("recalls", sa.BigInteger, nullable=False),
        sa.Column("amount_sum_minor", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint("sends >= 0 AND recalls >= 0", name="send_habits_counts"),
    )
    op.create_table(
        "guard_decisions",
        sa.Column("decision_id", sa.String(ID), primary_key=True),
        sa.Column("packet_id", sa.String(ID), nullable=False),
        sa.Column("sender_id", sa.String(ID), nullable=False),
        sa.Column("policy_version", sa.String(ID), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("signals", sa.Text, nullable=False),
        sa.Column("offered_at_us", sa.BigInteger, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('confirmation_needed', 'confirmed', 'delayed')",
            name="guard_outcome_known",
        ),
    )
    op.create_index("guard_decisions_by_packet", "guard_decisions", ["packet_id"])


def downgrade() -> None:
    op.drop_index("guard_decisions_by_packet", table_name="guard_decisions")
    op.drop_table("guard_decisions")
    op.drop_table("send_habits")
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.drop_constraint("packet_state_known", type_="check")
        batch.create_check_constraint("packet_state_known", f"state IN ({STATES})")
        batch.drop_column("deliver_at_us")
