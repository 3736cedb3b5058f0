"""Operations settings: sane defaults, a few changed from the environment, nonsense refused."""

from __future__ import annotations

import pytest

from hongbao.entrypoints.ops.admission import AdmissionLimits
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.platform.errors import ConfigurationError


def test_the_environment_changes_the_limits_it_names_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HONGBAO_USER_RATE", "20.5")
    monkeypatch.setenv("HONGBAO_MAX_IN_FLIGHT", "8")
    monkeypatch.setenv("HONGBAO_DEGRADE_FORCED", "new year's eve")
    settings = OperationsSettings.from_environment("sqlite:///x.db")
    assert settings.user_rate_per_second == 20.5
    assert settings.admission == AdmissionLimits(max_in_flight=8)
    assert settings.degrade_forced == "new year's eve"
    assert settings.database_url == "sqlite:///x.db"
    assert settings.device_burst == OperationsSettings().device_burst


def test_a_limit_that_is_not_a_number_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONGBAO_MAX_WAITING", "lots")
    with pytest.raises(ConfigurationError, match="HONGBAO_MAX_WAITING is a number"):
        OperationsSettings.from_environment()


def test_the_request_threads_come_from_the_environment_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert OperationsSettings().request_threads == 4
    monkeypatch.setenv("HONGBAO_REQUEST_THREADS", "6")
    assert OperationsSettings.from_environment().request_threads == 6
    for nonsense in ("0", "65"):
        monkeypatch.setenv("HONGBAO_REQUEST_THREADS", nonsense)
        with pytest.raises(ConfigurationError, match="request threads are 1 to 64"):
            OperationsSettings.from_environment()
