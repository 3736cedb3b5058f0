"""Recalls keep the answers of the requests that carried them.

Revision ID: 0014_recall_answers
Revises: 0013_relay_claims
Create Date: 2026-12-05

A recall's Idempotency-Key is its own key: the recall record keeps each distinct request's
answer (JSON: request hash, status, body), so the HTTP layer's generic key record is no longer
written a second time for a recall.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_recall_answers"
down_revision = "0013_relay_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recalls", recreate="auto") as batch:
        batch.add_column(sa.Column("answers", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("recalls", recreate="auto") as batch:
        batch.drop_column("answers")
