"""Durable scheduler: the due-work table.

Revision ID: 0003_scheduler
Revises: 0002_identity
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_scheduler"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_due_work",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("due_at_us", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(2000)),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("completed_at_us", sa.BigInteger),
        sa.CheckConstraint("state IN ('pending', 'done', 'dead')", name="due_work_state_known"),
        sa.CheckConstraint(
            "attempts >= 0 AND max_attempts BETWEEN 1 AND 100", name="due_work_attempts"
        ),
        sa.CheckConstraint(
            "(state = 'done') = (completed_at_us IS NOT NULL)", name="due_work_completion"
        ),
    )
    # Workers look only at pending rows, by due time.
    op.create_index(
        "platform_due_work_pending",
        "platform_due_work",
        ["due_at_us"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("platform_due_work")
