"""The edge refuses what no route should read, before any I/O, in the one error shape: control
characters, text that is not UTF-8 and over-long values in the path, the query string, the
headers and the body, and bodies over the limit (413), on every route including the claim
lane."""

from __future__ import annotations

import pytest

from hongbao.entrypoints.http.edge import (
    MAX_HEADER_VALUE_BYTES,
    check_body,
    check_headers,
    check_path,
    check_query,
)
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.platform.errors import ConfigurationError, HongbaoError
from tests.api.conftest import Api

SEND = {
    "type": "group_normal",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}


def refused(response: object, status: int, code: str) -> None:
    answer = response  # an httpx response
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    error = answer.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details", "decision_id"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/packets/p%00x",
        "/v1/packets/p%00x/claims",
        "/v1/packets/p%00x/recalls",
        "/v1/packets/p%00x/recall-eligibility",
        "/v1/recalls/r%00",
        "/v1/decisions/d%00",
        "/v1/refunds/f%00",
        "/v1/groups/g%00",
        "/v1/challenges/c%00",
    ],
)
def test_a_nul_in_a_path_id_is_refused_with_422_not_a_database_error(api: Api, path: str) -> None:
    for method in ("GET", "POST"):
        answer = api.client.request(method, path, headers=api.headers("li-wei", "k-1"))
        refused(answer, 422, "input.control_character")
        assert answer.json()["error"]["details"]["where"] == "path"


def test_invalid_utf8_and_over_long_segments_in_the_path_are_refused(api: Api) -> None:
    headers = api.headers("li-wei")
    refused(api.client.get("/v1/packets/%FF%FE", headers=headers), 422, "input.invalid_encoding")
    refused(api.client.get("/v1/packets/" + "p" * 300, headers=headers), 422, "input.too_long")
    refused(api.client.get("/v1/packets/a%7Fb", headers=headers), 422, "input.control_character")
    refused(api.client.get("/v1/packets/a%C2%85b", headers=headers), 422, "input.control_character")
    # Chinese text is UTF-8 like any other: it reaches the route (which knows no such packet).
    assert api.client.get("/v1/packets/红包", headers=headers).status_code == 404


def test_control_characters_and_long_values_in_the_query_string_are_refused(api: Api) -> None:
    headers = api.headers("ops-demo")
    refused(
        api.client.get("/v1/operator/refunds?state=failed%00", headers=headers),
        422,
        "input.control_character",
    )
    refused(
        api.client.get("/v1/operator/refunds?state=%E4%B8", headers=headers),
        422,
        "input.invalid_encoding",
    )
    long = "x" * 2_000
    refused(
        api.client.get(f"/v1/operator/refunds?state={long}", headers=headers),
        422,
        "input.too_long",
    )


def test_control_characters_and_long_values_in_headers_are_refused(api: Api) -> None:
    path = "/v1/packets"
    for name, value in (
        ("Idempotency-Key", b"k\x00"),
        ("Idempotency-Key", b"k\x1b[31m"),
        ("Accept-Language", b"en\x7f"),
        ("Idempotency-Key", b"k" * (MAX_HEADER_VALUE_BYTES + 1)),
    ):
        headers = {**api.headers("li-wei"), name: value}
        answer = api.client.post(path, json=SEND, headers=headers)  # type: ignore[arg-type]
        assert answer.status_code == 422, (name, value[:10], answer.text)
        assert answer.json()["error"].get("details", {}).get("where") == "header", answer.text
    assert api.context.services.packets.sent_by("li-wei") == []


def test_control_characters_in_json_string_fields_are_refused(api: Api) -> None:
    for name in ("\\u0000", "\\u001b", "\\n", "\\u0085", "\\t"):
        raw = f'{{"name": "team{name}", "type": "work"}}'.encode()
        answer = api.client.post(
            "/v1/groups", content=raw, headers=api.headers("li-wei", f"g-{len(name)}-{name[-1]}")
        )
        refused(answer, 422, "input.control_character")
    # An escaped backslash before the letter is text, not a control character.
    ok = api.client.post(
        "/v1/groups",
        content=b'{"name": "a\\\\nb", "type": "work"}',
        headers=api.headers("li-wei", "g-ok", **{"Content-Type": "application/json"}),
    )
    assert ok.status_code == 201, ok.text


def test_a_body_over_the_limit_is_413_on_every_route_the_claim_lane_too(api: Api) -> None:
    big = b"{" + b" " * 70_000 + b"}"
    for path in ("/v1/packets", "/v1/packets/p-1/claims", "/v1/groups", "/v1/operator/tokens"):
        answer = api.client.post(path, content=big, headers=api.headers("li-wei", "k-big"))
        refused(answer, 413, "input.too_large")
    assert api.context.services.packets.sent_by("li-wei") == []


def test_the_body_limit_is_an_operations_setting_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HONGBAO_MAX_BODY_BYTES", "2048")
    assert OperationsSettings.from_environment().max_body_bytes == 2_048
    monkeypatch.setenv("HONGBAO_MAX_BODY_BYTES", "10")
    with pytest.raises(ConfigurationError):
        OperationsSettings.from_environment()


def test_the_checks_pass_what_a_client_sends_every_day() -> None:
    check_path({"path": "/v1/packets/p-1/claims", "raw_path": b"/v1/packets/p-1/claims"})
    check_query(b"state=failed&limit=10&after=%E7%BA%A2")
    check_body(b'{\n  "name": "\\u7ea2\\u5305 team",\n\t"type": "work"\n}')
    check_headers([(b"accept-language", b"zh-CN,zh;q=0.9,\ten")], 65_536)
    with pytest.raises(HongbaoError):
        check_body(b'{"name": "a\\\\\\u0000"}')  # an escaped backslash, then a real escape
    # Raw bytes that are not UTF-8 (a test client re-encodes them, so asked here directly).
    with pytest.raises(HongbaoError) as not_utf8:
        check_headers([(b"x-request-id", b"\xff\xfe")], 65_536)
    assert not_utf8.value.code == "input.invalid_encoding"
    with pytest.raises(HongbaoError) as too_big:
        check_headers([(b"content-length", b"70000")], 65_536)
    assert too_big.value.code == "input.too_large"
