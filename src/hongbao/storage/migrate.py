"""Schema migrations with Alembic: ``hongbao db upgrade``, and the embedded auto-upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from hongbao.storage.urls import DatabaseUrl

MIGRATIONS = Path(__file__).parent / "migrations"
# Serialises concurrent upgrades from several processes on PostgreSQL.
MIGRATION_LOCK_KEY = 0x686F6E6762616F  # "hongbao"


def _config(database: DatabaseUrl) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.sqlalchemy_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config(DatabaseUrl("sqlite", "sqlite:///x", Path("x"))))
    revision = head.get_current_head()
    if revision is None:
        raise RuntimeError("the migration scripts have no head revision")
    return revision


def known_revisions() -> set[str]:
    """Every revision this build's migrations know (older ones can be upgraded from)."""
    scripts = ScriptDirectory.from_config(_config(DatabaseUrl("sqlite", "sqlite:///x", Path("x"))))
    return {script.revision for script in scripts.walk_revisions()}


def current_revision(database: DatabaseUrl) -> str | None:
    engine = create_engine(database.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(database: DatabaseUrl, revision: str = "head") -> str:
    """Bring the schema to ``revision``; safe to run from several processes at once."""
    if database.dialect == "sqlite" and database.sqlite_path is not None:
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    config = _config(database)
    engine = create_engine(database.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            if database.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
    return current_revision(database) or ""
