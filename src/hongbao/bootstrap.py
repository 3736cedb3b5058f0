"""Wiring: build services from configuration. The only place that picks concrete adapters."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hongbao.funding.service import FundingService, open_balance
from hongbao.fx import NoRates, RateProvider, rate_provider_from_environment
from hongbao.identity.service import IdentityService
from hongbao.identity.verification import SimulatedProvider, VerificationProvider
from hongbao.ledger.service import Ledger
from hongbao.measures.desk import MeasureDesk
from hongbao.packets.service import PacketService
from hongbao.platform.clock import Clock, DatabaseClock, SystemClock
from hongbao.platform.errors import ConfigurationError, PlatformCode
from hongbao.platform.idempotency import IdempotencyRecord
from hongbao.platform.pipeline import Pipeline
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import JoiningDatabase
from hongbao.policy.document import Policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.review import ReviewDesk
from hongbao.recall.service import RecallService
from hongbao.refunds.desk import RefundDesk
from hongbao.social.service import SocialService
from hongbao.storage.factory import open_clock, open_database
from hongbao.storage.unit_of_work import Database, UnitOfWork
from hongbao.support.service import SupportDesk

PROVIDER_VARIABLE = "HONGBAO_VERIFICATION_PROVIDER"
SIMULATOR_KEY_VARIABLE = "HONGBAO_SIMULATOR_KEY"
POLICY_VARIABLE = "HONGBAO_POLICY"
SHADOW_POLICY_VARIABLE = "HONGBAO_SHADOW_POLICY"
# Only for the simulated provider (demo, drills, tests): its codes are derived from this key,
# so anyone who knows it can compute them. Production uses real providers (see below).
DEMO_SIMULATOR_KEY = "hongbao simulated verification provider, demo and drills only"


@dataclass
class Services:
    database: Database
    clock: Clock
    ledger: Ledger
    identity: IdentityService[UnitOfWork]
    funding: FundingService
    social: SocialService
    packets: PacketService
    recalls: RecallService
    refunds: RefundDesk
    reviews: ReviewDesk
    support: SupportDesk
    measures: MeasureDesk
    policies: PolicyStore
    pipeline: Pipeline[UnitOfWork]
    # What else these services opened for themselves (the database clock's reader).
    closers: tuple[Callable[[], None], ...] = ()

    @property
    def policy(self) -> Policy:
        return self.policies.active()

    def close(self) -> None:
        for close in self.closers:
            close()
        self.database.close()


def verification_provider() -> VerificationProvider:
    """The step-up verification provider named by ``HONGBAO_VERIFICATION_PROVIDER``.

    ``simulated`` (the default) is the only one shipped. A real deployment adds an adapter per
    challenge kind (SMS gateway, face verification, corporate-account check, security
    environment) implementing ``hongbao.identity.verification.VerificationProvider`` and
    routes them with ``ProviderRouter``; this function is where it is chosen.
    """
    name = os.environ.get(PROVIDER_VARIABLE, "simulated")
    if name != "simulated":
        raise ConfigurationError(
            f"unknown verification provider {name!r}; this build ships 'simulated'",
            code=PlatformCode.CONFIG_VERIFICATION_PROVIDER,
        )
    key = os.environ.get(SIMULATOR_KEY_VARIABLE, DEMO_SIMULATOR_KEY)
    return SimulatedProvider(key.encode())


def policy_store() -> PolicyStore:
    """The policy file named by ``HONGBAO_POLICY`` (default: the one shipped with hongbao),
    reloaded when it changes, and the shadow policy of ``HONGBAO_SHADOW_POLICY`` if set."""
    path, shadow = os.environ.get(POLICY_VARIABLE), os.environ.get(SHADOW_POLICY_VARIABLE)
    return PolicyStore.open(Path(path) if path else None, Path(shadow) if shadow else None)


def open_services(database_url: str | None = None, *, clock: Clock | None = None) -> Services:
    """The services of one process. Without ``clock``, deadlines are judged by the clock the
    deployment shares: on PostgreSQL the database server's (every API process, worker and
    command agrees with it and with each other), on the embedded SQLite database this
    process's own."""
    database = open_database(database_url)
    opened = None
    if clock is None:
        try:
            clock = opened = open_clock(database_url)
        except BaseException:
            database.close()
            raise
    services = services_for(
        database,
        clock,
        policies=policy_store(),
        rates=rate_provider_from_environment(),
        provider=verification_provider(),
    )
    if isinstance(opened, DatabaseClock):
        services.closers = (opened.close,)
    return services


def services_for(
    database: Database,
    clock: Clock,
    *,
    policies: PolicyStore | None = None,
    rates: RateProvider | None = None,
    provider: VerificationProvider | None = None,
) -> Services:
    """Every service over one database and clock (tests and embedded tools pass their own).
    The services share one :class:`JoiningDatabase`, so an operation run by the pipeline writes
    in the pipeline's transaction."""
    database = JoiningDatabase(database)
    policies = policies or PolicyStore.fixed()
    rates = rates or NoRates()
    provider = provider or SimulatedProvider(DEMO_SIMULATOR_KEY.encode())
    packets = PacketService(database, clock, policies, rates)
    return Services(
        database=database,
        clock=clock,
        ledger=Ledger(database, clock),
        identity=IdentityService(database, clock, provider, on_register=(open_balance,)),
        funding=FundingService(database, clock),
        social=SocialService(database, clock, policies),
        packets=packets,
        recalls=RecallService(database, clock, packets, policies, provider=provider),
        refunds=RefundDesk(database, clock, policies, rates),
        reviews=ReviewDesk(database, clock, packets),
        support=SupportDesk(database, clock),
        measures=MeasureDesk(database, clock),
        policies=policies,
        pipeline=Pipeline(database, clock, keys_of=_idempotency_keys),
    )


def _idempotency_keys(unit_of_work: UnitOfWork) -> RecordTable[IdempotencyRecord]:
    return unit_of_work.api.idempotency


def open_ledger(database_url: str | None = None, *, clock: Clock | None = None) -> Ledger:
    return Ledger(open_database(database_url), clock or SystemClock())
