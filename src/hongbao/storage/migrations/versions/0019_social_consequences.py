"""The social consequences of recalls: applied events, counts, scores, bans, weights, the log.

Revision ID: 0019_social_consequences
Revises: 0018_risk_flags
Create Date: 2026-12-05

The social consumer (R-S1..R-S7) keeps its own tables. Penalties are JSON text on the row they
lower (a user's score, a pair's weight), so a send reads a ban or a weight in one keyed read.

- ``social_applied_events``: each event whose effects are applied, written with them;
- ``social_recall_counts``: recalls per user and local day or calendar month;
- ``social_scores``: a user's active score penalties;
- ``social_group_standings``: one sender in one group: recent recalls there and the ban;
- ``social_pair_weights``: one sender's weight towards one recipient;
- ``social_changes``: the change log, listed per user newest first.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_social_consequences"
down_revision = "0018_risk_flags"
branch_labels = None
depends_on = None

ID = 128
TABLES = (
    "social_changes",
    "social_pair_weights",
    "social_group_standings",
    "social_scores",
    "social_recall_counts",
    "social_applied_events",
)


def _user_id(name: str = "user_id") -> sa.Column[str]:
    return sa.Column(name, sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "social_applied_events",
        sa.Column("event_id", sa.String(ID), primary_key=True),
        sa.Column("applied_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "social_recall_counts",
        _user_id(),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "period"),
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
    )
    op.create_table(
        "social_scores",
        sa.Column("user_id", sa.String(ID), sa.ForeignKey("identity_users.id"), primary_key=True),
        sa.Column("penalties", sa.Text, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "social_group_standings",
        sa.Column("group_id", sa.String(ID), sa.ForeignKey("identity_groups.id"), nullable=False),
        _user_id(),
        sa.Column("recalls_us", sa.Text, nullable=False),
        sa.Column("banned_from_us", sa.BigInteger),
        sa.Column("banned_until_us", sa.BigInteger),
        sa.Column("ban_recalls", sa.Integer, nullable=False),
        sa.Column("ban_threshold", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
        sa.CheckConstraint(
            "banned_until_us IS NULL OR banned_until_us > banned_from_us", name="ban_period"
        ),
    )
    op.create_index("social_group_standings_user", "social_group_standings", ["user_id"])
    op.create_table(
        "social_pair_weights",
        _user_id("from_user_id"),
        _user_id("to_user_id"),
        sa.Column("penalties", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("from_user_id", "to_user_id"),
    )
    op.create_table(
        "social_changes",
        _user_id(),
        sa.Column("change_id", sa.String(2 * ID), nullable=False),
        sa.Column("newest_first", sa.BigInteger, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("allowed", sa.Integer, nullable=False),
        sa.Column("until_us", sa.BigInteger),
        sa.Column("event_id", sa.String(ID), nullable=False),
        sa.Column("packet_id", sa.String(ID), nullable=False),
        sa.Column("group_id", sa.String(ID)),
        sa.Column("other_user_id", sa.String(ID)),
        sa.PrimaryKeyConstraint("user_id", "change_id"),
    )
    op.create_index(
        "social_changes_newest", "social_changes", ["user_id", "newest_first", "change_id"]
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
