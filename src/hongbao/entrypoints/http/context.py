"""What every request handler gets: the services, who is asking, in which language, and the
idempotency guard. FastAPI dependencies live here so that routes stay thin."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.responses import Response

from hongbao.bootstrap import Services
from hongbao.entrypoints.http.auth.callers import MoneyCaller, admission_in, money_caller
from hongbao.entrypoints.http.auth.tokens import (
    AuthError,
    Principal,
    TokenSigner,
    acting_user,
    bearer_token,
    token_revoked,
)
from hongbao.entrypoints.http.claims import ClaimDesk
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.errors import ApiError
from hongbao.entrypoints.http.idempotency import (
    check_key,
    keyed_reply,
    refusal_answer,
    request_hash,
)
from hongbao.entrypoints.ops.operations import Operations, OperationsSettings
from hongbao.identity.devices import (
    MAX_CONDITIONS_TEXT,
    DeviceCondition,
    DeviceFingerprint,
    parse_conditions,
)
from hongbao.platform.group_commit import DEFAULT_MAX_BATCH
from hongbao.platform.i18n import Language, parse_language
from hongbao.platform.invariants import present
from hongbao.platform.pipeline import Answer, Keyed, Prepared
from hongbao.storage.unit_of_work import UnitOfWork


@dataclass
class ApiSettings:
    token_lifetime_seconds: int = 24 * 3600
    docs: bool = True
    # The embedded demo: the web console lets a visitor pick a demo person and device (it
    # issues their token); elsewhere people sign in with a token an operator issued.
    demo_sign_in: bool = False
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    # Claims served by the claim lane (plain ASGI) rather than the framework's route; both
    # answer through the same claim desk, in batches of at most claim_batch.
    claim_lane: bool = True
    claim_batch: int = DEFAULT_MAX_BATCH


@dataclass
class ApiContext:
    services: Services
    signer: TokenSigner
    settings: ApiSettings = field(default_factory=ApiSettings)

    def __post_init__(self) -> None:
        self.pipeline = self.services.pipeline
        self.fingerprint_key = self.signer.derive("idempotency-fingerprint")
        self.operations = Operations(self.services, self.settings.operations)
        self.claims = ClaimDesk(
            self.services.database,
            self.services.packets,
            self.pipeline,
            max_batch=self.settings.claim_batch,
            on_batch=self.operations.metrics.observe_claim_batch,
            learned_device=self.operations.learned_device,
        )


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function dependency on the
# thread pool, a hop per dependency per request that cost more than the dependency itself.
async def context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.context
    return found


Context = Annotated[ApiContext, Depends(context)]


async def language(accept_language: Annotated[str | None, Header()] = None) -> Language:
    return parse_language(accept_language)


Lang = Annotated[Language, Depends(language)]


def principal(api: Context, authorization: Annotated[str | None, Header()] = None) -> Principal:
    who = api.signer.verify(bearer_token(authorization), now_us=api.services.clock.now_us())
    api.operations.admit(who)  # rate limits, before the database is asked anything
    if api.services.database.read(lambda uow: uow.api.revoked.get(who.token_id)) is not None:
        raise token_revoked()
    return who


Caller = Annotated[Principal, Depends(principal)]


async def money_user(
    api: Context, authorization: Annotated[str | None, Header()] = None
) -> MoneyCaller:
    """A user on the money path: revocation is read in the request's own transaction."""
    return money_caller(api, authorization)


MoneyUser = Annotated[MoneyCaller, Depends(money_user)]


async def operator(who: Caller) -> Principal:
    if not who.is_operator:
        raise AuthError("only operators may do this", code=AuthCode.OPERATOR_ONLY)
    return who


Operator = Annotated[Principal, Depends(operator)]


async def user(who: Caller) -> Principal:
    return acting_user(who)


User = Annotated[Principal, Depends(user)]


def device_of(
    who: Principal, conditions: frozenset[DeviceCondition] = frozenset()
) -> DeviceFingerprint:
    return DeviceFingerprint(
        present(who.device_id, "user() admits only tokens bound to a device"),
        present(who.sim_id, "user() admits only tokens bound to a device"),
        conditions,
    )


