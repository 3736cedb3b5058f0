"""Identity: users, enterprises, exemptions, groups, relationships, devices, funding, challenges.

Revision ID: 0002_identity
Revises: 0001_ledger
Create Date: 2026-11-29

Enumerations are CHECKed against the values the domain knows; records reference users by
foreign key; a device id belongs to one user, which the primary key of
``identity_device_owners`` enforces even when two users race to register it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_identity"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

ID = 128


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(repr(value) for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


def _user_id(name: str = "user_id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(ID), sa.ForeignKey("identity_users.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "identity_users",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("user_type", sa.String(16), nullable=False),
        sa.Column("registered_at_us", sa.BigInteger, nullable=False),
        sa.Column("real_name_status", sa.String(16), nullable=False),
        sa.Column("age_band", sa.String(8)),
        sa.Column("is_vip", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500)),
        _one_of("tier", ("unverified", "class_i", "class_ii", "class_iii", "enterprise")),
        _one_of("user_type", ("normal", "business", "enterprise")),
        _one_of("real_name_status", ("not_verified", "pending", "verified")),
        _one_of("age_band", ("18-25", "26-35", "36+")),
        _one_of("status", ("normal", "abnormal", "frozen")),
        sa.CheckConstraint(
            "(status = 'normal') = (status_reason IS NULL)", name="user_status_reason"
        ),
    )
    op.create_table(
        "identity_enterprises",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        _user_id("owner_user_id"),
        sa.Column("is_certified", sa.Boolean, nullable=False),
        sa.Column("corporate_account_masked", sa.String(64)),
        sa.CheckConstraint(
            "NOT is_certified OR corporate_account_masked IS NOT NULL",
            name="certified_enterprise_has_account",
        ),
    )
    op.create_table(
        "identity_exemptions",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(ID), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("valid_from_us", sa.BigInteger, nullable=False),
        sa.Column("valid_until_us", sa.BigInteger),
        _one_of(
            "kind",
            ("vip", "travel_whitelist", "certified_enterprise", "education_green_channel"),
        ),
        _one_of("subject_kind", ("user", "enterprise", "group")),
        sa.CheckConstraint(
            "valid_until_us IS NULL OR valid_until_us > valid_from_us", name="exemption_period"
        ),
    )
    op.create_index("identity_exemptions_subject", "identity_exemptions", ["subject_id"])
    op.create_table(
        "identity_groups",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("group_type", sa.String(16), nullable=False),
        _user_id("owner_user_id"),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        _one_of("group_type", ("work", "education", "entertainment", "family", "other")),
    )
    op.create_table(
        "identity_group_members",
        sa.Column("group_id", sa.String(ID), sa.ForeignKey("identity_groups.id"), nullable=False),
        _user_id(),
        sa.Column("joined_at_us", sa.BigInteger, nullable=False),
        sa.Column("left_at_us", sa.BigInteger),
        sa.PrimaryKeyConstraint("group_id", "user_id", "joined_at_us"),
        sa.CheckConstraint(
            "left_at_us IS NULL OR left_at_us > joined_at_us", name="membership_period"
        ),
    )
    op.create_index("identity_group_members_user", "identity_group_members", ["user_id"])
    op.create_table(
        "identity_relationships",
        _user_id("from_user_id"),
        _user_id("to_user_id"),
        sa.Column("chat_frequency_rank", sa.Integer),
        sa.Column("intimacy", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("from_user_id", "to_user_id"),
        sa.CheckConstraint("from_user_id <> to_user_id", name="relationship_two_users"),
        sa.CheckConstraint("intimacy BETWEEN 0 AND 100", name="intimacy_range"),
        sa.CheckConstraint(
            "chat_frequency_rank IS NULL OR chat_frequency_rank >= 1", name="rank_range"
        ),
        sa.CheckConstraint("weight BETWEEN 0 AND 1000000", name="weight_range"),
    )
    op.create_table(
        "identity_devices",
        sa.Column("device_id", sa.String(ID), nullable=False),
        _user_id(),
        sa.Column("sim_id", sa.String(ID), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("os_version", sa.String(32), nullable=False),
        sa.Column("vendor_skin", sa.String(16), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("form_factor", sa.String(16), nullable=False),
        sa.Column("registered_at_us", sa.BigInteger, nullable=False),
        # The fingerprint (R-A1): one record per device id and SIM.
        sa.PrimaryKeyConstraint("device_id", "sim_id"),
        _one_of("platform", ("ios", "android", "harmonyos", "watchos", "wearos")),
        _one_of("vendor_skin", ("none", "emui", "miui", "coloros", "originos", "oneui", "other")),
        _one_of("form_factor", ("phone", "tablet", "watch")),
    )
    op.create_index("identity_devices_user", "identity_devices", ["user_id"])
    op.create_table(
        "identity_device_owners",
        sa.Column("device_id", sa.String(ID), primary_key=True),
        _user_id(),
    )
    op.create_table(
        "identity_funding_sources",
        sa.Column("id", sa.String(ID), primary_key=True),
        _user_id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "ledger_account_id",
            sa.String(ID),
            sa.ForeignKey("ledger_accounts.id"),
            nullable=False,
        ),
        sa.Column("currency", sa.String(3), nullable=False),
        # The kind's own fields (bank, masked number, windows, schedule…) as JSON text. Never a
        # full card number: the domain keeps only the masked form.
        sa.Column("details", sa.Text, nullable=False),
        _one_of("kind", ("balance", "money_market", "debit_card", "credit_card", "foreign_card")),
    )
    op.create_index("identity_funding_sources_user", "identity_funding_sources", ["user_id"])
    op.create_table(
        "identity_challenges",
        sa.Column("challenge_id", sa.String(ID), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        _user_id(),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("sim_id", sa.String(ID), nullable=False),
        sa.Column("purpose", sa.String(128), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("attempts_used", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("passed_at_us", sa.BigInteger),
        sa.Column("consumed_at_us", sa.BigInteger),
        sa.Column("locked_at_us", sa.BigInteger),
        sa.Column("revision", sa.Integer, nullable=False),
        _one_of("kind", ("sms_code", "face", "corporate_account", "security_environment")),
        _one_of("state", ("pending", "passed", "consumed", "locked")),
        sa.CheckConstraint(
            "attempts_used BETWEEN 0 AND max_attempts AND max_attempts BETWEEN 1 AND 10",
            name="challenge_attempts",
        ),
        sa.CheckConstraint("expires_at_us > created_at_us", name="challenge_expiry"),
    )
    op.create_index("identity_challenges_user", "identity_challenges", ["user_id"])
    op.create_table(
        "identity_challenge_secrets",
        sa.Column(
            "challenge_id",
            sa.String(ID),
            sa.ForeignKey("identity_challenges.challenge_id"),
            primary_key=True,
        ),
        sa.Column("answer_hash", sa.String(128), nullable=False),
        sa.Column("provider_reference", sa.String(128)),
    )


def downgrade() -> None:
    for table in (
        "identity_challenge_secrets",
        "identity_challenges",
        "identity_funding_sources",
        "identity_device_owners",
        "identity_devices",
        "identity_relationships",
        "identity_group_members",
        "identity_groups",
        "identity_exemptions",
        "identity_enterprises",
        "identity_users",
    ):
        op.drop_table(table)
