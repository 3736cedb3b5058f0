"""The HTTP API's own tables: idempotency keys with their first response, revoked tokens.

Revision ID: 0012_api
Revises: 0011_budgets
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_api"
down_revision = "0011_budgets"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    op.create_table(
        "api_idempotency",
        sa.Column("principal", sa.String(ID), primary_key=True),
        sa.Column("idempotency_key", sa.String(64), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("body", sa.Text),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("lease_until_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint("state IN ('in_progress', 'done')", name="idempotency_state_known"),
        sa.CheckConstraint(
            "(state = 'done') = (status IS NOT NULL AND body IS NOT NULL)",
            name="idempotency_done_has_response",
        ),
    )
    op.create_table(
        "api_revoked_tokens",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(ID), nullable=False),
        sa.Column("revoked_at_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_by", sa.String(ID), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_revoked_tokens")
    op.drop_table("api_idempotency")
