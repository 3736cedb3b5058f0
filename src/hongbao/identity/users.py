"""Users and enterprises: who may act, at which account tier, in which standing.

This module also holds :class:`IdentityError` and the small field checks that every identity
module shares, so that one kind of bad input is refused with one code everywhere.

Records are frozen values. Times are integer microseconds since the epoch (UTC); whether a
moment has passed is decided only by :func:`hongbao.platform.clock.is_due`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from hongbao.identity.errors import IdentityCode
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.errors import InvalidInput
from hongbao.platform.ids import is_valid_id
from hongbao.platform.limits import MAX_ID_LENGTH

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_REASON_LENGTH",
    "MICROSECONDS_PER_DAY",
    "AccountTier",
    "AgeBand",
    "Enterprise",
    "IdentityError",
    "RealNameStatus",
    "User",
    "UserStatus",
    "UserType",
    "check_id",
    "check_member",
    "check_text",
    "check_timestamp_us",
    "mask_corporate_account",
]

MICROSECONDS_PER_DAY: Final = 86_400 * MICROSECONDS_PER_SECOND
# Names and reasons are shown to people and written to audit logs: long enough for any real
# name or explanation, short enough that nobody can store a document in them.
MAX_NAME_LENGTH: Final = 128
MAX_REASON_LENGTH: Final = 500
# A timestamp after the year 9999 is a unit mistake (nanoseconds or a float), not a date.
MAX_TIMESTAMP_US: Final = 253_402_300_800 * MICROSECONDS_PER_SECOND
# Chinese corporate settlement accounts have 8 to 32 digits depending on the bank.
_CORPORATE_ACCOUNT_PATTERN: Final = re.compile(r"[0-9]{8,32}")
_MASKED_CORPORATE_ACCOUNT_PATTERN: Final = re.compile(r"\*{4} [0-9]{4}")


EnumType = TypeVar("EnumType", bound=StrEnum)


class IdentityError(InvalidInput):
    """Identity input that hongbao refuses; ``code`` says which rule it broke."""

    code = IdentityCode.INVALID


def check_id(value: object, field: str) -> str:
    """Return ``value`` if it is a valid hongbao id, else refuse it with ``identity.id_invalid``."""
    if not is_valid_id(value):
        raise IdentityError(
            f"{field} must be 1 to {MAX_ID_LENGTH} characters of letters, digits and ':._-/', "
            f"starting with a letter or digit; got {_preview(value)}.",
            code=IdentityCode.ID_INVALID,
            field=field,
        )
    return str(value)


def check_text(value: object, field: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``value`` if it is one line of printable, non-blank text and not too long.

    Surrounding spaces are refused rather than stripped, so that what is stored is exactly
    what the caller sent and logged; control characters (newlines included) are refused so
    that a name or reason can never forge an extra line in a log or an audit trail.
    """
    if (
        not isinstance(value, str)
        or not value.strip()
        or value != value.strip()
        or len(value) > max_length
        or not value.isprintable()
    ):
        raise IdentityError(
            f"{field} must be one line of printable text, at most {max_length} characters, "
            f"without leading or trailing spaces; got {_preview(value)}.",
            code=IdentityCode.TEXT_INVALID,
            field=field,
        )
    return value


def check_timestamp_us(value: object, field: str) -> int:
    """Return ``value`` if it is an integer count of microseconds in a plausible range."""
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP_US:
        raise IdentityError(
            f"{field} must be integer microseconds since the epoch (UTC), got {_preview(value)}.",
            code=IdentityCode.TIME_INVALID,
            field=field,
        )
    return value


def check_member(value: object, enum: type[EnumType], field: str) -> EnumType:
    """Return ``value`` if it is a member of ``enum``; plain strings must be converted first.

    Refusing ``"class_i"`` where ``AccountTier.CLASS_I`` is expected keeps every stored
    record made of real members, so a typo can never pass as an unknown tier.
    """
    if not isinstance(value, enum):
        allowed = ", ".join(member.value for member in enum)
        raise IdentityError(
            f"{field} must be a {enum.__name__} ({allowed}), got {_preview(value)}.",
            code=IdentityCode.ENUM_INVALID,
            field=field,
        )
    return value


