"""Funding sources: where a packet's money came from and where a refund goes back (R-P2, R-F2).

Five kinds: the balance (零钱), the money-market sub-account (零钱通) with its confirmation
schedule, debit cards with their bank's maintenance windows, credit cards with their
statement day, and foreign-currency cards; and a sixth for distributors, a distribution
budget (多级分销, R-F5), which ``hongbao.distribution`` registers when it opens one. Local
times are Asia/Shanghai, the time zone the banks and the money-market fund work in.

Card numbers: :func:`mask_card_number` checks a full number (digits, length, Luhn) and returns
the masked form ``"**** **** **** 1234"``, which is all hongbao ever keeps. Every card record
refuses anything that is not in that form, and no error message repeats a card number.

Each source maps to one ledger account (:func:`ledger_account_for`) with a deterministic id,
so the same source always lands in the same account.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, TypeAlias
from zoneinfo import ZoneInfo

from hongbao.identity.errors import IdentityCode
from hongbao.identity.users import IdentityError, check_id, check_text
from hongbao.ledger.model import AccountKind, NewAccount
from hongbao.money import CURRENCIES
from hongbao.platform.clock import from_datetime, is_due, to_datetime
from hongbao.platform.errors import InvariantViolation
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant

__all__ = [
    "DOMESTIC_CURRENCY",
    "LOCAL_TIME_ZONE",
    "MAX_CONFIRMATION_TIMES",
    "MAX_MAINTENANCE_WINDOWS",
    "BalanceSource",
    "BudgetSource",
    "CreditCardSource",
    "DebitCardSource",
    "ForeignCardSource",
    "FundingKind",
    "FundingSource",
    "LedgerAccountRef",
    "MaintenanceWindow",
    "MoneyMarketSource",
    "TimeOfDay",
    "is_luhn_valid",
    "ledger_account_for",
    "mask_card_number",
]

LOCAL_TIME_ZONE: Final = ZoneInfo("Asia/Shanghai")
DOMESTIC_CURRENCY: Final = "CNY"
# A schedule is a handful of entries; the caps keep every scan over them trivially cheap.
MAX_CONFIRMATION_TIMES: Final = 48
MAX_MAINTENANCE_WINDOWS: Final = 32
MIN_CARD_DIGITS: Final = 12
MAX_CARD_DIGITS: Final = 19
MAX_STATEMENT_DAY: Final = 28  # every month has a 28th, so the statement day always exists
_CARD_NUMBER_PATTERN: Final = re.compile(rf"[0-9]{{{MIN_CARD_DIGITS},{MAX_CARD_DIGITS}}}")
_MASKED_CARD_PATTERN: Final = re.compile(r"\*{4} \*{4} \*{4} [0-9]{4}")
_TIME_OF_DAY_PATTERN: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# Any Monday: the weekly pattern repeats, so one reference week shows every overlap.
_REFERENCE_MONDAY: Final = date(2024, 1, 1)


class FundingKind(StrEnum):
    BALANCE = "balance"  # 零钱
    MONEY_MARKET = "money_market"  # 零钱通
    DEBIT_CARD = "debit_card"
    CREDIT_CARD = "credit_card"
    FOREIGN_CARD = "foreign_card"
    BUDGET = "budget"  # a distribution budget the user holds (多级分销)


# --- local time -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """A wall-clock time in Asia/Shanghai, to the minute."""

    hour: int
    minute: int

    def __post_init__(self) -> None:
        valid = (
            type(self.hour) is int
            and type(self.minute) is int
            and 0 <= self.hour <= 23
            and 0 <= self.minute <= 59
        )
        if not valid:
            raise IdentityError(
                f"A time of day needs hour 0..23 and minute 0..59, "
                f"got {self.hour!r:.20}:{self.minute!r:.20}.",
                code=IdentityCode.TIME_OF_DAY_INVALID,
            )

    @classmethod
    def parse(cls, text: str) -> TimeOfDay:
        """Read ``"HH:MM"`` (24-hour, two digits each), as written in policy files."""
        match = _TIME_OF_DAY_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise IdentityError(
                f"A time of day is written 'HH:MM' (00:00 to 23:59), got {text!r:.20}.",
                code=IdentityCode.TIME_OF_DAY_INVALID,
            )
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def minutes(self) -> int:
        return self.hour * 60 + self.minute

    def on(self, day: date) -> int:
        """This time on local ``day``, in microseconds since the epoch."""
        local = datetime.combine(day, time(self.hour, self.minute), tzinfo=LOCAL_TIME_ZONE)
        return from_datetime(local)


def _local_date(moment_us: int) -> date:
    return to_datetime(moment_us).astimezone(LOCAL_TIME_ZONE).date()


# --- card numbers -----------------------------------------------------------------------------


def is_luhn_valid(digits: str) -> bool:
    """The Luhn check digit test (ISO/IEC 7812) on a string of ASCII digits."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = int(character)
        if position % 2 == 1:
            # Every second digit from the right is doubled; 2-digit results add their digits.
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def mask_card_number(card_number: str) -> str:
    """Check a full card number and return the only form hongbao keeps: ``**** **** **** 1234``.

    The number must be 12 to 19 ASCII digits with no spaces and pass the Luhn check;
    otherwise ``identity.card_invalid`` is raised. Neither the message nor the details of the
    error contain the number.
    """
    if not isinstance(card_number, str) or _CARD_NUMBER_PATTERN.fullmatch(card_number) is None:
        raise IdentityError(
            f"A card number is {MIN_CARD_DIGITS} to {MAX_CARD_DIGITS} digits with no spaces "
            "or other characters.",
            code=IdentityCode.CARD_INVALID,
            problem="format",
        )
    if not is_luhn_valid(card_number):
        raise IdentityError(
            "The card number's check digit is wrong; please check for a typing mistake.",
            code=IdentityCode.CARD_INVALID,
            problem="checksum",
        )
    return f"**** **** **** {card_number[-4:]}"


