"""Database URLs: ``sqlite:///path/to/file.db`` or ``postgresql://user@host:port/dbname``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hongbao.platform.errors import ConfigurationError, PlatformCode

DATABASE_URL_VARIABLE = "HONGBAO_DATABASE_URL"


def default_sqlite_path() -> Path:
    """Where the embedded database lives when nothing else is said (XDG data directory)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "hongbao" / "hongbao.db"


def configured_url(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    return os.environ.get(DATABASE_URL_VARIABLE) or f"sqlite:///{default_sqlite_path()}"


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: str  # "sqlite" or "postgresql"
    url: str
    sqlite_path: Path | None = None

    @property
    def sqlalchemy_url(self) -> str:
        """The same database for SQLAlchemy/Alembic, which needs the driver named."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return "postgresql+psycopg://" + self.url.split("://", 1)[1]

    @property
    def redacted(self) -> str:
        """The URL without a password, for logs and reports."""
        scheme, _, rest = self.url.partition("://")
        credentials, at, location = rest.rpartition("@")
        if not at or ":" not in credentials:
            return self.url
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{location}"


def parse_url(url: str) -> DatabaseUrl:
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ConfigurationError(
            f"database URL {url!r} has no scheme; use sqlite:///path or postgresql://host/db",
            code=PlatformCode.CONFIG_DATABASE_URL,
        )
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:":
            raise ConfigurationError(
                "SQLite needs a file path (sqlite:///path/to/hongbao.db); in-memory databases "
                "are not shared between connections",
                code=PlatformCode.CONFIG_DATABASE_URL,
            )
        return DatabaseUrl("sqlite", url, Path(path))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return DatabaseUrl("postgresql", "postgresql://" + rest)
    raise ConfigurationError(
        f"unsupported database scheme {scheme!r}; use sqlite or postgresql",
        code=PlatformCode.CONFIG_DATABASE_URL,
    )
