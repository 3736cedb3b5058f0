"""Clock, invariant() and its narrowing forms, retry and database URLs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import hongbao
from hongbao.platform.clock import ManualClock, from_datetime, is_due, to_datetime
from hongbao.platform.errors import ConfigurationError, InvariantViolation, StorageError
from hongbao.platform.invariants import instance, invariant, present
from hongbao.storage.retry import with_retry
from hongbao.storage.urls import configured_url, parse_url


class Transient(Exception):
    pass


def test_a_deadline_is_due_at_and_after_its_moment_and_never_when_absent() -> None:
    assert not is_due(100, 99)
    assert is_due(100, 100)
    assert is_due(100, 101)
    assert not is_due(None, 10**18)


def test_the_manual_clock_moves_only_forward_and_only_when_told() -> None:
    clock = ManualClock(1_000)
    assert clock.now_us() == 1_000
    assert clock.advance(seconds=2, microseconds=5) == 2_001_005
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(seconds=-1)


def test_timestamps_convert_to_aware_datetimes_and_back_exactly() -> None:
    moment = datetime(2026, 11, 29, 23, 50, 0, 123_456, tzinfo=timezone(timedelta(hours=8)))
    assert to_datetime(from_datetime(moment)) == moment.astimezone(UTC)
    with pytest.raises(ValueError, match="naive"):
        from_datetime(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_invariant_raises_with_its_facts_even_under_python_optimisation() -> None:
    invariant(True, "fine")
    with pytest.raises(InvariantViolation) as broken:
        invariant(False, "totals differ", account_id="a")
    assert broken.value.code == "invariant.violated"
    assert broken.value.details == {"account_id": "a"}


def test_present_returns_the_value_itself_even_when_it_is_falsy() -> None:
    account: dict[str, int] | None = {}
    assert present(account, "an account exists") is account
    assert present(0, "a count exists") == 0
    assert present("", "a text exists") == ""


def test_present_raises_with_its_facts_when_the_value_is_missing() -> None:
    missing: int | None = None
    with pytest.raises(InvariantViolation) as broken:
        present(missing, "a packet has its escrow account", packet_id="p1")
    assert broken.value.code == "invariant.violated"
    assert broken.value.message == "a packet has its escrow account"
    assert broken.value.details == {"packet_id": "p1"}


def test_instance_returns_the_value_of_the_wanted_type_and_raises_on_any_other() -> None:
    answer: object = 7
    assert instance(answer, int, "an answer is a count") == 7
    with pytest.raises(InvariantViolation) as broken:
        instance(answer, str, "an answer is text", claim=3)
    assert broken.value.message == "an answer is text"
    assert broken.value.details == {"kind": "str", "found": "int", "claim": 3}


def test_the_source_narrows_with_present_or_instance_never_with_assert() -> None:
    """``assert`` vanishes under ``python -O``; a check that narrows a type must not."""
    source = Path(hongbao.__file__).parent
    asserts = [
        f"{path.relative_to(source)}:{number}"
        for path in source.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*assert\b", line)
    ]
    assert asserts == []


def test_retry_repeats_transient_failures_until_success() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise Transient
        return "done"

    result = with_retry(flaky, lambda e: isinstance(e, Transient), sleep=lambda _: None)
    assert (result, len(attempts)) == ("done", 3)


def test_retry_gives_up_after_bounded_attempts_with_a_storage_error() -> None:
    delays: list[float] = []

    def always() -> None:
        raise Transient

    with pytest.raises(StorageError) as gave_up:
        with_retry(always, lambda e: isinstance(e, Transient), attempts=4, sleep=delays.append)
    assert gave_up.value.code == "storage.conflict"
    assert len(delays) == 4
    assert all(0 <= delay <= 0.2 for delay in delays)


def test_retry_never_repeats_a_permanent_failure() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        with_retry(broken, lambda e: isinstance(e, Transient), sleep=lambda _: None)
    assert len(calls) == 1


def test_database_urls_follow_the_sqlalchemy_convention_for_sqlite_paths() -> None:
    assert parse_url("sqlite:///relative.db").sqlite_path == Path("relative.db")
    assert parse_url("sqlite:////var/lib/h.db").sqlite_path == Path("/var/lib/h.db")
    postgres = parse_url("postgres://app:secret@db:5432/hongbao")
    assert postgres.dialect == "postgresql"
    assert postgres.sqlalchemy_url == "postgresql+psycopg://app:secret@db:5432/hongbao"
    assert postgres.redacted == "postgresql://app:***@db:5432/hongbao"


@pytest.mark.parametrize("url", ["hongbao.db", "mysql://x/y", "sqlite:///", "sqlite:///:memory:"])
def test_unusable_database_urls_are_refused_with_a_code(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_url(url)
    assert refused.value.code == "config.database_url"


def test_the_database_url_comes_from_the_option_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("HONGBAO_DATABASE_URL", raising=False)
    assert configured_url() == f"sqlite:///{tmp_path}/hongbao/hongbao.db"
    monkeypatch.setenv("HONGBAO_DATABASE_URL", "postgresql://h/db")
    assert configured_url() == "postgresql://h/db"
    assert configured_url("sqlite:///x.db") == "sqlite:///x.db"
