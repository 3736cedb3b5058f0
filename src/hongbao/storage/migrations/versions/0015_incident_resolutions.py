"""Reconciliation incidents keep who resolved them and how.

Revision ID: 0015_incident_resolutions
Revises: 0014_recall_answers
Create Date: 2026-12-05

Operators resolve an incident (R-X2) with a note; the incident keeps the operator and the note
beside ``closed_at_us`` as its audit record. Listing by state reads an index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_incident_resolutions"
down_revision = "0014_recall_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation_incidents", recreate="auto") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(128)))
        batch.add_column(sa.Column("resolution", sa.Text))
    op.create_index("incidents_state", "reconciliation_incidents", ["state", "id"])


def downgrade() -> None:
    op.drop_index("incidents_state", table_name="reconciliation_incidents")
    with op.batch_alter_table("reconciliation_incidents", recreate="auto") as batch:
        batch.drop_column("resolution")
        batch.drop_column("resolved_by")
