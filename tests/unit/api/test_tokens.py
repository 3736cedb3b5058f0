"""Bearer tokens: signed, expiring, bound to a device; a signature is checked once per token
and process, the expiry on every use."""

from __future__ import annotations

import pytest

from hongbao.entrypoints.http.auth import tokens
from hongbao.entrypoints.http.auth.tokens import AuthError, Role, TokenSigner
from hongbao.platform.clock import MICROSECONDS_PER_SECOND

SECRET = b"a secret of at least thirty-two bytes for tokens"
PHONE = ("phone-1", "sim-1")
NOW_US = 1_800_000_000 * MICROSECONDS_PER_SECOND


def issued(signer: TokenSigner, lifetime: int = 60) -> str:
    token, _ = signer.issue(
        "li-wei", Role.USER, now_us=NOW_US, lifetime_seconds=lifetime, device=PHONE
    )
    return token


def test_a_token_checked_once_still_expires_on_time() -> None:
    signer = TokenSigner(SECRET)
    token = issued(signer, lifetime=60)
    assert signer.verify(token, now_us=NOW_US).subject == "li-wei"
    last = NOW_US + 60 * MICROSECONDS_PER_SECOND - 1
    assert signer.verify(token, now_us=last).device_id == "phone-1"
    with pytest.raises(AuthError) as expired:
        signer.verify(token, now_us=last + 1)
    assert expired.value.code == "auth.token_expired"


def test_a_changed_token_is_refused_after_the_genuine_one_was_accepted() -> None:
    signer = TokenSigner(SECRET)
    token = issued(signer)
    signer.verify(token, now_us=NOW_US)
    prefix, payload, signature = token.split(".")
    forged = f"{prefix}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthError) as refused:
        signer.verify(forged, now_us=NOW_US)
    assert refused.value.code == "auth.invalid_token"


def test_another_secret_never_accepts_a_token_this_one_accepted() -> None:
    signer = TokenSigner(SECRET)
    token = issued(signer)
    signer.verify(token, now_us=NOW_US)
    with pytest.raises(AuthError):
        TokenSigner(SECRET + b"!").verify(token, now_us=NOW_US)


def test_the_tokens_remembered_are_bounded_and_a_forgotten_one_is_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "MAX_VERIFIED_TOKENS", 3)
    signer = TokenSigner(SECRET)
    many = [issued(signer) for _ in range(5)]
    checks: list[str] = []
    original = signer._checked

    def counted(token: str) -> tokens.Principal:
        checks.append(token)
        return original(token)

    monkeypatch.setattr(signer, "_checked", counted)
    for token in many:
        signer.verify(token, now_us=NOW_US)
    assert len(signer._verified) == 3
    signer.verify(many[-1], now_us=NOW_US)  # still remembered
    signer.verify(many[0], now_us=NOW_US)  # forgotten: checked again
    assert checks == [*many, many[0]]