def _check_masked(masked_number: object, source_id: str) -> None:
    if not isinstance(masked_number, str) or _MASKED_CARD_PATTERN.fullmatch(masked_number) is None:
        # The value is deliberately not echoed: it may be a full card number.
        raise IdentityError(
            "masked_number must be the masked form '**** **** **** 1234'; "
            "use mask_card_number() on the full card number.",
            code=IdentityCode.CARD_NOT_MASKED,
            source_id=source_id,
        )


# --- ledger accounts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerAccountRef:
    """The ledger account that holds a funding source's side of every transfer."""

    account_id: str
    kind: AccountKind
    currency: str

    def to_new_account(self) -> NewAccount:
        """The request that opens this account (idempotent on its id) with default flags."""
        return NewAccount(id=self.account_id, kind=self.kind, currency=self.currency)


def _check_account_id(account_id: str) -> None:
    # The source's own ids are valid, but the prefix can push the account id over the id
    # length limit; refusing the source now beats failing when the first packet is paid.
    check_id(account_id, "ledger account id (derived from the source)")


# --- the five sources -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceSource:
    """The user's balance (零钱). Refunds are instant and free (R-F2)."""

    id: str
    user_id: str

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        _check_account_id(self.ledger_account_id)

    @property
    def kind(self) -> FundingKind:
        return FundingKind.BALANCE

    @property
    def currency(self) -> str:
        return DOMESTIC_CURRENCY

    @property
    def ledger_account_id(self) -> str:
        # One balance per user, so the account is named after the user, not the source.
        return f"user:{self.user_id}:balance"


