"""Ledger: accounts, transfers, pending states, hash-chained postings, rejections.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-29

The database enforces what it can: non-negative totals, balance flags, positive amounts, one
resolution per pending transfer, one posting per (transfer, account, event), and append-only
journal tables (triggers refuse UPDATE and DELETE on transfers and postings).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

ACCOUNT_KINDS = (
    "user_balance",
    "user_money_market",
    "packet_escrow",
    "funding_debit_card",
    "funding_credit_card",
    "funding_foreign_card",
    "refund_clearing",
    "fee_revenue",
    "fx_position",
    "risk_hold",
)
TRANSFER_KINDS = ("posted", "pending", "post_pending", "void_pending")
PENDING_STATES = ("pending", "posted", "voided", "expired")
POSTING_EVENTS = ("posted", "pending", "post_pending", "void_pending", "expired")
APPEND_ONLY_TABLES = ("ledger_transfers", "ledger_postings", "ledger_rejections")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _amount(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean, nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean, nullable=False),
        sa.Column("reference", sa.String(256)),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        _amount("debits_pending"),
        _amount("debits_posted"),
        _amount("credits_pending"),
        _amount("credits_posted"),
        sa.Column("journal_sequence", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("journal_head", sa.String(64), nullable=False),
        sa.CheckConstraint(_one_of("kind", ACCOUNT_KINDS), name="account_kind_known"),
        sa.CheckConstraint("length(currency) = 3", name="account_currency_iso"),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0 AND journal_sequence >= 0",
            name="account_totals_not_negative",
        ),
        sa.CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
            name="account_flags_exclusive",
        ),
        sa.CheckConstraint(
            "NOT debits_must_not_exceed_credits "
            "OR debits_pending + debits_posted <= credits_posted",
            name="account_debits_within_credits",
        ),
        sa.CheckConstraint(
            "NOT credits_must_not_exceed_debits "
            "OR credits_pending + credits_posted <= debits_posted",
            name="account_credits_within_debits",
        ),
        sa.CheckConstraint("length(journal_head) = 64", name="account_head_is_sha256"),
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column(
            "debit_account_id", sa.String(128), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column(
            "credit_account_id", sa.String(128), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("pending_id", sa.String(128), sa.ForeignKey("ledger_transfers.id")),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger),
        sa.Column("reference", sa.String(256)),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.CheckConstraint("amount > 0", name="transfer_amount_positive"),
        sa.CheckConstraint("code BETWEEN 1 AND 65535", name="transfer_code_range"),
        sa.CheckConstraint(_one_of("kind", TRANSFER_KINDS), name="transfer_kind_known"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="transfer_two_accounts"),
        sa.CheckConstraint(
            "(pending_id IS NOT NULL) = (kind IN ('post_pending', 'void_pending'))",
            name="transfer_pending_id_only_to_resolve",
        ),
        sa.CheckConstraint("timeout_seconds >= 0", name="transfer_timeout_not_negative"),
        # A pending transfer is resolved (posted or voided) at most once.
        sa.UniqueConstraint("pending_id", name="transfer_resolves_pending_once"),
    )
    op.create_table(
        "ledger_pending",
        sa.Column(
            "transfer_id", sa.String(128), sa.ForeignKey("ledger_transfers.id"), primary_key=True
        ),
        sa.Column("debit_account_id", sa.String(128), nullable=False),
        sa.Column("credit_account_id", sa.String(128), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resolved_by", sa.String(128), sa.ForeignKey("ledger_transfers.id")),
        sa.Column("resolved_at_us", sa.BigInteger),
        sa.CheckConstraint("amount > 0", name="pending_amount_positive"),
        sa.CheckConstraint(_one_of("state", PENDING_STATES), name="pending_state_known"),
        sa.CheckConstraint(
            "(state = 'pending') = (resolved_at_us IS NULL)", name="pending_resolution_time"
        ),
    )
    op.create_index(
        "ledger_pending_due",
        "ledger_pending",
        ["expires_at_us"],
        postgresql_where=sa.text("state = 'pending' AND expires_at_us IS NOT NULL"),
        sqlite_where=sa.text("state = 'pending' AND expires_at_us IS NOT NULL"),
    )
    op.create_table(
        "ledger_postings",
        sa.Column(
            "account_id", sa.String(128), sa.ForeignKey("ledger_accounts.id"), nullable=False
        ),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column(
            "transfer_id", sa.String(128), sa.ForeignKey("ledger_transfers.id"), nullable=False
        ),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("debits_pending", sa.BigInteger, nullable=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False),
        sa.Column("credits_pending", sa.BigInteger, nullable=False),
        sa.Column("credits_posted", sa.BigInteger, nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
        sa.Column("transfer_digest", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "sequence", name="ledger_postings_pkey"),
        sa.UniqueConstraint("transfer_id", "account_id", "event", name="posting_once_per_event"),
        sa.CheckConstraint("sequence >= 1", name="posting_sequence_positive"),
        sa.CheckConstraint(_one_of("event", POSTING_EVENTS), name="posting_event_known"),
    )
    op.create_table(
        "ledger_rejections",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    _make_append_only()


def _make_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Lets one statement check its own effects and abort the transaction when they are off.
        op.execute(
            """
            CREATE FUNCTION hongbao_assert(condition boolean, message text) RETURNS boolean
            LANGUAGE plpgsql AS $$
            BEGIN
                IF condition IS NOT TRUE THEN
                    RAISE EXCEPTION 'hongbao invariant: %', message USING ERRCODE = 'HB001';
                END IF;
                RETURN true;
            END $$;
            """
        )
        op.execute(
            """
            CREATE FUNCTION hongbao_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'hongbao: % is append-only', TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$;
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION hongbao_refuse_change()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'hongbao: {table} is append-only'); END"
            )


def downgrade() -> None:
    for table in ("ledger_rejections", "ledger_postings", "ledger_pending", "ledger_transfers"):
        op.drop_table(table)
    op.drop_table("ledger_accounts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hongbao_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS hongbao_assert(boolean, text)")
