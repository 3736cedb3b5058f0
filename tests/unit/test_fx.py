"""Tests for hongbao.fx: the freshness rule, the rates file, and the file-backed provider."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hongbao import fx
from hongbao.fx import (
    MAX_RATES_FILE_BYTES,
    RATES_VARIABLE,
    ExchangeRate,
    FileRateProvider,
    FxError,
    NoRates,
    parse_rates,
    rate_provider_from_environment,
    usable_rate,
)
from hongbao.platform.clock import from_datetime
from hongbao.platform.errors import ConfigurationError, InvalidInput

AS_OF_US = 1_796_000_000_000_000  # 2026-11-29, as in tests/conftest.py
MINUTE_US = 60 * 1_000_000
MAX_AGE_US = 60 * MINUTE_US


class OneRate:
    """A provider that knows exactly one rate, for any pair asked."""

    def __init__(self, rate: ExchangeRate) -> None:
        self.rate = rate

    def latest(self, base: str, quote: str) -> ExchangeRate | None:
        del base, quote
        return self.rate


def cny_usd(as_of_us: int = AS_OF_US, rate: str = "0.1405") -> ExchangeRate:
    return ExchangeRate("CNY", "USD", Decimal(rate), as_of_us, "test")


def entry(
    base: str = '"CNY"',
    quote: str = '"USD"',
    rate: str = '"0.1405"',
    as_of: str = '"2026-11-29T08:00:00+08:00"',
    source: str = '"bank of example, mid"',
) -> str:
    """One ``[[rates]]`` table; each argument is the TOML value as written in the file."""
    return (
        f"[[rates]]\nbase = {base}\nquote = {quote}\nrate = {rate}\n"
        f"as_of = {as_of}\nsource = {source}\n"
    )


def write(path: Path, *entries: str) -> Path:
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


# --- the freshness rule -----------------------------------------------------------------------


def test_a_rate_exactly_the_maximum_age_old_is_usable() -> None:
    rate = cny_usd()
    found = usable_rate(
        OneRate(rate), "CNY", "USD", now_us=AS_OF_US + MAX_AGE_US, max_age_us=MAX_AGE_US
    )
    assert found is rate


def test_a_rate_one_microsecond_older_than_the_maximum_age_is_stale() -> None:
    with pytest.raises(FxError) as caught:
        usable_rate(
            OneRate(cny_usd()),
            "CNY",
            "USD",
            now_us=AS_OF_US + MAX_AGE_US + 1,
            max_age_us=MAX_AGE_US,
        )
    error = caught.value
    assert error.code == "fx.rate_stale"
    assert error.details == {"base": "CNY", "quote": "USD", "as_of_us": AS_OF_US}
    assert "CNY/USD" in error.message
    assert isinstance(error, InvalidInput)


def test_a_rate_observed_this_very_microsecond_is_usable() -> None:
    rate = cny_usd()
    assert usable_rate(OneRate(rate), "CNY", "USD", now_us=AS_OF_US, max_age_us=0) is rate


def test_a_rate_dated_one_microsecond_in_the_future_is_refused() -> None:
    with pytest.raises(FxError) as caught:
        usable_rate(OneRate(cny_usd()), "CNY", "USD", now_us=AS_OF_US - 1, max_age_us=MAX_AGE_US)
    assert caught.value.code == "fx.rate_from_future"
    assert caught.value.details["as_of_us"] == AS_OF_US


def test_a_missing_rate_is_refused_naming_the_pair() -> None:
    with pytest.raises(FxError) as caught:
        usable_rate(NoRates(), "CNY", "USD", now_us=AS_OF_US, max_age_us=MAX_AGE_US)
    assert caught.value.code == "fx.rate_missing"
    assert caught.value.details == {"base": "CNY", "quote": "USD"}
    assert "CNY" in caught.value.message
    assert "USD" in caught.value.message


def test_no_rates_knows_no_pair() -> None:
    assert NoRates().latest("CNY", "USD") is None
    assert NoRates().latest("USD", "CNY") is None


# --- parsing the rates file -------------------------------------------------------------------


def test_a_rate_entry_is_read_exactly() -> None:
    rates = parse_rates(entry().encode(), source="rates.toml")
    assert rates == {
        ("CNY", "USD"): ExchangeRate(
            "CNY",
            "USD",
            Decimal("0.1405"),
            from_datetime(datetime(2026, 11, 29, tzinfo=UTC)),
            "bank of example, mid",
        )
    }


def test_a_native_toml_offset_datetime_is_accepted_like_the_text_form() -> None:
    native = parse_rates(entry(as_of="2026-11-29T08:00:00+08:00").encode(), source="r")
    text = parse_rates(entry().encode(), source="r")
    assert native == text


def test_source_is_optional() -> None:
    content = (
        '[[rates]]\nbase = "CNY"\nquote = "USD"\nrate = "0.14"\nas_of = 2026-11-29T00:00:00Z\n'
    )
    assert parse_rates(content.encode(), source="r")[("CNY", "USD")].source == ""


def test_an_empty_file_has_no_rates() -> None:
    assert parse_rates(b"", source="r") == {}


def test_the_newest_rate_per_pair_wins_whatever_the_order() -> None:
    older = entry(rate='"0.1400"', as_of='"2026-11-29T07:00:00+08:00"')
    newer = entry(rate='"0.1405"', as_of='"2026-11-29T08:00:00+08:00"')
    for content in (older + newer, newer + older):
        rates = parse_rates(content.encode(), source="r")
        assert rates[("CNY", "USD")].rate == Decimal("0.1405")


def test_newest_is_decided_by_the_instant_not_the_written_clock_time() -> None:
    """09:00+08:00 is 01:00Z, earlier than 07:00+05:00 (02:00Z)."""
    east = entry(rate='"1"', as_of='"2026-11-29T09:00:00+08:00"')
    west = entry(rate='"2"', as_of='"2026-11-29T07:00:00+05:00"')
    rates = parse_rates((east + west).encode(), source="r")
    assert rates[("CNY", "USD")].rate == Decimal(2)


def test_each_pair_and_direction_is_kept_separately() -> None:
    content = (
        entry()
        + entry(base='"USD"', quote='"CNY"', rate='"7.1"')
        + entry(base='"CNY"', quote='"JPY"', rate='"21.5"')
    )
    rates = parse_rates(content.encode(), source="r")
    assert set(rates) == {("CNY", "USD"), ("USD", "CNY"), ("CNY", "JPY")}
    assert rates[("USD", "CNY")].rate == Decimal("7.1")


MALFORMED = {
    "unknown-base": entry(base='"XYZ"'),
    "lowercase-quote": entry(quote='"usd"'),
    "missing-base": '[[rates]]\nquote = "USD"\nrate = "0.14"\nas_of = 2026-11-29T00:00:00Z\n',
    "same-base-and-quote": entry(quote='"CNY"', rate='"1"'),
    "float-rate": entry(rate="0.1405"),
    "integer-rate": entry(rate="7"),
    "missing-rate": '[[rates]]\nbase = "CNY"\nquote = "USD"\nas_of = 2026-11-29T00:00:00Z\n',
    "zero-rate": entry(rate='"0"'),
    "negative-rate": entry(rate='"-0.14"'),
    "nan-rate": entry(rate='"NaN"'),
    "infinite-rate": entry(rate='"Infinity"'),
    "text-rate": entry(rate='"fourteen"'),
    "naive-as-of-text": entry(as_of='"2026-11-29T08:00:00"'),
    "naive-as-of-toml": entry(as_of="2026-11-29T08:00:00"),
    "date-only-as-of": entry(as_of="2026-11-29"),
    "unparseable-as-of": entry(as_of='"yesterday"'),
    "missing-as-of": '[[rates]]\nbase = "CNY"\nquote = "USD"\nrate = "0.14"\n',
    "entry-not-a-table": 'rates = ["CNY/USD 0.14"]\n',
    "rates-not-a-list": 'rates = "CNY/USD 0.14"\n',
    "not-toml": '[[rates]\nbase = "CNY"\n',
}


@pytest.mark.parametrize("content", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_rates_file_is_refused_as_invalid(content: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_rates(content.encode(), source="rates.toml")
    assert caught.value.code == "fx.rates_invalid"
    assert "rates.toml" in caught.value.message


def test_one_malformed_entry_refuses_the_whole_file_and_names_its_position() -> None:
    content = entry() + entry(base='"USD"', quote='"CNY"', rate="7.1")
    with pytest.raises(ConfigurationError) as caught:
        parse_rates(content.encode(), source="rates.toml")
    assert caught.value.code == "fx.rates_invalid"
    assert "rate #2" in caught.value.message


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_rates(b'source = "\xff"\n', source="r")
    assert caught.value.code == "fx.rates_invalid"


def test_a_rates_file_over_the_size_limit_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_rates(b"#" * (MAX_RATES_FILE_BYTES + 1), source="big.toml")
    assert caught.value.code == "fx.rates_invalid"
    assert "big.toml" in caught.value.message


@pytest.mark.parametrize(
    ("base", "quote"), [('["CNY"]', '"USD"'), ('"CNY"', "{ code = 'USD' }")], ids=["array", "table"]
)
def test_an_unhashable_currency_value_is_refused_as_invalid(base: str, quote: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_rates(entry(base=base, quote=quote).encode(), source="rates.toml")
    assert caught.value.code == "fx.rates_invalid"


# --- the file-backed provider -----------------------------------------------------------------


def test_the_file_provider_serves_the_rates_in_its_file(tmp_path: Path) -> None:
    provider = FileRateProvider(write(tmp_path / "rates.toml", entry()))
    found = provider.latest("CNY", "USD")
    assert found is not None
    assert found.rate == Decimal("0.1405")
    assert provider.latest("USD", "CNY") is None


def test_the_file_provider_picks_up_a_rewritten_file_of_another_size(tmp_path: Path) -> None:
    path = write(tmp_path / "rates.toml", entry(rate='"0.14"'))
    provider = FileRateProvider(path)
    write(path, entry(rate='"0.1405"'), entry(base='"USD"', quote='"CNY"', rate='"7.1"'))
    found = provider.latest("CNY", "USD")
    assert found is not None
    assert found.rate == Decimal("0.1405")
    assert provider.latest("USD", "CNY") is not None


def test_the_file_provider_picks_up_a_same_size_rewrite_when_the_mtime_moves(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "rates.toml", entry(rate='"0.1400"'))
    provider = FileRateProvider(path)
    before = path.stat()
    write(path, entry(rate='"0.1405"'))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == before.st_size
    found = provider.latest("CNY", "USD")
    assert found is not None
    assert found.rate == Decimal("0.1405")


def test_the_file_provider_does_not_reparse_an_unchanged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = FileRateProvider(write(tmp_path / "rates.toml", entry()))
    parsed: list[str] = []
    real_parse = fx.parse_rates

    def counting_parse(content: bytes, *, source: str) -> dict[tuple[str, str], ExchangeRate]:
        parsed.append(source)
        return real_parse(content, source=source)

    monkeypatch.setattr(fx, "parse_rates", counting_parse)
    for _ in range(3):
        assert provider.latest("CNY", "USD") is not None
    assert parsed == []


def test_a_malformed_rewrite_is_refused_and_a_corrected_file_is_then_served(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "rates.toml", entry())
    provider = FileRateProvider(path)
    write(path, entry(rate="0.1405"))  # a float: refused
    with pytest.raises(ConfigurationError) as caught:
        provider.latest("CNY", "USD")
    assert caught.value.code == "fx.rates_invalid"
    write(path, entry(rate='"0.1410"'))
    found = provider.latest("CNY", "USD")
    assert found is not None
    assert found.rate == Decimal("0.1410")


def test_a_missing_rates_file_is_a_configuration_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigurationError) as caught:
        FileRateProvider(path)
    assert caught.value.code == "fx.rates_unreadable"
    assert str(path) in caught.value.message


def test_a_rates_file_removed_after_start_is_a_configuration_error(tmp_path: Path) -> None:
    path = write(tmp_path / "rates.toml", entry())
    provider = FileRateProvider(path)
    path.unlink()
    with pytest.raises(ConfigurationError) as caught:
        provider.latest("CNY", "USD")
    assert caught.value.code == "fx.rates_unreadable"


def test_a_rates_path_that_is_a_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        FileRateProvider(tmp_path)
    assert caught.value.code == "fx.rates_unreadable"


# --- configuration from the environment -------------------------------------------------------


def test_without_the_variable_every_conversion_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RATES_VARIABLE, raising=False)
    assert isinstance(rate_provider_from_environment(), NoRates)


def test_an_empty_variable_means_no_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RATES_VARIABLE, "")
    assert isinstance(rate_provider_from_environment(), NoRates)


def test_the_variable_names_the_rates_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "rates.toml", entry())
    monkeypatch.setenv(RATES_VARIABLE, str(path))
    provider = rate_provider_from_environment()
    assert isinstance(provider, FileRateProvider)
    assert provider.path == path
    assert provider.latest("CNY", "USD") is not None


def test_a_variable_naming_a_missing_file_fails_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RATES_VARIABLE, str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigurationError) as caught:
        rate_provider_from_environment()
    assert caught.value.code == "fx.rates_unreadable"