@dataclass(frozen=True, slots=True)
class MoneyMarketSource:
    """The money-market sub-account (零钱通). Money moving in or out confirms only at the
    ``confirmation_times`` of each day (strictly increasing, local time), so a refund is
    frozen until the next one (R-F3)."""

    id: str
    user_id: str
    confirmation_times: tuple[TimeOfDay, ...]

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        _check_account_id(self.ledger_account_id)
        self._check_schedule()

    def _check_schedule(self) -> None:
        times = self.confirmation_times
        well_formed = (
            isinstance(times, tuple)
            and 0 < len(times) <= MAX_CONFIRMATION_TIMES
            and all(isinstance(entry, TimeOfDay) for entry in times)
        )
        # Strictly increasing keeps one canonical form: no duplicates, no order to guess.
        if not well_formed or any(
            later.minutes() <= earlier.minutes() for earlier, later in itertools.pairwise(times)
        ):
            raise IdentityError(
                f"confirmation_times must be 1 to {MAX_CONFIRMATION_TIMES} TimeOfDay values "
                "in strictly increasing order.",
                code=IdentityCode.SCHEDULE_INVALID,
                source_id=self.id,
            )

    @property
    def kind(self) -> FundingKind:
        return FundingKind.MONEY_MARKET

    @property
    def currency(self) -> str:
        return DOMESTIC_CURRENCY

    @property
    def ledger_account_id(self) -> str:
        return f"user:{self.user_id}:money_market"

    def next_confirmation_us(self, now_us: int) -> int:
        """The first confirmation moment that has not yet passed at ``now_us``.

        A confirmation exactly at ``now_us`` has passed (it is due), so the next one is
        returned: money arriving at that instant waits for the following confirmation.
        """
        today = _local_date(now_us)
        # The schedule repeats daily and is non-empty, so tomorrow always has a candidate;
        # candidates are built in time order, so the first upcoming one is the next.
        candidates = [
            entry.on(day)
            for day in (today, today + timedelta(days=1))
            for entry in self.confirmation_times
        ]
        upcoming = [moment for moment in candidates if not is_due(moment, now_us)]
        invariant(bool(upcoming), "a daily schedule has a confirmation tomorrow", now_us=now_us)
        return upcoming[0]


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A bank maintenance window in local time, on ``[start, end)``.

    ``weekday`` is ISO (1 = Monday ... 7 = Sunday) for a weekly window, ``None`` for daily.
    An ``end`` at or before ``start`` means the window crosses midnight and ends the next
    day (a weekly window then ends on the following weekday). ``start == end`` is refused:
    it could mean an empty window or a whole day.
    """

    start: TimeOfDay
    end: TimeOfDay
    weekday: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.start, TimeOfDay) or not isinstance(self.end, TimeOfDay):
            raise IdentityError(
                "A maintenance window's start and end must be TimeOfDay values.",
                code=IdentityCode.MAINTENANCE_WINDOW_INVALID,
            )
        if self.start == self.end:
            raise IdentityError(
                f"A maintenance window cannot start and end at {self.start}; "
                "write a whole day as two windows.",
                code=IdentityCode.MAINTENANCE_WINDOW_INVALID,
            )
        if self.weekday is not None and (
            type(self.weekday) is not int or not 1 <= self.weekday <= 7
        ):
            raise IdentityError(
                f"weekday is ISO 1 (Monday) to 7 (Sunday) or None, got {self.weekday!r:.20}.",
                code=IdentityCode.MAINTENANCE_WINDOW_INVALID,
            )

    @property
    def crosses_midnight(self) -> bool:
        return self.end.minutes() < self.start.minutes()

    def occurrence_starting_on(self, day: date) -> tuple[int, int] | None:
        """The window's ``(start_us, end_us)`` if it starts on local ``day``, else ``None``."""
        if self.weekday is not None and day.isoweekday() != self.weekday:
            return None
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return self.start.on(day), self.end.on(end_day)


