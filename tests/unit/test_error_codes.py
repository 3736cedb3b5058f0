"""The error-code catalogues: every code typed, worded in zh-CN and English, and unique."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hongbao
from hongbao.packets.errors import PacketCode
from hongbao.packets.split import PacketError
from hongbao.platform.errors import (
    ErrorCode,
    HongbaoError,
    InvariantViolation,
    Outcome,
)

SOURCE = Path(hongbao.__file__).parent
WIRE_VALUE = re.compile(r"[a-z]+\.[a-z]+(_[a-z]+)*")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _import_every_module() -> None:
    """Every module that may declare a catalogue (migrations run only under Alembic)."""
    for module in pkgutil.walk_packages(hongbao.__path__, "hongbao."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def catalogues() -> list[type[ErrorCode]]:
    _import_every_module()
    return _subclasses(ErrorCode)


def every_code() -> list[ErrorCode]:
    return [code for catalogue in catalogues() for code in catalogue]


def test_every_context_declares_its_own_catalogue() -> None:
    names = {catalogue.__name__ for catalogue in catalogues()}
    assert {
        "PlatformCode",
        "StorageCode",
        "MoneyCode",
        "FxCode",
        "LedgerCode",
        "PacketCode",
        "RecallCode",
        "RefundCode",
        "IdentityCode",
        "VerificationErrorCode",
        "DistributionCode",
        "PolicyCode",
        "SchedulerCode",
        "OutboxCode",
        "AuthCode",
        "IdempotencyCode",
        "ApiCode",
    } <= names


def test_every_code_has_a_chinese_and_an_english_message() -> None:
    for code in every_code():
        assert CHINESE.search(code.zh), code
        assert code.zh.strip() == code.zh, code
        assert code.zh.endswith("。"), code
        assert code.en.strip(), code
        assert not CHINESE.search(code.en), code
        assert isinstance(code.outcome, Outcome), code


def test_every_wire_value_is_unique_across_all_catalogues_and_well_formed() -> None:
    codes = every_code()
    values = [code.value for code in codes]
    assert len(values) == len(set(values)), sorted(v for v in values if values.count(v) > 1)
    for code in codes:
        assert WIRE_VALUE.fullmatch(code.value), code.value


def test_a_code_is_its_wire_value_for_clients_and_for_comparisons() -> None:
    assert PacketCode.INSUFFICIENT_FUNDS == "packets.insufficient_funds"
    assert f"{PacketCode.INSUFFICIENT_FUNDS}" == "packets.insufficient_funds"
    error = PacketError("not enough money", code=PacketCode.INSUFFICIENT_FUNDS, fen=1)
    assert error.code is PacketCode.INSUFFICIENT_FUNDS
    assert str(error) == "[packets.insufficient_funds] not enough money"
    assert error.details == {"fen": 1}


def test_a_free_text_code_is_refused_when_the_error_is_built() -> None:
    with pytest.raises(InvariantViolation) as refused:
        HongbaoError("no packet", code="packets.unknown_packet")  # type: ignore[arg-type]
    assert refused.value.details == {"code_given": "packets.unknown_packet"}


def test_no_raise_site_in_the_source_names_a_code_as_free_text() -> None:
    offenders = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in SOURCE.rglob("*.py")
        if "client" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bcode\s*=\s*f?[\"']", line)
    ]
    assert offenders == []


def test_every_error_class_defaults_to_a_catalogue_member() -> None:
    _import_every_module()
    for cls in [HongbaoError, *_subclasses(HongbaoError)]:
        assert isinstance(cls.code, ErrorCode), cls
