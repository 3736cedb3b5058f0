"""Recalls: the sending device on every packet, the recalled state, decisions, recalls and
reconciliation incidents.

Revision ID: 0007_recalls
Revises: 0006_card_authorizations
Create Date: 2026-11-29

Packets sent before this revision have no recorded sending device; the recall rule R-A1 denies
them with ``device.sending_device_unknown`` and sends the user to support.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_recalls"
down_revision = "0006_card_authorizations"
branch_labels = None
depends_on = None

ID = 128
STATES = "'open', 'exhausted', 'expired'"


def upgrade() -> None:
    # SQLite cannot change a CHECK in place: batch mode rebuilds the table and copies the rows.
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.add_column(sa.Column("sender_device_id", sa.String(ID)))
        batch.add_column(sa.Column("sender_sim_id", sa.String(ID)))
        batch.drop_constraint("packet_state_known", type_="check")
        batch.create_check_constraint("packet_state_known", f"state IN ({STATES}, 'recalled')")
        batch.create_check_constraint(
            "packet_sending_device_complete",
            "(sender_device_id IS NULL) = (sender_sim_id IS NULL)",
        )
    op.create_table(
        "recall_decisions",
        sa.Column("decision_id", sa.String(64), primary_key=True),
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("requester_id", sa.String(ID), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("sim_id", sa.String(ID), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("policy_version", sa.String(96), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("outcomes", sa.Text, nullable=False),
        sa.Column("recall_key", sa.String(ID)),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint("purpose IN ('query', 'recall')", name="decision_purpose_known"),
        sa.CheckConstraint(
            "result IN ('allow', 'challenge', 'deny')", name="decision_result_known"
        ),
    )
    op.create_index("recall_decisions_packet", "recall_decisions", ["packet_id", "created_at_us"])
    op.create_table(
        "recalls",
        sa.Column("idempotency_key", sa.String(ID), primary_key=True),
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("requester_id", sa.String(ID), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("sim_id", sa.String(ID), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_decision_id", sa.String(64), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.Column("executed_at_us", sa.BigInteger),
        sa.Column("usage_key", sa.String(ID + 16)),
        sa.Column("route", sa.String(32)),
        sa.Column("recalled_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("challenge_purpose", sa.String(ID + 32)),
        sa.Column("challenge_ids", sa.Text, nullable=False),
        sa.CheckConstraint("state IN ('challenged', 'denied', 'done')", name="recall_state_known"),
        sa.CheckConstraint(
            "(state = 'done') = (executed_at_us IS NOT NULL AND usage_key IS NOT NULL "
            "AND route IS NOT NULL AND recalled_minor IS NOT NULL)",
            name="recall_done_complete",
        ),
    )
    # A packet is recalled at most once, whatever the keys.
    op.create_index(
        "recalls_one_done_per_packet",
        "recalls",
        ["packet_id"],
        unique=True,
        postgresql_where=sa.text("state = 'done'"),
        sqlite_where=sa.text("state = 'done'"),
    )
    op.create_index("recalls_packet", "recalls", ["packet_id"])
    op.create_index("recalls_usage", "recalls", ["usage_key"])
    op.create_table(
        "reconciliation_incidents",
        sa.Column("id", sa.String(ID + 16), primary_key=True),
        sa.Column("packet_id", sa.String(ID), sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("opened_at_us", sa.BigInteger, nullable=False),
        sa.Column("closed_at_us", sa.BigInteger),
        sa.CheckConstraint("state IN ('open', 'closed')", name="incident_state_known"),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_incidents")
    op.drop_table("recalls")
    op.drop_table("recall_decisions")
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.drop_constraint("packet_sending_device_complete", type_="check")
        batch.drop_constraint("packet_state_known", type_="check")
        batch.create_check_constraint("packet_state_known", f"state IN ({STATES})")
        batch.drop_column("sender_sim_id")
        batch.drop_column("sender_device_id")