@dataclass(frozen=True, slots=True)
class DebitCardSource:
    """A debit card. Refunds arrive in about 2 hours, except during the bank's maintenance
    windows, when they are impossible (R-F2)."""

    id: str
    user_id: str
    bank_name: str
    masked_number: str
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        check_text(self.bank_name, "bank name")
        _check_masked(self.masked_number, self.id)
        _check_account_id(self.ledger_account_id)
        self._check_windows()

    def _check_windows(self) -> None:
        windows = self.maintenance_windows
        if (
            not isinstance(windows, tuple)
            or len(windows) > MAX_MAINTENANCE_WINDOWS
            or not all(isinstance(window, MaintenanceWindow) for window in windows)
        ):
            raise IdentityError(
                f"maintenance_windows must be a tuple of at most {MAX_MAINTENANCE_WINDOWS} "
                "MaintenanceWindow values.",
                code=IdentityCode.MAINTENANCE_WINDOW_INVALID,
                source_id=self.id,
            )
        # A bank that is always in maintenance can never be refunded to, and the end of its
        # maintenance would not exist: refuse the schedule rather than loop looking for it.
        if windows and self._always_in_maintenance():
            raise IdentityError(
                "These maintenance windows cover the whole week; the card could never be used.",
                code=IdentityCode.MAINTENANCE_NEVER_ENDS,
                source_id=self.id,
            )

    def _always_in_maintenance(self) -> bool:
        # The union of windows covers all time exactly when every window's end is covered by
        # another window: any gap begins at the end of some window. One week shows them all.
        week = [_REFERENCE_MONDAY + timedelta(days=offset) for offset in range(7)]
        ends = [
            occurrence[1]
            for window in self.maintenance_windows
            for day in week
            if (occurrence := window.occurrence_starting_on(day)) is not None
        ]
        return all(self.in_maintenance(end) for end in ends)

    @property
    def kind(self) -> FundingKind:
        return FundingKind.DEBIT_CARD

    @property
    def currency(self) -> str:
        return DOMESTIC_CURRENCY

    @property
    def ledger_account_id(self) -> str:
        return f"card:{self.id}"

    def _occurrences_covering(self, now_us: int) -> Iterator[tuple[int, int]]:
        # A window covering now started today or, if it crosses midnight, yesterday.
        today = _local_date(now_us)
        for window in self.maintenance_windows:
            for day in (today - timedelta(days=1), today):
                occurrence = window.occurrence_starting_on(day)
                if occurrence is None:
                    continue
                start_us, end_us = occurrence
                if is_due(start_us, now_us) and not is_due(end_us, now_us):
                    yield occurrence

    def in_maintenance(self, now_us: int) -> bool:
        """True when ``now_us`` is inside one of the bank's maintenance windows."""
        return any(True for _ in self._occurrences_covering(now_us))

    def maintenance_ends_us(self, now_us: int) -> int | None:
        """When the maintenance under way at ``now_us`` is over, or ``None`` if none is.

        Windows that overlap or touch are followed to the end of the last one, so the
        returned moment is one at which the card can really be used again.
        """
        ends_us: int | None = None
        moment = now_us
        # Each step moves past at least one window occurrence of at most two days; the
        # constructor refused schedules that never end, so this bound is never reached.
        for _ in range(7 * len(self.maintenance_windows) + 1):
            covering_ends = [end for _, end in self._occurrences_covering(moment)]
            if not covering_ends:
                return ends_us
            ends_us = moment = max(covering_ends)
        raise InvariantViolation("maintenance always ends", source_id=self.id, now_us=now_us)


@dataclass(frozen=True, slots=True)
class CreditCardSource:
    """A credit card. A refund is impossible once the charge is on an issued statement (R-F2).

    *(interpretation)* The statement for ``statement_day`` covers charges up to the end of
    that day and is issued at 00:00 Asia/Shanghai on the following day.
    """

    id: str
    user_id: str
    issuer: str
    masked_number: str
    statement_day: int

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        check_text(self.issuer, "card issuer")
        _check_masked(self.masked_number, self.id)
        _check_account_id(self.ledger_account_id)
        if type(self.statement_day) is not int or not 1 <= self.statement_day <= MAX_STATEMENT_DAY:
            raise IdentityError(
                f"statement_day must be a day of the month from 1 to {MAX_STATEMENT_DAY}, "
                f"got {self.statement_day!r:.20}.",
                code=IdentityCode.STATEMENT_DAY_OUT_OF_RANGE,
                source_id=self.id,
            )

    @property
    def kind(self) -> FundingKind:
        return FundingKind.CREDIT_CARD

    @property
    def currency(self) -> str:
        return DOMESTIC_CURRENCY

    @property
    def ledger_account_id(self) -> str:
        return f"card:{self.id}"

    def statement_issued_us(self, charged_at_us: int) -> int:
        """When the statement that includes a charge made at ``charged_at_us`` is issued."""
        charge_day = _local_date(charged_at_us)
        next_month = (
            date(charge_day.year + 1, 1, 1)
            if charge_day.month == 12
            else date(charge_day.year, charge_day.month + 1, 1)
        )
        # This month's statement, or next month's if this month's was already issued.
        candidates = [
            _start_of_day_us(month.replace(day=self.statement_day) + timedelta(days=1))
            for month in (charge_day, next_month)
        ]
        upcoming = [moment for moment in candidates if not is_due(moment, charged_at_us)]
        invariant(
            bool(upcoming), "a charge is on this or next month's statement", charged=charged_at_us
        )
        return upcoming[0]

    def is_on_issued_statement(self, charged_at_us: int, now_us: int) -> bool:
        """True once the statement that includes the charge has been issued (已出账单)."""
        return is_due(self.statement_issued_us(charged_at_us), now_us)