def _preview(value: object) -> str:
    # Error messages show a short, safe rendering of the value: enough to find the mistake,
    # never a whole hostile payload.
    return repr(value)[:40]


class AccountTier(StrEnum):
    """The account tier decides how many recalls a day and how much money (R-A4)."""

    UNVERIFIED = "unverified"  # 未实名: no recalls at all
    CLASS_I = "class_i"  # 一类账户
    CLASS_II = "class_ii"  # 二类账户
    CLASS_III = "class_iii"  # 三类账户
    ENTERPRISE = "enterprise"  # 企业账户


class UserType(StrEnum):
    """The user type decides safe recalls, score coefficient and penalty period (R-S4)."""

    NORMAL = "normal"
    BUSINESS = "business"
    ENTERPRISE = "enterprise"


class RealNameStatus(StrEnum):
    """Progress of real-name verification (实名认证)."""

    NOT_VERIFIED = "not_verified"
    PENDING = "pending"
    VERIFIED = "verified"


class AgeBand(StrEnum):
    """Age bands for measuring misoperation and help-page use (R-U4)."""

    FROM_18_TO_25 = "18-25"
    FROM_26_TO_35 = "26-35"
    FROM_36 = "36+"  # 36 to 59 since the 60+ band exists (the value predates it)
    FROM_60 = "60+"  # offered human support first after a refusal (R-U5: 29 % need it)


