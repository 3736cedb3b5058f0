"""Exchange rates: a provider port, a file-backed provider, and the one freshness rule.

A rate reads "1 ``base`` = ``rate`` ``quote``" and carries the moment it was observed. A rate
older than the caller's maximum age, or observed in the future, is refused rather than used:
converting money at a guessed rate is worse than saying no. Rates are decimal text in files
and ``Decimal`` in memory, never floats.

The rates file (TOML, path in ``HONGBAO_FX_RATES``)::

    [[rates]]
    base = "CNY"
    quote = "USD"
    rate = "0.1405"
    as_of = "2026-11-29T08:00:00+08:00"
    source = "bank of example, mid"
"""

from __future__ import annotations

import os
import threading
import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Protocol

from hongbao.money import CURRENCIES
from hongbao.platform.clock import from_datetime, is_due
from hongbao.platform.errors import ConfigurationError, ErrorCode, InvalidInput, Outcome

RATES_VARIABLE: Final = "HONGBAO_FX_RATES"
MAX_RATES: Final = 10_000
MAX_RATES_FILE_BYTES: Final = 5_000_000


class FxCode(ErrorCode):
    """Codes of the errors exchange rates raise; clients switch on their wire values."""

    RATE_UNAVAILABLE = (
        "fx.rate_unavailable",
        Outcome.REFUSED,
        "暂时没有可用的汇率。",
        "No usable exchange rate.",
    )
    RATE_MISSING = (
        "fx.rate_missing",
        Outcome.REFUSED,
        "没有这两个币种之间的汇率。",
        "No rate for this pair.",
    )
    RATE_FROM_FUTURE = (
        "fx.rate_from_future",
        Outcome.REFUSED,
        "汇率的时间晚于当前时间。",
        "The rate was observed in the future.",
    )
    RATE_STALE = "fx.rate_stale", Outcome.REFUSED, "汇率已过期。", "The rate is too old."
    RATES_UNREADABLE = (
        "fx.rates_unreadable",
        Outcome.FAULT,
        "无法读取汇率文件。",
        "The rates file cannot be read.",
    )
    RATES_INVALID = (
        "fx.rates_invalid",
        Outcome.FAULT,
        "汇率文件有误。",
        "The rates file is invalid.",
    )


class FxError(InvalidInput):
    """No usable rate: nothing was written."""

    code = FxCode.RATE_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    base: str
    quote: str
    rate: Decimal
    as_of_us: int
    source: str


class RateProvider(Protocol):
    def latest(self, base: str, quote: str) -> ExchangeRate | None:
        """The newest known rate from ``base`` to ``quote``, or None."""
        ...


def usable_rate(
    provider: RateProvider, base: str, quote: str, *, now_us: int, max_age_us: int
) -> ExchangeRate:
    """The rate to convert at now, or :class:`FxError` saying why there is none."""
    rate = provider.latest(base, quote)
    if rate is None:
        raise FxError(
            f"no exchange rate from {base} to {quote} is available",
            code=FxCode.RATE_MISSING,
            base=base,
            quote=quote,
        )
    if not is_due(rate.as_of_us, now_us):
        raise FxError(
            f"the {base}/{quote} rate is dated in the future",
            code=FxCode.RATE_FROM_FUTURE,
            base=base,
            quote=quote,
            as_of_us=rate.as_of_us,
        )
    if is_due(rate.as_of_us + max_age_us + 1, now_us):
        raise FxError(
            f"the newest {base}/{quote} rate is too old to convert money at",
            code=FxCode.RATE_STALE,
            base=base,
            quote=quote,
            as_of_us=rate.as_of_us,
        )
    return rate


class NoRates:
    """The provider when none is configured: every conversion is refused, clearly."""

    def latest(self, base: str, quote: str) -> ExchangeRate | None:
        del base, quote
        return None


class FileRateProvider:
    """Rates from a TOML file, re-read whenever the file changes (so operators can publish)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._rates: dict[tuple[str, str], ExchangeRate] = {}
        self._load()

    def latest(self, base: str, quote: str) -> ExchangeRate | None:
        self._load()
        return self._rates.get((base, quote))

    def _load(self) -> None:
        with self._lock:
            try:
                status = self.path.stat()
                stamp = (status.st_mtime_ns, status.st_size)
                if stamp == self._stamp:
                    return
                content = self.path.read_bytes()
            except OSError as error:
                raise ConfigurationError(
                    f"cannot read exchange rates {self.path}: {error}", code=FxCode.RATES_UNREADABLE
                ) from error
            self._rates = parse_rates(content, source=str(self.path))
            self._stamp = stamp


def parse_rates(content: bytes, *, source: str) -> dict[tuple[str, str], ExchangeRate]:
    """Every rate in a rates file, the newest per pair; any malformed entry refuses the file."""
    if len(content) > MAX_RATES_FILE_BYTES:
        raise ConfigurationError(f"{source} is too large", code=FxCode.RATES_INVALID)
    try:
        entries = tomllib.loads(content.decode("utf-8")).get("rates", [])
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"{source}: {error}", code=FxCode.RATES_INVALID) from error
    if not isinstance(entries, list) or len(entries) > MAX_RATES:
        raise ConfigurationError(
            f"{source}: 'rates' is a list of at most {MAX_RATES} tables", code=FxCode.RATES_INVALID
        )
    newest: dict[tuple[str, str], ExchangeRate] = {}
    for number, entry in enumerate(entries, start=1):
        rate = _parse_entry(entry, f"{source} rate #{number}")
        known = newest.get((rate.base, rate.quote))
        if known is None or rate.as_of_us > known.as_of_us:
            newest[(rate.base, rate.quote)] = rate
    return newest


def _parse_entry(entry: object, where: str) -> ExchangeRate:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where} is not a table", code=FxCode.RATES_INVALID)
    base, quote, text = entry.get("base"), entry.get("quote"), entry.get("rate")
    codes = (base, quote)
    if not all(isinstance(code, str) and code in CURRENCIES for code in codes) or base == quote:
        raise ConfigurationError(
            f"{where}: base and quote are two known currency codes", code=FxCode.RATES_INVALID
        )
    if not isinstance(text, str):
        raise ConfigurationError(f"{where}: rate is decimal text", code=FxCode.RATES_INVALID)
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ConfigurationError(
            f"{where}: rate {text!r:.30}", code=FxCode.RATES_INVALID
        ) from error
    if not value.is_finite() or value <= 0:
        raise ConfigurationError(f"{where}: rate must be positive", code=FxCode.RATES_INVALID)
    as_of = entry.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of)
        except ValueError as error:
            raise ConfigurationError(
                f"{where}: as_of {as_of!r:.40}", code=FxCode.RATES_INVALID
            ) from error
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ConfigurationError(
            f"{where}: as_of is a date-time with its UTC offset", code=FxCode.RATES_INVALID
        )
    source = entry.get("source", "")
    return ExchangeRate(str(base), str(quote), value, from_datetime(as_of), str(source))


def rate_provider_from_environment() -> RateProvider:
    path = os.environ.get(RATES_VARIABLE)
    return FileRateProvider(Path(path)) if path else NoRates()