def _start_of_day_us(day: date) -> int:
    return TimeOfDay(0, 0).on(day)


@dataclass(frozen=True, slots=True)
class ForeignCardSource:
    """A card in a foreign currency; refunds are converted at the rate at recall time (R-F4)."""

    id: str
    user_id: str
    currency: str
    masked_number: str

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        if self.currency not in CURRENCIES or self.currency == DOMESTIC_CURRENCY:
            foreign_codes = ", ".join(sorted(set(CURRENCIES) - {DOMESTIC_CURRENCY}))
            raise IdentityError(
                f"A foreign card's currency must be a known code other than "
                f"{DOMESTIC_CURRENCY} ({foreign_codes}), got {self.currency!r:.20}.",
                code=IdentityCode.CURRENCY_INVALID,
                source_id=self.id,
            )
        _check_masked(self.masked_number, self.id)
        _check_account_id(self.ledger_account_id)

    @property
    def kind(self) -> FundingKind:
        return FundingKind.FOREIGN_CARD

    @property
    def ledger_account_id(self) -> str:
        return f"card:{self.id}"


def budget_account_id(budget_id: str) -> str:
    """The ledger account that holds a distribution budget's money: the funding source's
    account, named here so that distribution builds on funding, not the other way round."""
    return f"budget:{budget_id}"


@dataclass(frozen=True, slots=True)
class BudgetSource:
    """A distribution budget its holder sends packets from (R-F5). Only
    ``hongbao.distribution`` creates these, in the transaction that opens the budget, so a
    user can never name someone else's budget as their source."""

    id: str
    user_id: str
    budget_id: str

    def __post_init__(self) -> None:
        check_id(self.id, "funding source id")
        check_id(self.user_id, "user id")
        check_id(self.budget_id, "budget id")
        _check_account_id(self.ledger_account_id)

    @property
    def kind(self) -> FundingKind:
        return FundingKind.BUDGET

    @property
    def currency(self) -> str:
        return DOMESTIC_CURRENCY

    @property
    def ledger_account_id(self) -> str:
        return budget_account_id(self.budget_id)


FundingSource: TypeAlias = (
    BalanceSource
    | MoneyMarketSource
    | DebitCardSource
    | CreditCardSource
    | ForeignCardSource
    | BudgetSource
)

_ACCOUNT_KINDS: Final = {
    FundingKind.BALANCE: AccountKind.USER_BALANCE,
    FundingKind.MONEY_MARKET: AccountKind.USER_MONEY_MARKET,
    FundingKind.DEBIT_CARD: AccountKind.DEBIT_CARD,
    FundingKind.CREDIT_CARD: AccountKind.CREDIT_CARD,
    FundingKind.FOREIGN_CARD: AccountKind.FOREIGN_CARD,
    FundingKind.BUDGET: AccountKind.DISTRIBUTION_BUDGET,
}


def ledger_account_for(source: FundingSource) -> LedgerAccountRef:
    """The ledger account of ``source``: ``user:{user_id}:balance``,
    ``user:{user_id}:money_market``, ``card:{source_id}`` for every card, or
    ``budget:{budget_id}`` for a distribution budget."""
    reference = LedgerAccountRef(
        account_id=source.ledger_account_id,
        kind=_ACCOUNT_KINDS[source.kind],
        currency=source.currency,
    )
    invariant(
        is_valid_id(reference.account_id),
        "a funding source maps to a valid ledger account id",
        source_id=source.id,
    )
    return reference
