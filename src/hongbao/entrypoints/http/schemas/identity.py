"""Bodies of /v1/me, /v1/users (devices, funding sources) and /v1/groups.

Card numbers come in whole (digits only) and go out masked: hongbao keeps nothing else.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictBool

from hongbao.entrypoints.http.auth.tokens import Principal, Role
from hongbao.entrypoints.http.schemas import WHOLE, Amount, Body, Id, Text, iso_time
from hongbao.entrypoints.http.schemas.variants import Variant, VariantBody, Variants, Within
from hongbao.funding.sources import (
    MAX_CONFIRMATION_TIMES,
    MAX_MAINTENANCE_WINDOWS,
    MAX_STATEMENT_DAY,
    BudgetSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    MaintenanceWindow,
    MoneyMarketSource,
)
from hongbao.identity.devices import (
    Device,
    DeviceCapability,
    FormFactor,
    Platform,
    VendorSkin,
    derive_capabilities,
)
from hongbao.identity.errors import IdentityCode
from hongbao.identity.users import AccountTier, AgeBand, User, UserType
from hongbao.social.groups import Group, GroupMember, GroupType

CardNumber = Annotated[str, Field(pattern=r"^[0-9]{12,19}$", examples=["6222020000000000000"])]
TimeOfDayText = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
OsVersion = Annotated[str, Field(pattern=r"^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$", examples=["17.1"])]


class UserView(Body):
    id: str
    display_name: str
    tier: AccountTier
    user_type: UserType
    real_name_status: str
    age_band: AgeBand | None
    is_vip: bool
    status: str  # normal | abnormal | frozen
    status_reason: str | None
    registered_at_us: int
    registered_at: str

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            display_name=user.display_name,
            tier=user.tier,
            user_type=user.user_type,
            real_name_status=user.real_name_status.value,
            age_band=user.age_band,
            is_vip=user.is_vip,
            status=user.status.value,
            status_reason=user.status_reason,
            registered_at_us=user.registered_at_us,
            registered_at=iso_time(user.registered_at_us),
        )


class NewUserBody(Body):
    id: Id
    display_name: Text
    tier: AccountTier = AccountTier.CLASS_I
    user_type: UserType = UserType.NORMAL
    age_band: AgeBand | None = None
    is_vip: StrictBool = False


class MeView(Body):
    subject: str
    role: Role
    device_id: str | None  # the device the token is bound to (users)
    sim_id: str | None
    token_expires_at_us: int
    token_expires_at: str
    user: UserView | None  # the profile, for a user

    @classmethod
    def of(cls, who: Principal, user: User | None) -> MeView:
        return cls(
            subject=who.subject,
            role=who.role,
            device_id=who.device_id,
            sim_id=who.sim_id,
            token_expires_at_us=who.expires_at_us,
            token_expires_at=iso_time(who.expires_at_us),
            user=None if user is None else UserView.of(user),
        )


class CapabilityView(Body):
    kind: str
    rule: str
    reason: str
    recall_cap: Amount | None  # the largest packet this device may recall (watches)

    @classmethod
    def of(cls, item: DeviceCapability) -> CapabilityView:
        cap = item.amount_cap_fen
        return cls(
            kind=item.kind.value,
            rule=item.rule,
            reason=item.reason,
            recall_cap=None if cap is None else Amount.of(cap, "CNY"),
        )


class DeviceView(Body):
    device_id: str
    sim_id: str
    user_id: str
    platform: Platform
    os_version: str
    vendor_skin: VendorSkin
    model: str
    form_factor: FormFactor
    registered_at_us: int
    capabilities: list[CapabilityView]

    @classmethod
    def of(cls, device: Device) -> DeviceView:
        return cls(
            device_id=device.device_id,
            sim_id=device.sim_id,
            user_id=device.user_id,
            platform=device.platform,
            os_version=device.os_version,
            vendor_skin=device.vendor_skin,
            model=device.model,
            form_factor=device.form_factor,
            registered_at_us=device.registered_at_us,
            capabilities=[CapabilityView.of(i) for i in derive_capabilities(device).items],
        )


# Combinations no real device reports are refused (the domain's ``Device`` checks the same):
# watch platforms run only on watches, iOS never on one, iOS and watchOS have no vendor skin.
_NOT_WATCHES = (FormFactor.PHONE, FormFactor.TABLET)
_NO_SKIN = (VendorSkin.NONE,)
DEVICE_VARIANTS = Variants(
    "platform",
    (
        Variant(
            "ios",
            (Platform.IOS,),
            (
                Within("form_factor", _NOT_WATCHES, IdentityCode.DEVICE_INCONSISTENT),
                Within("vendor_skin", _NO_SKIN, IdentityCode.DEVICE_INCONSISTENT),
            ),
        ),
        Variant("android", (Platform.ANDROID, Platform.HARMONYOS), ()),
        Variant(
            "watchos",
            (Platform.WATCHOS,),
            (
                Within("form_factor", (FormFactor.WATCH,), IdentityCode.DEVICE_INCONSISTENT),
                Within("vendor_skin", _NO_SKIN, IdentityCode.DEVICE_INCONSISTENT),
            ),
        ),
        Variant(
            "wearos",
            (Platform.WEAROS,),
            (Within("form_factor", (FormFactor.WATCH,), IdentityCode.DEVICE_INCONSISTENT),),
        ),
    ),
)


class NewDeviceBody(Body, VariantBody):
    variants: ClassVar[Variants] = DEVICE_VARIANTS
    device_id: Id
    sim_id: Id
    platform: Platform
    os_version: OsVersion
    model: Text
    vendor_skin: VendorSkin = VendorSkin.NONE
    form_factor: FormFactor = FormFactor.PHONE


class WindowView(Body):
    start: TimeOfDayText
    end: TimeOfDayText
    weekday: Annotated[int, Field(ge=1, le=7, strict=True), WHOLE] | None = (
        None  # ISO; none: every day
    )


class FundingSourceView(Body):
    id: str
    user_id: str
    kind: str
    currency: str
    masked_number: str | None = None  # cards
    bank: str | None = None  # debit card bank or credit card issuer
    statement_day: int | None = None  # credit cards
    maintenance_windows: list[WindowView] | None = None  # debit cards
    confirmation_times: list[str] | None = None  # money market (零钱通)
    budget_id: str | None = None  # distribution budgets

    @classmethod
    def of(cls, source: FundingSource) -> FundingSourceView:
        common = {
            "id": source.id,
            "user_id": source.user_id,
            "kind": source.kind.value,
            "currency": source.currency,
        }
        match source:
            case DebitCardSource():
                windows = [_window(w) for w in source.maintenance_windows]
                return cls(
                    **common,
                    masked_number=source.masked_number,
                    bank=source.bank_name,
                    maintenance_windows=windows,
                )
            case CreditCardSource():
                return cls(
                    **common,
                    masked_number=source.masked_number,
                    bank=source.issuer,
                    statement_day=source.statement_day,
                )
            case ForeignCardSource():
                return cls(**common, masked_number=source.masked_number)
            case MoneyMarketSource():
                return cls(**common, confirmation_times=[str(t) for t in source.confirmation_times])
            case BudgetSource():
                return cls(**common, budget_id=source.budget_id)
        return cls(**common)


def _window(window: MaintenanceWindow) -> WindowView:
    return WindowView(start=str(window.start), end=str(window.end), weekday=window.weekday)


class DebitCardBody(Body):
    kind: Literal["debit_card"]
    bank_name: Text
    card_number: CardNumber
    maintenance_windows: Annotated[
        tuple[WindowView, ...], Field(max_length=MAX_MAINTENANCE_WINDOWS)
    ] = ()


class CreditCardBody(Body):
    kind: Literal["credit_card"]
    issuer: Text
    card_number: CardNumber
    statement_day: Annotated[int, Field(ge=1, le=MAX_STATEMENT_DAY, strict=True), WHOLE]


class ForeignCardBody(Body):
    kind: Literal["foreign_card"]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    card_number: CardNumber


class MoneyMarketBody(Body):
    kind: Literal["money_market"]
    confirmation_times: Annotated[
        list[TimeOfDayText], Field(min_length=1, max_length=MAX_CONFIRMATION_TIMES)
    ]


NewFundingSourceBody = Annotated[
    DebitCardBody | CreditCardBody | ForeignCardBody | MoneyMarketBody,
    Field(discriminator="kind"),
]


class MemberView(Body):
    user_id: str
    joined_at_us: int
    left_at_us: int | None


class GroupView(Body):
    id: str
    name: str
    type: GroupType
    owner_user_id: str
    created_at_us: int
    created_at: str
    members: list[MemberView]  # every membership record, oldest first

    @classmethod
    def of(cls, group: Group, members: list[GroupMember]) -> GroupView:
        ordered = sorted(members, key=lambda m: (m.joined_at_us, m.user_id))
        return cls(
            id=group.id,
            name=group.name,
            type=group.group_type,
            owner_user_id=group.owner_user_id,
            created_at_us=group.created_at_us,
            created_at=iso_time(group.created_at_us),
            members=[
                MemberView(user_id=m.user_id, joined_at_us=m.joined_at_us, left_at_us=m.left_at_us)
                for m in ordered
            ],
        )


class NewGroupBody(Body):
    name: Text
    type: GroupType


class NewMemberBody(Body):
    user_id: Id
