"""Risk control: one profile per user, locked devices and the review queue's cases.

Revision ID: 0016_risk
Revises: 0015_incident_resolutions
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

OLD_STATES = (
    "'in_clearing', 'frozen', 'settled', 'released', 'held', 'failed_retrying', 'failed', "
    "'credited'"
)
NEW_STATES = f"{OLD_STATES}, 'risk_held'"

revision = "0016_risk"
down_revision = "0015_incident_resolutions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot change a CHECK in place: batch mode rebuilds the table and copies the rows.
    with op.batch_alter_table("refunds", recreate="auto") as batch:
        batch.drop_constraint("refund_state_known", type_="check")
        batch.create_check_constraint("refund_state_known", f"state IN ({NEW_STATES})")
    op.create_table(
        "risk_profiles",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("attempts", sa.Text, nullable=False),
        sa.Column("recalled", sa.Text, nullable=False),
        sa.Column("place_latitude_e6", sa.BigInteger, nullable=True),
        sa.Column("place_longitude_e6", sa.BigInteger, nullable=True),
        sa.Column("place_at_us", sa.BigInteger, nullable=True),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_device_locks",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("sim_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decision_id", sa.Text, nullable=True),
        sa.Column("locked_at_us", sa.BigInteger, nullable=False),
        sa.Column("unlocked_at_us", sa.BigInteger, nullable=True),
        sa.Column("unlocked_by", sa.Text, nullable=True),
        sa.CheckConstraint("state IN ('locked', 'unlocked')", name="risk_lock_state"),
    )
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("decision_id", sa.Text, nullable=True),
        sa.Column("opened_at_us", sa.BigInteger, nullable=False),
        sa.Column("refund_id", sa.Text, nullable=True),
        sa.Column("device_id", sa.Text, nullable=True),
        sa.Column("sim_id", sa.Text, nullable=True),
        sa.Column("release_at_us", sa.BigInteger, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decided_at_us", sa.BigInteger, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint("kind IN ('hold', 'lock')", name="risk_case_kind"),
        sa.CheckConstraint(
            "state IN ('open', 'released', 'confirmed', 'unlocked', 'blocked')",
            name="risk_case_state",
        ),
    )
    op.create_index("risk_cases_by_state", "risk_cases", ["state", "opened_at_us"])
    op.create_index("risk_cases_by_user", "risk_cases", ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("refunds", recreate="auto") as batch:
        batch.drop_constraint("refund_state_known", type_="check")
        batch.create_check_constraint("refund_state_known", f"state IN ({OLD_STATES})")
    op.drop_table("risk_cases")
    op.drop_table("risk_device_locks")
    op.drop_table("risk_profiles")
