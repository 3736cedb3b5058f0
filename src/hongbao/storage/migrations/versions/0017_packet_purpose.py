"""Packets say what they are for: a gift, or a tuition payment (R-K4's green channel).

Revision ID: 0017_packet_purpose
Revises: 0016_risk
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_packet_purpose"
down_revision = "0016_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.add_column(sa.Column("purpose", sa.String(16), nullable=False, server_default="gift"))
        batch.create_check_constraint("packet_purpose_known", "purpose IN ('gift', 'tuition')")


def downgrade() -> None:
    with op.batch_alter_table("packets", recreate="auto") as batch:
        batch.drop_constraint("packet_purpose_known", type_="check")
        batch.drop_column("purpose")
