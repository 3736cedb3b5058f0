"""Behaviour analysis (R-K3): risk flags per user and detector, what the analysis keeps to
raise them (baselines and fund flows per user, the link graph, cycles between pairs), the
events it applied, and the daily tally of decisions by level for the review metrics.

Revision ID: 0018_risk_flags
Revises: 0017_packet_purpose
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_risk_flags"
down_revision = "0017_packet_purpose"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_flags",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("detector", sa.Text, primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("raised_at_us", sa.BigInteger, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="risk_flag_level"),
    )
    op.create_table(
        "risk_behaviour",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("amount_mean_fp", sa.BigInteger, nullable=False),
        sa.Column("amount_spread_fp", sa.BigInteger, nullable=False),
        sa.Column("delay_mean_fp", sa.BigInteger, nullable=False),
        sa.Column("delay_spread_fp", sa.BigInteger, nullable=False),
        sa.Column("cash_outs", sa.Text, nullable=False),
        sa.Column("near_limit", sa.Text, nullable=False),
        sa.Column("cycles", sa.Text, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_graph_nodes",
        sa.Column("node", sa.Text, primary_key=True),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("is_user", sa.Boolean, nullable=False),
    )
    op.create_index("risk_graph_nodes_by_component", "risk_graph_nodes", ["component"])
    op.create_table(
        "risk_components",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Column("nodes", sa.Integer, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_pairs",
        sa.Column("low", sa.Text, primary_key=True),
        sa.Column("high", sa.Text, primary_key=True),
        sa.Column("cycles", sa.Integer, nullable=False),
        sa.Column("last_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_applied_events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("applied_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_daily_decisions",
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("decisions", sa.BigInteger, nullable=False),
        sa.Column("at_level_1", sa.BigInteger, nullable=False),
        sa.Column("at_level_2", sa.BigInteger, nullable=False),
        sa.Column("at_level_3", sa.BigInteger, nullable=False),
        sa.Column("at_level_4", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("risk_daily_decisions")
    op.drop_table("risk_applied_events")
    op.drop_table("risk_pairs")
    op.drop_table("risk_components")
    op.drop_index("risk_graph_nodes_by_component", table_name="risk_graph_nodes")
    op.drop_table("risk_graph_nodes")
    op.drop_table("risk_behaviour")
    op.drop_table("risk_flags")
