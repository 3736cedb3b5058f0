"""Starting the API: the context from configuration, the demo population for the embedded
service, and the uvicorn factory that several worker processes share.

Configuration (environment): ``HONGBAO_DATABASE_URL`` (default: the embedded SQLite file) and
``HONGBAO_TOKEN_SECRET`` (at least 32 bytes; required with PostgreSQL). The embedded service
keeps a generated secret beside its database file (mode 0600), so the tokens it prints stay
valid across restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from hongbao.bootstrap import Services, open_services
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import MIN_SECRET_BYTES, Principal, Role, TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.ops.observability import configure_logging
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.entrypoints.population import load_population
from hongbao.entrypoints.supervision import die_with_parent, supervisor_pid
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.platform.errors import ConfigurationError, PlatformCode
from hongbao.storage.urls import configured_url, parse_url

SECRET_VARIABLE = "HONGBAO_TOKEN_SECRET"  # noqa: S105 - the variable's name, not a secret
DEMO_BANK = "demo-bank"
DEMO_FUNDS_MINOR = 2_000_00
# Who the printed demo tokens are for: (user, device, SIM).
DEMO_PEOPLE = (
    ("li-wei", "li-wei-iphone14pro", "sim-li-wei-1"),
    ("liu-yang", "liu-yang-xiaomi13u", "sim-liu-yang-1"),
    ("zhao-lei", "zhao-lei-ipad", "sim-zhao-lei-ipad"),
)
DEMO_OPERATOR = "ops-demo"


@dataclass(frozen=True, slots=True)
class DemoToken:
    who: str
    token: str
    principal: Principal


def token_secret(database_url: str | None) -> bytes:
    """The signing secret: from the environment, or (embedded only) kept beside the database."""
    configured = os.environ.get(SECRET_VARIABLE)
    if configured:
        if len(configured.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"{SECRET_VARIABLE} has at least {MIN_SECRET_BYTES} bytes",
                code=PlatformCode.CONFIG_TOKEN_SECRET,
            )
        return configured.encode()
    parsed = parse_url(configured_url(database_url))
    if parsed.dialect != "sqlite" or parsed.sqlite_path is None:
        raise ConfigurationError(
            f"set {SECRET_VARIABLE} to serve a PostgreSQL database",
            code=PlatformCode.CONFIG_TOKEN_SECRET,
        )
    path = parsed.sqlite_path.with_name(parsed.sqlite_path.name + ".token-secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return Path(path).read_text().strip().encode()


def build_context(database_url: str | None = None, services: Services | None = None) -> ApiContext:
    opened = services or open_services(database_url)
    operations = OperationsSettings.from_environment(configured_url(database_url))
    embedded = parse_url(configured_url(database_url)).dialect == "sqlite"
    settings = ApiSettings(operations=operations, demo_sign_in=embedded)
    return ApiContext(opened, TokenSigner(token_secret(database_url)), settings)


def app_from_environment() -> FastAPI:
    """uvicorn's factory for ``--workers N``: every process builds its own context and logs
    JSON lines (``hongbao.entrypoints.ops.observability``), and stops when the supervisor that
    started it dies (``hongbao.entrypoints.supervision``)."""
    parent = supervisor_pid()
    if parent is not None:
        die_with_parent(parent)
    context = build_context(os.environ.get("HONGBAO_DATABASE_URL"))
    configure_logging(context.services.clock)
    return create_app(context)


def prepare_demo(api: ApiContext) -> list[DemoToken]:
    """Load the demo population and fund its people once; tokens for a few of them."""
    services = api.services
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount(DEMO_BANK, AccountKind.DEBIT_CARD, "CNY")])
    for user, _, _ in DEMO_PEOPLE:
        services.ledger.transfer(
            TransferRequest(
                f"demo-funds:{user}", 1, DEMO_FUNDS_MINOR, DEMO_BANK, f"user:{user}:balance", "CNY"
            )
        )
    now_us = services.clock.now_us()
    lifetime = api.settings.token_lifetime_seconds
    tokens = []
    for user, device, sim in DEMO_PEOPLE:
        token, principal = api.signer.issue(
            user, Role.USER, now_us=now_us, lifetime_seconds=lifetime, device=(device, sim)
        )
        tokens.append(DemoToken(user, token, principal))
    token, principal = api.signer.issue(
        DEMO_OPERATOR, Role.OPERATOR, now_us=now_us, lifetime_seconds=lifetime
    )
    tokens.append(DemoToken(f"{DEMO_OPERATOR} (operator)", token, principal))
    return tokens
