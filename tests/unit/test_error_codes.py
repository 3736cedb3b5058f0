"""The error-code catalogues: every code typed, worded in zh-CN and English, and unique."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hongbao
from hongbao.entrypoints.http.codes import ApiCode, AuthCode
from hongbao.entrypoints.http.errors import error_body, refusal_of, status_for, status_of
from hongbao.identity.errors import IdentityCode
from hongbao.packets.errors import PacketCode
from hongbao.packets.split import PacketError
from hongbao.platform.errors import (
    ConfigurationError,
    ErrorCode,
    HongbaoError,
    InvalidInput,
    InvariantViolation,
    Outcome,
    PlatformCode,
    StorageCode,
    StorageError,
)
from hongbao.platform.idempotency import IdempotencyCode
from hongbao.policy.errors import PolicyCode
from hongbao.recall.errors import RecallCode
from hongbao.refunds.errors import RefundCode

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
        "EdgeCode",
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


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (PacketCode.UNKNOWN_PACKET, 404),
        (IdentityCode.UNKNOWN_USER, 404),
        (ApiCode.NOT_FOUND, 404),
        (PacketCode.ALREADY_EXISTS, 409),
        (RecallCode.KEY_REUSED, 409),
        (IdempotencyCode.IN_PROGRESS, 409),
        (RefundCode.NOT_FAILED, 409),
        (PacketCode.INSUFFICIENT_FUNDS, 422),
        (PlatformCode.INPUT_INVALID, 422),
        (StorageCode.TOO_MANY_ROWS, 422),
        (AuthCode.MISSING_TOKEN, 401),
        (AuthCode.TOKEN_EXPIRED, 401),
        (AuthCode.NOT_YOURS, 403),
        (AuthCode.OPERATOR_ONLY, 403),
        (ApiCode.RATE_LIMITED, 429),
        (PlatformCode.INPUT_TOO_LARGE, 413),
        (PlatformCode.OVERLOADED, 503),
        (ApiCode.DEGRADED, 503),
        (StorageCode.UNAVAILABLE, 503),
        (PlatformCode.INVARIANT_VIOLATED, 500),
        (PlatformCode.CONFIG_DATABASE_URL, 500),
        (PolicyCode.INVALID, 500),
        (ApiCode.INTERNAL, 500),
    ],
)
def test_the_http_status_follows_from_the_code_alone(code: ErrorCode, status: int) -> None:
    assert status_of(code) == status
    assert status_for(HongbaoError("refused", code=code)) == status


def test_every_code_answered_with_other_than_422_is_listed_here() -> None:
    """The statuses clients already rely on: a code moving in or out of this table is a
    change of the API, not a refactoring."""
    answered = {code.value: status_of(code) for code in every_code() if status_of(code) != 422}
    assert answered == {
        **dict.fromkeys(
            [
                "api.not_found",
                "distribution.unknown_budget",
                "distribution.unknown_user",
                "identity.unknown_challenge",
                "identity.unknown_device",
                "identity.unknown_enterprise",
                "identity.unknown_funding_source",
                "identity.unknown_group",
                "identity.unknown_user",
                "ledger.unknown_account",
                "money.unknown_currency",
                "auth.revoked_token_unknown",
                "packets.unknown_algorithm",
                "packets.unknown_device",
                "packets.unknown_funding_source",
                "packets.unknown_guard_decision",
                "packets.unknown_packet",
                "packets.unknown_recipient",
                "packets.unknown_sender",
                "packets.unknown_user",
                "recalls.unknown_challenge",
                "recalls.unknown_decision",
                "recalls.unknown_incident",
                "recalls.unknown_device",
                "recalls.unknown_packet",
                "recalls.unknown_recall",
                "recalls.unknown_user",
                "refunds.unknown_refund",
                "risk.unknown_case",
                "scheduler.unknown_work",
                "support.unknown_case",
            ],
            404,
        ),
        **dict.fromkeys(
            [
                "auth.device_of_another",
                "distribution.budget_exists",
                "identity.already_exists",
                "identity.device_taken",
                "idempotency.in_progress",
                "packets.already_exists",
                "packets.confirmation_needed",  # R-B1: confirm, or send it later
                "packets.not_scheduled",
                "recalls.incident_closed",
                "recalls.key_reused",
                "refunds.not_failed",
                "risk.case_decided",
                "risk.device_not_locked",
                "support.case_closed",
                "support.too_many_notes",
            ],
            409,
        ),
        **dict.fromkeys(
            [
                "auth.invalid_token",
                "auth.missing_token",
                "auth.token_expired",
                "auth.token_revoked",
            ],
            401,
        ),
        **dict.fromkeys(
            [
                "auth.forbidden",
                "auth.not_yours",
                "auth.operator_only",
                "packets.device_locked",
                "packets.not_a_member",
                "packets.not_enterprise",
                "packets.not_the_sender",
            ],
            403,
        ),
        "api.rate_limited": 429,
        "input.too_large": 413,
        **dict.fromkeys(
            [
                "api.degraded",
                "api.overloaded",
                "api.shutting_down",
                "storage.conflict",
                "storage.duplicate_key",
                "storage.error",
                "storage.unavailable",
            ],
            503,
        ),
        **dict.fromkeys(
            [
                "api.internal",
                "config.database_url",
                "config.invalid",
                "config.operations",
                "config.token_secret",
                "config.verification_provider",
                "fx.rates_invalid",
                "fx.rates_unreadable",
                "invariant.violated",
                "policy.amount_invalid",
                "policy.amount_not_text",
                "policy.invalid",
                "policy.not_toml",
                "policy.too_large",
                "policy.unreadable",
                "storage.schema_outdated",
                "verification.provider_missing",
                "verification.secret_key_too_short",
            ],
            500,
        ),
    }


def test_the_error_classes_keep_their_statuses() -> None:
    assert status_for(InvalidInput("malformed")) == 422
    assert status_for(StorageError("gone")) == 503
    assert status_for(InvariantViolation("broken")) == 500
    assert status_for(ConfigurationError("unusable")) == 500


def test_a_refusal_speaks_chinese_from_the_catalogue_and_english_from_the_raise_site() -> None:
    error = PacketError("not enough money in the funding source", code=PacketCode.SEED_INVALID)
    chinese = refusal_of(error, "zh")
    english = refusal_of(error, "en")
    assert chinese is not None
    assert english is not None
    assert chinese.status == english.status == 422
    assert chinese.body["error"]["message"] == PacketCode.SEED_INVALID.zh
    assert english.body["error"]["message"] == "not enough money in the funding source"
    assert chinese.body["error"]["code"] == english.body["error"]["code"] == "packets.seed_invalid"
    assert type(chinese.body["error"]["code"]) is str


def test_a_fault_of_ours_is_no_refusal_and_unavailable_says_when_to_retry() -> None:
    assert refusal_of(InvariantViolation("broken"), "en") is None
    unavailable = refusal_of(StorageError("gone", code=StorageCode.UNAVAILABLE), "en")
    assert unavailable is not None
    assert unavailable.status == 503
    assert unavailable.headers == {"Retry-After": "1"}


def test_an_error_body_can_be_built_for_any_code_in_both_languages() -> None:
    for code in every_code():
        assert error_body(code, "facts", "zh")["error"]["message"] == code.zh
        assert error_body(code, "facts", "en")["error"]["message"] == "facts"