class UserStatus(StrEnum):
    """Account standing. Anything but ``NORMAL`` blocks refunds into the balance (R-F2)."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class User:
    """A person or organisation that sends, claims and recalls red packets.

    ``age_band`` is ``None`` when the age is not known (for example before real-name
    verification). ``status_reason`` is required exactly when ``status`` is not ``NORMAL``,
    so every restriction can be explained to the user and to support.
    """

    id: str
    display_name: str
    tier: AccountTier
    user_type: UserType
    registered_at_us: int
    real_name_status: RealNameStatus
    age_band: AgeBand | None = None
    is_vip: bool = False
    status: UserStatus = UserStatus.NORMAL
    status_reason: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "user id")
        check_text(self.display_name, "display name")
        check_member(self.tier, AccountTier, "tier")
        check_member(self.user_type, UserType, "user type")
        check_timestamp_us(self.registered_at_us, "registration time")
        check_member(self.real_name_status, RealNameStatus, "real-name status")
        if self.age_band is not None:
            check_member(self.age_band, AgeBand, "age band")
        if not isinstance(self.is_vip, bool):
            raise IdentityError("is_vip must be True or False.", code=IdentityCode.FLAG_INVALID)
        check_member(self.status, UserStatus, "status")
        self._check_tier_matches_identity()
        self._check_status_reason()

    def _check_tier_matches_identity(self) -> None:
        # Every tier above 未实名 is granted only after real-name verification, so a verified
        # tier on an unverified person is a contradiction that would grant limits wrongly.
        if self.tier is not AccountTier.UNVERIFIED and (
            self.real_name_status is not RealNameStatus.VERIFIED
        ):
            raise IdentityError(
                f"Tier {self.tier.value} requires a verified real name, "
                f"but the real-name status is {self.real_name_status.value}.",
                code=IdentityCode.TIER_REQUIRES_REAL_NAME,
                user_id=self.id,
            )
        # The enterprise tier (R-A4) and the enterprise user type (R-S4) describe the same
        # accounts; letting them disagree would apply one rule set's limits and the other's
        # penalties to the same user.
        if (self.tier is AccountTier.ENTERPRISE) != (self.user_type is UserType.ENTERPRISE):
            raise IdentityError(
                f"Tier {self.tier.value} and user type {self.user_type.value} disagree: "
                "the enterprise tier and the enterprise user type go together.",
                code=IdentityCode.ENTERPRISE_TIER_MISMATCH,
                user_id=self.id,
            )

    def _check_status_reason(self) -> None:
        if self.status is UserStatus.NORMAL:
            if self.status_reason is not None:
                raise IdentityError(
                    "A user in normal standing has no status reason; clear it with the status.",
                    code=IdentityCode.STATUS_REASON_UNEXPECTED,
                    user_id=self.id,
                )
            return
        if self.status_reason is None:
            raise IdentityError(
                f"A {self.status.value} user needs a status reason that explains why.",
                code=IdentityCode.STATUS_REASON_REQUIRED,
                user_id=self.id,
            )
        check_text(self.status_reason, "status reason", max_length=MAX_REASON_LENGTH)

    @property
    def is_in_good_standing(self) -> bool:
        """True when the account is neither abnormal nor frozen."""
        return self.status is UserStatus.NORMAL

    def account_age_us(self, now_us: int) -> int:
        """Microseconds since registration; zero if ``now_us`` is before registration.

        A clock that lags the registration record must not produce a negative age, which
        would read as "older than any limit" in a careless comparison.
        """
        return max(0, now_us - self.registered_at_us)

    def is_newer_than(self, days: int, now_us: int) -> bool:
        """True while fewer than ``days`` whole days have passed since registration (R-A3).

        Exactly ``days`` days after registration the account is no longer new.
        """
        if type(days) is not int or days < 0:
            raise IdentityError(
                f"days must be a non-negative integer, got {_preview(days)}.",
                code=IdentityCode.DAYS_INVALID,
            )
        return not is_due(self.registered_at_us + days * MICROSECONDS_PER_DAY, now_us)


def mask_corporate_account(account_number: str) -> str:
    """Return the only form of a corporate account number that hongbao keeps: ``"**** 1234"``.

    The number must be 8 to 32 ASCII digits. The error never repeats the number.
    """
    if (
        not isinstance(account_number, str)
        or _CORPORATE_ACCOUNT_PATTERN.fullmatch(account_number) is None
    ):
        raise IdentityError(
            "A corporate account number must be 8 to 32 digits with no spaces.",
            code=IdentityCode.CORPORATE_ACCOUNT_INVALID,
        )
    return f"**** {account_number[-4:]}"


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An organisation that sends enterprise red packets through its owner's user account.

    ``corporate_account_masked`` holds only the masked form from
    :func:`mask_corporate_account`; a certified enterprise must have one on file, because
    certification is proven by corporate-account verification (R-A4).
    """

    id: str
    name: str
    owner_user_id: str
    is_certified: bool
    corporate_account_masked: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "enterprise id")
        check_text(self.name, "enterprise name")
        check_id(self.owner_user_id, "owner user id")
        if not isinstance(self.is_certified, bool):
            raise IdentityError(
                "is_certified must be True or False.", code=IdentityCode.FLAG_INVALID
            )
        self._check_corporate_account()

    def _check_corporate_account(self) -> None:
        masked = self.corporate_account_masked
        if masked is None:
            if self.is_certified:
                raise IdentityError(
                    "A certified enterprise needs its corporate account on file.",
                    code=IdentityCode.CERTIFIED_ENTERPRISE_NEEDS_ACCOUNT,
                    enterprise_id=self.id,
                )
            return
        if (
            not isinstance(masked, str)
            or _MASKED_CORPORATE_ACCOUNT_PATTERN.fullmatch(masked) is None
        ):
            # The value is deliberately not echoed: it may be the full account number.
            raise IdentityError(
                "corporate_account_masked must be the masked form '**** 1234'; "
                "use mask_corporate_account() on the full number.",
                code=IdentityCode.ACCOUNT_NOT_MASKED,
                enterprise_id=self.id,
            )
