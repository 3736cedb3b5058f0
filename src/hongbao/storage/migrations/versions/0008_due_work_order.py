"""Due work claimed in (due time, id) order straight from an index.

Revision ID: 0008_due_work_order
Revises: 0007_recalls
Create Date: 2026-11-29

Workers claim ``ORDER BY due_at_us, id``. With the index on ``due_at_us`` alone, many rows due
at the same microsecond (a burst of packets sent together expire together) were sorted on
every claim, so the sweep slowed down as its backlog grew.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_due_work_order"
down_revision = "0007_recalls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("platform_due_work_pending", table_name="platform_due_work")
    op.create_index(
        "platform_due_work_pending",
        "platform_due_work",
        ["due_at_us", "id"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("platform_due_work_pending", table_name="platform_due_work")
    op.create_index(
        "platform_due_work_pending",
        "platform_due_work",
        ["due_at_us"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )
