"""Money: integer minor units in one currency, with every rounding rule written down here.

An amount is an ``int`` count of the currency's minor unit (fen for CNY, cents for USD, yen
for JPY, fils for BHD) plus its :class:`Currency`. Floats are refused everywhere: binary
floating point cannot hold 0.1 exactly, and a payments system must never lose or invent a fen.
Decimal text and :class:`~decimal.Decimal` rates are accepted and handled exactly.

Rounding happens in exactly three places, each with one documented rule:

Parsing (:meth:`Money.parse`)
    Never rounds. Text with more decimals than the currency has (``"12.345"`` for CNY) is
    refused with ``money.too_precise``, even when the extra digits are zeros: a sender who
    writes three decimals has a different idea of the unit, and guessing would move money.

Splitting (:meth:`Money.split`)
    Every part gets ``floor(total / n)`` minor units, and the remainder ``r = total mod n``
    is given as one extra minor unit to each of the *first* ``r`` parts. Parts therefore
    differ by at most one minor unit, never increase from first to last, and always add up
    to the total exactly. Example: 1.00 CNY in 3 parts is ``[0.34, 0.33, 0.33]``.

Fees (:meth:`Money.fee`)
    The fee is the exact Decimal product ``amount * rate`` in minor units, rounded to a whole
    minor unit with ``ROUND_HALF_UP`` (四舍五入: halves move away from zero). Examples with a
    rate of ``"0.001"`` (0.1 %):

    * 0.1 % of 12.34 CNY = 1234 fen * 0.001 = 1.234 fen -> **1 fen**
    * 0.1 % of 15.00 CNY = 1500 fen * 0.001 = 1.5 fen   -> **2 fen** (the half goes up)
    * 0.1 % of 14.99 CNY = 1499 fen * 0.001 = 1.499 fen -> **1 fen**

    Because halves move away from zero, the fee on a negative amount is the negative of the
    fee on the positive amount.

Exchange (:func:`convert`)
    The exact target amount, ``source major units * rate`` expressed in *target minor units*,
    is rounded to a whole minor unit with the caller's rounding mode (``ROUND_HALF_UP`` by
    default). The result is an :class:`FxConversion` that records the rate, the rounding mode,
    the exact unrounded amount and the residue (what rounding added, negative if it removed),
    both in target minor units so that they can be compared with the target amount directly.
    Example: 12.34 CNY at 20.5 JPY per CNY is exactly 252.97 yen, paid as 253 JPY with a
    residue of +0.03 yen.

Every error is a :class:`MoneyError` (or :class:`MoneyLimitError`) with a stable ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from types import MappingProxyType
from typing import Final

from hongbao.platform.errors import ErrorCode, InvalidInput, LimitExceeded, Outcome
from hongbao.platform.invariants import invariant
from hongbao.platform.limits import MAX_SPLIT_PARTS, MAX_TRANSFER_AMOUNT

__all__ = [
    "CURRENCIES",
    "MAX_AMOUNT_TEXT_LENGTH",
    "MAX_CURRENCY_EXPONENT",
    "MAX_FX_RATE",
    "MAX_MONEY_MINOR",
    "MAX_RATE_DECIMAL_PLACES",
    "ROUNDING_MODES",
    "Currency",
    "FxConversion",
    "Money",
    "MoneyError",
    "MoneyLimitError",
    "convert",
    "currency",
]

# A single amount may be 1000 times the largest transfer. That leaves room for balances and
# batch totals to be represented as Money, while the sum of two in-range amounts (1e15 each)
# stays more than a thousand times below the int64 limit of 9.2e18.
MAX_MONEY_MINOR: Final = MAX_TRANSFER_AMOUNT * 1000
# ISO 4217 uses at most four decimals (CLF, UYW); more would mean a misconfigured currency.
MAX_CURRENCY_EXPONENT: Final = 4
# Rates with more decimal places than this are almost always a float printed in full
# ("0.1000000000000000055511151231257827") that slipped through as text.
MAX_RATE_DECIMAL_PLACES: Final = 12
# Far above any real exchange rate (1 BHD is about 3,700 KRW), far below anything that could
# push an in-range amount out of exact arithmetic.
MAX_FX_RATE: Final = Decimal(1_000_000)
# The longest valid amount text is about 22 characters; the cap keeps int() on hostile input
# cheap.
MAX_AMOUNT_TEXT_LENGTH: Final = 64
MAX_RATE_TEXT_LENGTH: Final = 64

# Every Decimal mode, by the name the decimal module gives it (the constants are their names).
ROUNDING_MODES: Final = frozenset(
    {
        ROUND_05UP,
        ROUND_CEILING,
        ROUND_DOWN,
        ROUND_FLOOR,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_HALF_UP,
        ROUND_UP,
    }
)

# Plenty for amount (16 digits) x rate (19 digits); exactness is still checked, not assumed.
_EXACT_PRECISION: Final = 80
_ONE: Final = Decimal(1)

_CURRENCY_CODE_PATTERN: Final = re.compile(r"[A-Z]{3}")
# ASCII digits only: "\d" would also accept fullwidth and Arabic-Indic digits.
_AMOUNT_PATTERN: Final = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")
_RATE_PATTERN: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

_ISO_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "AUD": 2,
        "BHD": 3,
        "CAD": 2,
        "CHF": 2,
        "CNY": 2,
        "EUR": 2,
        "GBP": 2,
        "HKD": 2,
        "JPY": 0,
        "KRW": 0,
        "KWD": 3,
        "MOP": 2,
        "SGD": 2,
        "THB": 2,
        "TWD": 2,
        "USD": 2,
    }
)


class MoneyCode(ErrorCode):
    """Codes of the errors money raises; clients switch on their wire values."""

    INVALID = "money.invalid", Outcome.REFUSED, "金额有误。", "The amount is invalid."
    LIMIT_EXCEEDED = (
        "money.limit_exceeded",
        Outcome.REFUSED,
        "金额超出了允许的范围。",
        "A money value is over its limit.",
    )
    INVALID_CURRENCY = (
        "money.invalid_currency",
        Outcome.REFUSED,
        "币种有误。",
        "The currency is invalid.",
    )
    UNKNOWN_CURRENCY = (
        "money.unknown_currency",
        Outcome.NOT_FOUND,
        "不支持这个币种。",
        "No such currency.",
    )
    CURRENCY_MISMATCH = (
        "money.currency_mismatch",
        Outcome.REFUSED,
        "两个金额的币种不一致。",
        "The currencies do not match.",
    )
    FLOAT_REFUSED = (
        "money.float_refused",
        Outcome.REFUSED,
        "金额不能用浮点数表示。",
        "Floats are never amounts.",
    )
    NOT_INTEGER = (
        "money.not_integer",
        Outcome.REFUSED,
        "金额必须是整数个最小货币单位。",
        "An amount is a whole number of minor units.",
    )
    NOT_MONEY = "money.not_money", Outcome.REFUSED, "这不是一个金额。", "The value is not money."
    OUT_OF_RANGE = (
        "money.out_of_range",
        Outcome.REFUSED,
        "金额超出了允许的范围。",
        "The amount is out of range.",
    )
    TOO_PRECISE = (
        "money.too_precise",
        Outcome.REFUSED,
        "金额的小数位数超过了这个币种允许的位数。",
        "The amount has more decimals than the currency.",
    )
    INVALID_FORMAT = (
        "money.invalid_format",
        Outcome.REFUSED,
        "金额格式有误。",
        "The amount is not decimal text.",
    )
    NEGATIVE_SPLIT = (
        "money.negative_split",
        Outcome.REFUSED,
        "负数金额不能拆分。",
        "A negative amount cannot be split.",
    )
    INVALID_SPLIT_PARTS = (
        "money.invalid_split_parts",
        Outcome.REFUSED,
        "拆分的份数有误。",
        "The number of parts is invalid.",
    )
    TOO_MANY_PARTS = (
        "money.too_many_parts",
        Outcome.REFUSED,
        "拆分的份数太多。",
        "Too many parts.",
    )
    INVALID_RATE = "money.invalid_rate", Outcome.REFUSED, "费率或汇率有误。", "The rate is invalid."
    RATE_OUT_OF_RANGE = (
        "money.rate_out_of_range",
        Outcome.REFUSED,
        "费率或汇率超出了允许的范围。",
        "The rate is out of range.",
    )
    RATE_TOO_PRECISE = (
        "money.rate_too_precise",
        Outcome.REFUSED,
        "费率或汇率的小数位数太多。",
        "The rate has too many decimals.",
    )
    SAME_CURRENCY_RATE = (
        "money.same_currency_rate",
        Outcome.REFUSED,
        "同一币种之间的兑换汇率只能是 1。",
        "Converting a currency into itself uses rate 1.",
    )
    INVALID_ROUNDING = (
        "money.invalid_rounding",
        Outcome.REFUSED,
        "不支持这种舍入方式。",
        "The rounding mode is unknown.",
    )


class MoneyError(InvalidInput):
    """An amount, currency, rate or money operation that hongbao refuses; nothing was written."""

    code = MoneyCode.INVALID


class MoneyLimitError(MoneyError, LimitExceeded):
    """A money value is over a limit; catchable both as MoneyError and as LimitExceeded."""

    code = MoneyCode.LIMIT_EXCEEDED


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: its three-letter ``code`` and its ``exponent`` (decimal places).

    A code that is in :data:`CURRENCIES` must carry its ISO exponent, so that no second,
    different "CNY" can exist and silently compare unequal to the real one.
    """

    code: str
    exponent: int

    def __post_init__(self) -> None:
        _check_currency_code(self.code)
        _check_currency_exponent(self.code, self.exponent)

    def __str__(self) -> str:
        return self.code


def _check_currency_code(code: object) -> None:
    if not isinstance(code, str) or _CURRENCY_CODE_PATTERN.fullmatch(code) is None:
        raise MoneyError(
            f"Currency code must be three uppercase ASCII letters (ISO 4217), got {code!r}.",
            code=MoneyCode.INVALID_CURRENCY,
            currency=code,
        )


def _check_currency_exponent(code: str, exponent: object) -> None:
    if type(exponent) is not int or not 0 <= exponent <= MAX_CURRENCY_EXPONENT:
        raise MoneyError(
            f"Currency exponent must be an int from 0 to {MAX_CURRENCY_EXPONENT}, "
            f"got {exponent!r} for {code}.",
            code=MoneyCode.INVALID_CURRENCY,
            currency=code,
            exponent=exponent,
        )
    iso_exponent = _ISO_EXPONENTS.get(code)
    if iso_exponent is not None and iso_exponent != exponent:
        raise MoneyError(
            f"{code} has {iso_exponent} decimal places in ISO 4217, not {exponent}.",
            code=MoneyCode.INVALID_CURRENCY,
            currency=code,
            exponent=exponent,
        )


CURRENCIES: Final[Mapping[str, Currency]] = MappingProxyType(
    {code: Currency(code, exponent) for code, exponent in _ISO_EXPONENTS.items()}
)
"""The currencies hongbao knows, by ISO 4217 code. Read-only."""


