"""Schema migrations: the embedded database moves forward by itself; PostgreSQL never does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hongbao.platform.errors import ConfigurationError
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.urls import parse_url


def test_an_older_embedded_database_is_upgraded_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(parse_url(url), revision="0001_ledger")
    assert migrate.current_revision(parse_url(url)) == "0001_ledger"
    open_database(url).close()
    assert migrate.current_revision(parse_url(url)) == migrate.head_revision()


def test_a_database_from_a_newer_build_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    migrate.upgrade(parse_url(url))
    with sqlite3.connect(tmp_path / "new.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(ConfigurationError) as refused:
        open_database(url)
    assert refused.value.code == "storage.schema_outdated"


@pytest.mark.postgres
def test_postgresql_is_not_migrated_implicitly(postgres_url: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001_ledger'")
    with pytest.raises(ConfigurationError) as refused:
        open_database(postgres_url)
    assert refused.value.code == "storage.schema_outdated"
    assert migrate.current_revision(parse_url(postgres_url)) == "0001_ledger"