CONDITIONS_HEADER = "Hongbao-Device-Conditions"


async def device_conditions(
    reported: Annotated[
        str | None,
        Header(
            alias=CONDITIONS_HEADER,
            max_length=MAX_CONDITIONS_TEXT,
            description="What the client reports about its device now (R-D6), comma "
            "separated: power_saving, game_acceleration. Absent means none; an unknown one "
            "is refused (identity.device_conditions_invalid).",
        ),
    ] = None,
) -> frozenset[DeviceCondition]:
    return parse_conditions(reported)


Conditions = Annotated[frozenset[DeviceCondition], Depends(device_conditions)]


def ensure_self(who: Principal, user_id: str) -> None:
    """R-A5: a user reads and acts on their own data only; operators on anyone's."""
    if not who.is_operator and who.subject != user_id:
        raise AuthError("you can only see and act on your own data", code=AuthCode.NOT_YOURS)


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def derived_id(prefix: str, who: Principal, key: str) -> str:
    """A domain id (packet, challenge) from the caller and their key: short, stable, valid."""
    digest = hashlib.sha256(f"{who.subject}\x00{key}".encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"


def idempotent(  # noqa: PLR0917 - the request's parts the pipeline needs
    api: ApiContext,
    request: Request,
    who: Principal,
    key: str | None,
    body: bytes,
    lang: Language,
    action: Callable[[], tuple[int, Any]],
    *,
    continuable: bool = False,
) -> Response:
    """Run a state-changing ``action`` once per (caller, key) through the one pipeline: the
    services it calls write in the pipeline's transaction, with the key's record; repeats get
    the first answer. Refusals are answers too (kept and repeated); faults are not.

    ``continuable``: the service carries one operation forward under the key with changing
    bodies, so each distinct body is kept apart and the service itself refuses a key reused
    for another operation."""
    checked = check_key(key)
    fingerprint = request_hash(request.method, request.url.path, body, api.fingerprint_key)
    keyed = Keyed(_owner(who, fingerprint, continuable), checked, fingerprint)

    def step() -> Answer:
        status, payload = action()
        return Answer(status, payload)

    answer = api.pipeline.execute(
        keyed, lambda _uow: Prepared(step), lambda error: refusal_answer(error, lang)
    )
    return keyed_reply(answer, checked)


__all__ = ["ApiError"]


def on_money_path(  # noqa: PLR0917 - the request's parts the pipeline needs
    api: ApiContext,
    request: Request,
    caller: MoneyCaller,
    key: str | None,
    body: bytes,
    lang: Language,
    prepare: Callable[[UnitOfWork, str], Prepared],
    *,
    continuable: bool = False,
) -> Response:
    """A send or a recall: ``prepare`` (given the request's fingerprint) sends the operation's
    reads and returns what the pipeline asks of it; the caller's checks, the key, the operation
    and its answer run in one transaction with one commit (see :meth:`Pipeline.execute`).
    Refusals are rolled back and kept as the key's answer; the caller's own refusals are
    answered but never kept.

    ``continuable``: the operation is carried forward under the key with changing bodies (a
    recall repeated with the challenges it asked for), so each distinct body is kept apart."""
    checked = check_key(key)
    admit, answered = admission_in(api, caller)
    fingerprint = request_hash(request.method, request.url.path, body, api.fingerprint_key)
    keyed = Keyed(_owner(caller.who, fingerprint, continuable), checked, fingerprint)
    try:
        answer = api.pipeline.execute(
            keyed,
            lambda uow: prepare(uow, fingerprint),
            lambda error: refusal_answer(error, lang),
            admit=admit,
        )
    finally:
        answered()
    return keyed_reply(answer, checked)


def _owner(who: Principal, fingerprint: str, continuable: bool) -> str:
    """Whose key it is: the caller's, or per body for an operation carried forward under it."""
    return derived_id("body", who, fingerprint) if continuable else who.subject
