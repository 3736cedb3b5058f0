"""The guidance hints each person met, and a group's packets by group.

Revision ID: 0020_hints_seen
Revises: 0019_social_consequences
Create Date: 2026-12-05

A guidance bubble is shown once per person: the row says when, and when they dismissed it or
followed its link. Packets gain an index on their group, for the group's page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_hints_seen"
down_revision = "0019_social_consequences"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    op.create_table(
        "api_hints_seen",
        sa.Column("user_id", sa.String(ID), primary_key=True),
        sa.Column("hint", sa.String(32), primary_key=True),
        sa.Column("shown_at_us", sa.BigInteger, nullable=False),
        sa.Column("dismissed_at_us", sa.BigInteger),
        sa.Column("clicked_at_us", sa.BigInteger),
    )
    op.create_index("packets_by_group", "packets", ["group_id", "created_at_us"])


def downgrade() -> None:
    op.drop_index("packets_by_group", table_name="packets")
    op.drop_table("api_hints_seen")
