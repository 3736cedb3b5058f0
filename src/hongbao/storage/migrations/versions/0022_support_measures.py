"""Support cases with their notes, the measures' counter rows, and the 60+ age band.

Revision ID: 0022_support_measures
Revises: 0021_send_guard
Create Date: 2026-12-05

A support case carries what the person asked, the decision, packet, device and their recent
recall attempts; its notes keep every answer and closing with who, when and why. The counter
rows are bumped by the ``measures`` outbox consumer (one per recall decision) and by help-page
views. The 60+ age band is offered support first after a refusal (R-U5).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_support_measures"
down_revision = "0021_send_guard"
branch_labels = None
depends_on = None

ID = 128
TEXT = 1000


def upgrade() -> None:
    op.create_table(
        "support_cases",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("user_id", sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("question", sa.String(TEXT), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("age_band", sa.String(8)),
        sa.Column("decision_id", sa.String(64)),
        sa.Column("packet_id", sa.String(ID)),
        sa.Column("attempts", sa.Text, nullable=False),
        sa.Column("opened_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.Column("closed_at_us", sa.BigInteger),
        sa.CheckConstraint(
            "state IN ('open', 'answered', 'closed')", name="support_case_state_known"
        ),
        sa.CheckConstraint(
            "origin IN ('refusal', 'recall_result', 'help')", name="support_case_origin_known"
        ),
        sa.CheckConstraint(
            "(state = 'closed') = (closed_at_us IS NOT NULL)", name="support_case_closed_when"
        ),
    )
    op.create_index("support_cases_by_state", "support_cases", ["state", "opened_at_us"])
    op.create_index("support_cases_by_user", "support_cases", ["user_id", "opened_at_us"])
    op.create_table(
        "support_notes",
        sa.Column("case_id", sa.String(ID), sa.ForeignKey("support_cases.id"), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(ID), nullable=False),
        sa.Column("text", sa.String(TEXT), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'answered', 'wrote', 'closed')", name="support_note_kind_known"
        ),
        sa.CheckConstraint("author IN ('user', 'operator')", name="support_note_author_known"),
    )
    op.create_table(
        "measure_counts",
        sa.Column("measure", sa.String(32), primary_key=True),
        sa.Column("age_band", sa.String(8), primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("device_model", sa.String(ID), primary_key=True),
        sa.Column("detail", sa.String(64), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
    )
    # SQLite cannot change a CHECK in place: batch mode rebuilds the table and copies the rows.
    with op.batch_alter_table("identity_users", recreate="auto") as batch:
        batch.drop_constraint("age_band_known", type_="check")
        batch.create_check_constraint(
            "age_band_known", "age_band IN ('18-25', '26-35', '36+', '60+')"
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_users", recreate="auto") as batch:
        batch.drop_constraint("age_band_known", type_="check")
        batch.create_check_constraint("age_band_known", "age_band IN ('18-25', '26-35', '36+')")
    op.drop_table("measure_counts")
    op.drop_table("support_notes")
    op.drop_index("support_cases_by_user", table_name="support_cases")
    op.drop_index("support_cases_by_state", table_name="support_cases")
    op.drop_table("support_cases")
