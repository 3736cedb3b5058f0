"""Bearer tokens: signed, expiring, revocable, bound to a user and a device (or an operator).

A token reads ``hb1.<payload>.<signature>``: the payload is base64url JSON ``{"sub", "role",
"dev", "sim", "exp", "jti"}`` and the signature is HMAC-SHA256 over ``hb1.<payload>`` with the
server's secret. Verification checks the signature in constant time, then the expiry against
the injected clock (one comparison point: :func:`hongbao.platform.clock.is_due`); revocation
is checked by the caller against the revoked-token table, since it needs the database.

A *user* token names the device (id and SIM) it was issued to: the API acts with that device as
the requesting device, so a recall from another phone needs another token (R-A1). An
*operator* token has no device and the operator role: only operators reach operator endpoints
and the simulated verification provider's secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.entrypoints.http.codes import AuthCode
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.errors import HongbaoError
from hongbao.platform.ids import is_valid_id

PREFIX: Final = "hb1"
MAX_TOKEN_LENGTH: Final = 2_048
# The form of every token we issue: the prefix, a base64url payload, a base64url HMAC-SHA256.
TOKEN_PATTERN: Final = rf"^{PREFIX}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{{43}}$"
MAX_LIFETIME_SECONDS: Final = 30 * 24 * 3600
MIN_SECRET_BYTES: Final = 32
# Tokens whose signature this process has checked, kept with their principal (a few hundred
# bytes each); past this the oldest is forgotten and checked again when it comes back.
MAX_VERIFIED_TOKENS: Final = 8_192


class Role(StrEnum):
    USER = "user"
    OPERATOR = "operator"


class AuthError(HongbaoError):
    """The request carries no valid credentials (401) or may not do this (403)."""

    code = AuthCode.INVALID_TOKEN


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user on one device, or an operator."""

    subject: str
    role: Role
    device_id: str | None
    sim_id: str | None
    expires_at_us: int
    token_id: str

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


def token_revoked() -> AuthError:
    return AuthError("this token was revoked; ask for a new one", code=AuthCode.TOKEN_REVOKED)


BEARER = "bearer "


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if authorization is None or not authorization.lower().startswith(BEARER):
        raise AuthError(
            "this request needs 'Authorization: Bearer <token>'", code=AuthCode.MISSING_TOKEN
        )
    return authorization[len(BEARER) :].strip()


def acting_user(who: Principal) -> Principal:
    """A user acting for themselves on their token's device (operators act through the
    operator endpoints)."""
    if who.is_operator:
        raise AuthError("this is done by a user on their own device", code=AuthCode.FORBIDDEN)
    return who


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"a token secret has at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        # A token's signature and payload never change, so one check per token is enough;
        # its expiry is compared on every use. Revocation is the caller's (the database's).
        self._verified: dict[str, Principal] = {}
        self._verified_lock = threading.Lock()

    def issue(
        self,
        subject: str,
        role: Role,
        *,
        now_us: int,
        lifetime_seconds: int,
        device: tuple[str, str] | None = None,
    ) -> tuple[str, Principal]:
        if not is_valid_id(subject):
            raise AuthError("a token's subject is a valid id", code=AuthCode.SUBJECT_INVALID)
        if not 1 <= lifetime_seconds <= MAX_LIFETIME_SECONDS:
            raise AuthError(
                f"a token lives 1 to {MAX_LIFETIME_SECONDS} seconds", code=AuthCode.LIFETIME_INVALID
            )
        if (role is Role.USER) != (device is not None):
            raise AuthError(
                "a user token names its device; an operator token names none",
                code=AuthCode.DEVICE_BINDING,
            )
        principal = Principal(
            subject=subject,
            role=role,
            device_id=device[0] if device else None,
            sim_id=device[1] if device else None,
            expires_at_us=now_us + lifetime_seconds * MICROSECONDS_PER_SECOND,
            token_id=secrets.token_hex(12),
        )
        body = {
            "sub": principal.subject,
            "role": role.value,
            "dev": principal.device_id,
            "sim": principal.sim_id,
            "exp": principal.expires_at_us,
            "jti": principal.token_id,
        }
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        signed = f"{PREFIX}.{payload}"
        return f"{signed}.{self._sign(signed)}", principal

    def verify(self, token: str, *, now_us: int) -> Principal:
        """The principal of a well-signed, unexpired token; :class:`AuthError` otherwise."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("the token is malformed", code=AuthCode.INVALID_TOKEN)
        principal = self._verified.get(token)
        if principal is None:
            principal = self._checked(token)
            with self._verified_lock:
                if len(self._verified) >= MAX_VERIFIED_TOKENS:
                    del self._verified[next(iter(self._verified))]  # the oldest
                self._verified[token] = principal
        if is_due(principal.expires_at_us, now_us):
            raise AuthError("the token has expired; ask for a new one", code=AuthCode.TOKEN_EXPIRED)
        return principal

    def _checked(self, token: str) -> Principal:
        """The principal of a token whose form and signature hold."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:  # prefix, payload, signature
            raise AuthError("the token is malformed", code=AuthCode.INVALID_TOKEN)
        signed = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(signed), parts[2]):
            raise AuthError("the token's signature does not match", code=AuthCode.INVALID_TOKEN)
        return _principal(parts[1])

    def derive(self, purpose: str) -> bytes:
        """A key for another purpose (request fingerprints), derived so the secret itself is
        used only for signing tokens."""
        return hmac.new(self._secret, f"hongbao/{purpose}".encode(), hashlib.sha256).digest()

    def _sign(self, signed: str) -> str:
        return _b64(hmac.new(self._secret, signed.encode(), hashlib.sha256).digest())


def _principal(payload: str) -> Principal:
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return Principal(
            subject=str(body["sub"]),
            role=Role(body["role"]),
            device_id=None if body["dev"] is None else str(body["dev"]),
            sim_id=None if body["sim"] is None else str(body["sim"]),
            expires_at_us=int(body["exp"]),
            token_id=str(body["jti"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        # Signed by us, so unreadable means a bug or a leaked secret: refuse, never guess.
        raise AuthError("the token is malformed", code=AuthCode.INVALID_TOKEN) from error


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