def currency(code: str) -> Currency:
    """Return the known :class:`Currency` for ``code`` (exact, uppercase: ``"CNY"``, not ``"cny"``).

    Lookup is case-sensitive on purpose: codes are stored and compared as written, so
    accepting ``"cny"`` here would let two spellings of one currency into the system.
    """
    found = CURRENCIES.get(code) if isinstance(code, str) else None
    if found is None:
        raise MoneyError(
            f"Unknown currency {code!r}; known codes (uppercase) are "
            f"{', '.join(sorted(CURRENCIES))}.",
            code=MoneyCode.UNKNOWN_CURRENCY,
            currency=code,
        )
    return found


def _resolve_currency(currency_or_code: Currency | str) -> Currency:
    if isinstance(currency_or_code, Currency):
        return currency_or_code
    return currency(currency_or_code)


def _check_minor(minor: object) -> int:
    if isinstance(minor, float):
        raise MoneyError(
            f"Money amounts are integer minor units (e.g. 1234 fen for 12.34 CNY), never floats; "
            f"got {minor!r}. Use Money.parse('12.34', 'CNY') for decimal text.",
            code=MoneyCode.FLOAT_REFUSED,
            value=repr(minor),
        )
    # bool is an int subclass and Decimal could carry a fraction: only a plain int is a count.
    if type(minor) is not int:
        raise MoneyError(
            f"Money amounts are integer minor units (e.g. 1234 fen for 12.34 CNY); "
            f"got {type(minor).__name__} {minor!r}.",
            code=MoneyCode.NOT_INTEGER,
            value=repr(minor),
        )
    if abs(minor) > MAX_MONEY_MINOR:
        raise MoneyLimitError(
            f"Amount {minor} minor units is outside ±{MAX_MONEY_MINOR}.",
            code=MoneyCode.OUT_OF_RANGE,
            minor=minor,
            limit=MAX_MONEY_MINOR,
        )
    return minor


