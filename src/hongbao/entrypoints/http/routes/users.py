"""/v1/me and /v1/users: profiles, devices and funding sources (R-A1, R-P2, R-A5).

A user sees their own records; operators see everyone's, register users and their devices.
Cards arrive whole and are kept masked only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.context import (
    Caller,
    Context,
    IdempotencyKey,
    Lang,
    Operator,
    RawBody,
    User,
    derived_id,
    ensure_self,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.identity import (
    CreditCardBody,
    DebitCardBody,
    DeviceView,
    ForeignCardBody,
    FundingSourceView,
    MeView,
    MoneyMarketBody,
    NewDeviceBody,
    NewFundingSourceBody,
    NewUserBody,
    UserView,
)
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.identity.devices import Device
from hongbao.identity.service import MAX_LISTED
from hongbao.identity.users import AccountTier, RealNameStatus
from hongbao.identity.users import User as UserRecord
from hongbao.platform.invariants import present

router = APIRouter(prefix="/v1", tags=["users"])
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="at most this many")]


@router.get("/me", response_model=MeView, responses=READ)
def me(api: Context, who: Caller) -> MeView:
    """Who the token speaks for: a user's profile and the device the token is bound to, or
    an operator."""
    user = None if who.is_operator else api.services.identity.user(who.subject)
    return MeView.of(who, user)


@router.get("/users", response_model=list[UserView], responses=READ)
def list_users(api: Context, _: Operator, limit: Limit = 100) -> list[UserView]:
    """Operators: users in id order."""
    return [UserView.of(user) for user in api.services.identity.users(limit)]


@router.post("/users", status_code=201, response_model=UserView, responses=WRITE)
def register_user(
    body: NewUserBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Operators: register a user, registered now, with their balance (零钱). Every tier above
    unverified (未实名) is granted after real-name verification."""

    def action() -> tuple[int, object]:
        verified = body.tier is not AccountTier.UNVERIFIED
        real_name = RealNameStatus.VERIFIED if verified else RealNameStatus.NOT_VERIFIED
        now_us = api.services.clock.now_us()
        user = UserRecord(
            body.id,
            body.display_name,
            body.tier,
            body.user_type,
            now_us,
            real_name,
            body.age_band,
            body.is_vip,
        )
        stored = api.services.identity.register_user(user)
        return 201, UserView.of(stored).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.get("/users/{user_id}", response_model=UserView, responses=READ)
def show_user(user_id: str, api: Context, who: Caller) -> UserView:
    """A user's profile: the user themselves or an operator."""
    ensure_self(who, user_id)
    return UserView.of(api.services.identity.user(user_id))


@router.get("/users/{user_id}/devices", response_model=list[DeviceView], responses=READ)
def list_devices(user_id: str, api: Context, who: Caller) -> list[DeviceView]:
    """A user's devices with the capabilities their rules give them (R-D1..R-D3)."""
    ensure_self(who, user_id)
    api.services.identity.user(user_id)
    return [DeviceView.of(device) for device in api.services.identity.devices_of(user_id)]


@router.post(
    "/users/{user_id}/devices", status_code=201, response_model=DeviceView, responses=WRITE
)
def register_device(
    user_id: str,
    body: NewDeviceBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Operators: register a device (device id + SIM, R-A1) to a user. A device id belongs
    to one user."""

    def action() -> tuple[int, object]:
        device = Device(
            body.device_id,
            user_id,
            body.sim_id,
            body.platform,
            body.os_version,
            body.vendor_skin,
            body.model,
            body.form_factor,
            api.services.clock.now_us(),
        )
        stored = api.services.identity.register_device(device)
        return 201, DeviceView.of(stored).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.get(
    "/users/{user_id}/funding-sources", response_model=list[FundingSourceView], responses=READ
)
def list_funding_sources(user_id: str, api: Context, who: Caller) -> list[FundingSourceView]:
    """Where a user's money can come from: cards appear masked."""
    ensure_self(who, user_id)
    api.services.identity.user(user_id)
    sources = api.services.funding.funding_sources(user_id)
    return [FundingSourceView.of(source) for source in sources]


@router.post(
    "/users/{user_id}/funding-sources",
    status_code=201,
    response_model=FundingSourceView,
    responses=WRITE,
)
def add_funding_source(
    user_id: str,
    body: NewFundingSourceBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The user adds a card or a money-market account (零钱通) of their own. Its id comes
    from the Idempotency-Key; only the card's mask is kept."""
    ensure_self(who, user_id)

    def action() -> tuple[int, object]:
        key = present(idempotency_key, "idempotent() checked the Idempotency-Key")
        source = _source(body, derived_id("fs", who, key), user_id)
        stored = api.services.funding.add_funding_source(source)
        return 201, FundingSourceView.of(stored).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


def _source(
    body: DebitCardBody | CreditCardBody | ForeignCardBody | MoneyMarketBody,
    source_id: str,
    user_id: str,
) -> FundingSource:
    match body:
        case DebitCardBody():
            windows = tuple(
                MaintenanceWindow(TimeOfDay.parse(w.start), TimeOfDay.parse(w.end), w.weekday)
                for w in body.maintenance_windows
            )
            masked = mask_card_number(body.card_number)
            return DebitCardSource(source_id, user_id, body.bank_name, masked, windows)
        case CreditCardBody():
            masked = mask_card_number(body.card_number)
            return CreditCardSource(source_id, user_id, body.issuer, masked, body.statement_day)
        case ForeignCardBody():
            masked = mask_card_number(body.card_number)
            return ForeignCardSource(source_id, user_id, body.currency, masked)
        case MoneyMarketBody():
            times = tuple(TimeOfDay.parse(text) for text in body.confirmation_times)
            return MoneyMarketSource(source_id, user_id, times)
