"""Distribution budgets (多级分销, R-F5): the budget tree, budget-funded sources and packets.

Revision ID: 0011_budgets
Revises: 0010_refund_tracking
Create Date: 2026-11-30

Widens three CHECKs to the new kinds: a funding source and a packet's funding may be a
``budget``, and a ledger account may be a ``distribution_budget``. The downgrade narrows them
again, which the database refuses once any budget was opened: its ledger account and journal
are append-only history that the older schema cannot describe.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_budgets"
down_revision = "0010_refund_tracking"
branch_labels = None
depends_on = None

ID = 128
MAX_LEVEL = 3  # hongbao.distribution.model.MAX_LEVELS - 1
FUNDING_KINDS = "'balance', 'money_market', 'debit_card', 'credit_card', 'foreign_card'"
ACCOUNT_KINDS = (
    "'user_balance', 'user_money_market', 'packet_escrow', 'funding_debit_card', "
    "'funding_credit_card', 'funding_foreign_card', 'refund_clearing', 'fee_revenue', "
    "'fx_position', 'risk_hold'"
)
# (table, constraint, column, the values before this revision, the value it adds)
WIDENED = (
    ("identity_funding_sources", "kind_known", "kind", FUNDING_KINDS, "'budget'"),
    ("packets", "packet_funding_kind_known", "funding_kind", FUNDING_KINDS, "'budget'"),
    ("ledger_accounts", "account_kind_known", "kind", ACCOUNT_KINDS, "'distribution_budget'"),
)


def _recheck(table: str, name: str, condition: str) -> None:
    # SQLite cannot change a CHECK in place: batch mode rebuilds the table and copies the rows.
    with op.batch_alter_table(table, recreate="auto") as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, condition)


def upgrade() -> None:
    for table, name, column, values, added in WIDENED:
        _recheck(table, name, f"{column} IN ({values}, {added})")
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "enterprise_id", sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False
        ),
        sa.Column("holder_id", sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False),
        sa.Column("parent_id", sa.String(ID), sa.ForeignKey("budgets.id")),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("closed_at_us", sa.BigInteger),
        sa.CheckConstraint(f"level BETWEEN 0 AND {MAX_LEVEL}", name="budget_level_range"),
        sa.CheckConstraint("(parent_id IS NULL) = (level = 0)", name="budget_root_has_no_parent"),
        sa.CheckConstraint("currency = 'CNY'", name="budget_currency_cny"),
        sa.CheckConstraint("state IN ('open', 'closed')", name="budget_state_known"),
        sa.CheckConstraint(
            "(state = 'closed') = (closed_at_us IS NOT NULL)", name="budget_closed_when_closed"
        ),
    )
    # close() looks for open children; children() and the tree list them.
    op.create_index("budgets_parent", "budgets", ["parent_id", "state"])
    op.create_index("budgets_holder", "budgets", ["holder_id"])
    op.create_index("budgets_enterprise", "budgets", ["enterprise_id"])


def downgrade() -> None:
    op.drop_table("budgets")
    for table, name, column, values, _added in WIDENED:
        _recheck(table, name, f"{column} IN ({values})")