@dataclass(frozen=True, slots=True, repr=False)
class Money:
    """An exact amount: ``minor`` integer minor units of ``currency``.

    Immutable and hashable. ``+``, ``-`` and ordering work only between amounts of the same
    currency (anything else raises ``money.currency_mismatch``); ``==`` between different
    currencies is simply ``False`` so that Money can live in sets and dict keys. Money can be
    multiplied by an ``int`` only; percentages go through :meth:`fee` and exchange rates
    through :func:`convert`, which state how they round.
    """

    minor: int
    currency: Currency

    def __post_init__(self) -> None:
        _check_minor(self.minor)
        if not isinstance(self.currency, Currency):
            raise MoneyError(
                f"Money needs a Currency, got {self.currency!r}; "
                "use Money.of(minor, 'CNY') to look a code up.",
                code=MoneyCode.INVALID_CURRENCY,
                currency=repr(self.currency),
            )

    @classmethod
    def of(cls, minor: int, currency: Currency | str) -> Money:
        """Return ``minor`` minor units of ``currency`` (a Currency or a known code)."""
        return cls(minor, _resolve_currency(currency))

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """Return zero in ``currency`` (a Currency or a known code)."""
        return cls(0, _resolve_currency(currency))

    @classmethod
    def parse(cls, text: str, currency: Currency | str) -> Money:
        """Read decimal text in major units (``"12.34"`` CNY is 1234 fen) without rounding.

        Accepted: an optional ``-``, ASCII digits, and optionally ``.`` followed by at most
        ``exponent`` digits. Refused: ``+``, spaces, exponents (``1e3``), thousands separators,
        a bare or trailing ``.``, and floats. Callers strip user input themselves so that what
        is parsed is exactly what is logged.
        """
        target = _resolve_currency(currency)
        match = _match_amount_text(text)
        fraction = match["fraction"] or ""
        if len(fraction) > target.exponent:
            raise MoneyError(
                f"{text!r} has {len(fraction)} decimal places but {target.code} has "
                f"{target.exponent}; amounts are never rounded when parsed.",
                code=MoneyCode.TOO_PRECISE,
                text=text,
                currency=target.code,
            )
        # Both parts are integers: the digits are shifted, never divided, so nothing is lost.
        scale = 10**target.exponent
        padded_fraction = fraction.ljust(target.exponent, "0") or "0"
        magnitude = int(match["whole"]) * scale + int(padded_fraction)
        return cls(-magnitude if match["sign"] else magnitude, target)

    def format(self) -> str:
        """Return the amount in major units with exactly ``exponent`` decimals: ``"-0.50"``."""
        sign = "-" if self.minor < 0 else ""
        exponent = self.currency.exponent
        whole, fraction = divmod(abs(self.minor), 10**exponent)
        if exponent == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{fraction:0{exponent}d}"

    def display(self) -> str:
        """Return the amount with its currency code for people: ``"12.34 CNY"``."""
        return f"{self.format()} {self.currency.code}"

    def to_decimal(self) -> Decimal:
        """Return the exact amount in major units as a Decimal (``Decimal("12.34")``)."""
        # Decimal from text is exact and independent of the current decimal context.
        return Decimal(self.format())

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"<Money {self.display()}>"

    def is_zero(self) -> bool:
        """True when the amount is exactly zero."""
        return self.minor == 0

    def is_positive(self) -> bool:
        """True when the amount is above zero."""
        return self.minor > 0

    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.minor < 0

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(self.minor * _check_factor(factor), self.currency)

    def __rmul__(self, factor: int) -> Money:
        return self.__mul__(factor)

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.minor >= other.minor

    def _require_same_currency(self, other: Money, operation: str) -> None:
        if self.currency != other.currency:
            raise MoneyError(
                f"Cannot {operation} {self.display()} and {other.display()}: amounts in "
                f"{self.currency.code} and {other.currency.code} are never combined "
                "implicitly; convert one first.",
                code=MoneyCode.CURRENCY_MISMATCH,
                left_currency=self.currency.code,
                right_currency=other.currency.code,
            )

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` amounts that add up exactly to this one.

        Rule: every part gets ``floor(total / parts)`` minor units and the first
        ``total mod parts`` parts get one extra, so parts differ by at most one minor unit and
        never increase. ``Money.parse("1.00", "CNY").split(3)`` is ``[0.34, 0.33, 0.33]``.

        Negative amounts are refused (``money.negative_split``): a split shares out money to
        be paid, and a debt has no such meaning. Worse, with floor division the "extra" unit
        would make the first parts *smaller* in size, silently inverting the rule above.
        """
        _check_split_parts(parts)
        if self.minor < 0:
            raise MoneyError(
                f"Cannot split the negative amount {self.display()}; only amounts to be paid "
                "out are split.",
                code=MoneyCode.NEGATIVE_SPLIT,
                amount=self.display(),
            )
        base, remainder = divmod(self.minor, parts)
        shares = [base + 1] * remainder + [base] * (parts - remainder)
        result = [Money(share, self.currency) for share in shares]
        invariant(
            sum(share.minor for share in result) == self.minor and len(result) == parts,
            "split parts must add up to the total",
            total=self.minor,
            parts=parts,
        )
        return result

    def fee(self, rate: Decimal | str) -> Money:
        """Return ``rate`` (a fraction: ``"0.001"`` is 0.1 %) of this amount, in its currency.

        Rounding: ROUND_HALF_UP to a whole minor unit, applied once to the exact product
        (0.1 % of 15.00 CNY is 1.5 fen, charged as 2 fen). ``rate`` must be a Decimal or
        decimal text from 0 to 1 with at most :data:`MAX_RATE_DECIMAL_PLACES` decimals.
        """
        fraction = _parse_rate(rate, purpose="fee rate")
        if not 0 <= fraction <= 1:
            raise MoneyError(
                f"Fee rate must be a fraction from 0 to 1 (0.001 is 0.1 %), got {fraction}.",
                code=MoneyCode.RATE_OUT_OF_RANGE,
                rate=str(fraction),
            )
        exact_fee = _exact_multiply(Decimal(self.minor), fraction)
        return Money(_round_to_integer(exact_fee, ROUND_HALF_UP), self.currency)


def _match_amount_text(text: object) -> re.Match[str]:
    if isinstance(text, float):
        raise MoneyError(
            f"Amounts are parsed from text, never from floats; got {text!r}. "
            "Pass the amount as a string such as '12.34'.",
            code=MoneyCode.FLOAT_REFUSED,
            value=repr(text),
        )
    if not isinstance(text, str) or len(text) > MAX_AMOUNT_TEXT_LENGTH:
        raise MoneyError(
            f"Amount must be text of at most {MAX_AMOUNT_TEXT_LENGTH} characters, "
            f"got {type(text).__name__}.",
            code=MoneyCode.INVALID_FORMAT,
            value=repr(text)[:MAX_AMOUNT_TEXT_LENGTH],
        )
    match = _AMOUNT_PATTERN.fullmatch(text)
    if match is None:
        raise MoneyError(
            f"{text!r} is not an amount; write digits with an optional leading '-' and "
            "decimal point, such as '12.34' or '-0.50'.",
            code=MoneyCode.INVALID_FORMAT,
            text=text,
        )
    return match


def _check_factor(factor: object) -> int:
    if isinstance(factor, float):
        raise MoneyError(
            f"Money is never multiplied by a float ({factor!r}); use fee() for percentages "
            "and convert() for exchange rates, which state how they round.",
            code=MoneyCode.FLOAT_REFUSED,
            value=repr(factor),
        )
    if type(factor) is not int:
        raise MoneyError(
            f"Money can only be multiplied by an int, got {type(factor).__name__}; use fee() "
            "or convert() for fractional factors.",
            code=MoneyCode.NOT_INTEGER,
            value=repr(factor),
        )
    return factor


def _check_split_parts(parts: object) -> None:
    if type(parts) is not int or parts < 1:
        raise MoneyError(
            f"A split needs a whole number of parts from 1 to {MAX_SPLIT_PARTS}, got {parts!r}.",
            code=MoneyCode.INVALID_SPLIT_PARTS,
            parts=repr(parts),
        )
    if parts > MAX_SPLIT_PARTS:
        raise MoneyLimitError(
            f"A split may have at most {MAX_SPLIT_PARTS} parts, got {parts}.",
            code=MoneyCode.TOO_MANY_PARTS,
            parts=parts,
            limit=MAX_SPLIT_PARTS,
        )


def _parse_rate(rate: object, *, purpose: str) -> Decimal:
    """Turn a Decimal or decimal text into a finite Decimal with few enough decimals."""
    value = _rate_to_decimal(rate, purpose=purpose)
    if _decimal_places(value) > MAX_RATE_DECIMAL_PLACES:
        raise MoneyError(
            f"The {purpose} {value} has more than {MAX_RATE_DECIMAL_PLACES} decimal places.",
            code=MoneyCode.RATE_TOO_PRECISE,
            rate=str(value),
        )
    return value


def _rate_to_decimal(rate: object, *, purpose: str) -> Decimal:
    if isinstance(rate, float):
        raise MoneyError(
            f"The {purpose} must be a Decimal or decimal text, never a float ({rate!r}): a "
            "float cannot hold most decimal rates exactly.",
            code=MoneyCode.FLOAT_REFUSED,
            value=repr(rate),
        )
    if isinstance(rate, Decimal) and rate.is_finite():
        return rate
    if (
        isinstance(rate, str)
        and len(rate) <= MAX_RATE_TEXT_LENGTH
        and _RATE_PATTERN.fullmatch(rate) is not None
    ):
        return Decimal(rate)
    raise MoneyError(
        f"The {purpose} must be a finite Decimal or plain decimal text such as '0.001', "
        f"got {rate!r}.",
        code=MoneyCode.INVALID_RATE,
        value=repr(rate)[:MAX_RATE_TEXT_LENGTH],
    )


def _decimal_places(value: Decimal) -> int:
    """Decimal places that carry information: ``Decimal("0.500")`` has one."""
    _, digits, exponent = value.as_tuple()
    invariant(isinstance(exponent, int), "only finite rates reach here", rate=str(value))
    significant = "".join(str(digit) for digit in digits).rstrip("0")
    if not significant:
        return 0
    trailing_zeros = len(digits) - len(significant)
    return max(0, -(int(exponent) + trailing_zeros))


def _exact_context() -> Context:
    # A fresh context per calculation: contexts are mutable and their flags are read below.
    return Context(
        prec=_EXACT_PRECISION,
        rounding=ROUND_HALF_EVEN,
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def _exact_multiply(left: Decimal, right: Decimal, *, shift: int = 0) -> Decimal:
    """Return ``left * right * 10**shift`` and prove that nothing was rounded on the way."""
    context = _exact_context()
    product = context.scaleb(context.multiply(left, right), shift)
    invariant(
        not context.flags[Inexact],
        "money arithmetic must be exact before the one documented rounding",
        left=str(left),
        right=str(right),
        shift=shift,
    )
    return product


def _round_to_integer(exact: Decimal, rounding: str) -> int:
    """Apply the one rounding of a calculation: to a whole minor unit with ``rounding``."""
    rounded = exact.quantize(_ONE, rounding=rounding, context=_exact_context())
    return int(rounded)


@dataclass(frozen=True, slots=True)
class FxConversion:
    """The full record of one currency conversion, enough to explain it later.

    ``rate`` is target major units per source major unit. ``unrounded_target_minor`` is the
    exact result in *target minor units* before rounding, and ``rounding_residue_minor`` is
    ``target.minor - unrounded_target_minor``: positive when rounding added to the amount,
    negative when it removed, always strictly between -1 and 1.
    """

    source: Money
    target: Money
    rate: Decimal
    rounding: str
    unrounded_target_minor: Decimal
    rounding_residue_minor: Decimal

    def explain(self) -> str:
        """One line for people: source, rate, exact result, paid result and residue."""
        return (
            f"{self.source.display()} x {self.rate} = {self.unrounded_target_minor} "
            f"{self.target.currency.code} minor units, paid as {self.target.display()} "
            f"({self.rounding}, residue {self.rounding_residue_minor} minor units)"
        )


def convert(
    money: Money,
    rate: Decimal | str,
    to_currency: Currency | str,
    rounding: str = ROUND_HALF_UP,
) -> FxConversion:
    """Convert ``money`` at ``rate`` (target major units per source major unit).

    ``rate`` is a Decimal or decimal text, ``0 < rate <= MAX_FX_RATE``, with at most
    :data:`MAX_RATE_DECIMAL_PLACES` decimals; floats are refused. ``rounding`` is one of the
    decimal module's modes (see :data:`ROUNDING_MODES`) and is applied once, to a whole
    target minor unit. Converting into the same currency is allowed only at rate 1.
    """
    if not isinstance(money, Money):
        raise MoneyError(
            f"Only Money can be converted, got {type(money).__name__}.",
            code=MoneyCode.NOT_MONEY,
        )
    target_currency = _resolve_currency(to_currency)
    exchange_rate = _parse_rate(rate, purpose="exchange rate")
    _check_fx_rate(exchange_rate, money.currency, target_currency)
    _check_rounding(rounding)
    # source minor * rate moves to target major units scaled by the source exponent; shifting
    # by the exponent difference lands in target minor units (JPY -> CNY shifts by +2).
    shift = target_currency.exponent - money.currency.exponent
    unrounded = _exact_multiply(Decimal(money.minor), exchange_rate, shift=shift)
    target = Money(_round_to_integer(unrounded, rounding), target_currency)
    residue = _exact_context().subtract(Decimal(target.minor), unrounded)
    invariant(
        abs(residue) < 1,
        "rounding to a minor unit moves the amount by less than one minor unit",
        unrounded=str(unrounded),
        target=target.minor,
    )
    return FxConversion(money, target, exchange_rate, rounding, unrounded, residue)


def _check_fx_rate(rate: Decimal, source: Currency, target: Currency) -> None:
    if not 0 < rate <= MAX_FX_RATE:
        raise MoneyError(
            f"Exchange rate must be above 0 and at most {MAX_FX_RATE}, got {rate}.",
            code=MoneyCode.RATE_OUT_OF_RANGE,
            rate=str(rate),
        )
    if source == target and rate != 1:
        raise MoneyError(
            f"Converting {source.code} into itself must use rate 1, got {rate}.",
            code=MoneyCode.SAME_CURRENCY_RATE,
            currency=source.code,
            rate=str(rate),
        )


def _check_rounding(rounding: object) -> None:
    if rounding not in ROUNDING_MODES:
        raise MoneyError(
            f"Unknown rounding mode {rounding!r}; use one of {', '.join(sorted(ROUNDING_MODES))}.",
            code=MoneyCode.INVALID_ROUNDING,
            rounding=repr(rounding),
        )
