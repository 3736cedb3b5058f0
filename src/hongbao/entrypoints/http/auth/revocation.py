"""Revoking a bearer token: recorded once, refused on every later request."""

from __future__ import annotations

import re

from hongbao.bootstrap import Services
from hongbao.entrypoints.http.auth.tokens import (
    MAX_TOKEN_LENGTH,
    TOKEN_PATTERN,
    AuthError,
    TokenSigner,
)
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.identity.tokens import RevokedToken


def revoke(services: Services, signer: TokenSigner, token: str, revoked_by: str) -> RevokedToken:
    """Revoke ``token`` (it must be one of ours and unexpired); revoking twice is harmless.
    A token that is not of our form is refused as malformed (422, as the document says); one of
    our form that is not ours or has expired is not found (404): nothing to revoke."""
    now_us = services.clock.now_us()
    if len(token) > MAX_TOKEN_LENGTH or re.fullmatch(TOKEN_PATTERN, token) is None:
        raise AuthError(
            "cannot revoke this token: it is malformed",
            code=AuthCode.REVOKED_TOKEN_INVALID,
            reason=AuthCode.INVALID_TOKEN.value,
        )
    try:
        principal = signer.verify(token, now_us=now_us)
    except AuthError as error:
        raise AuthError(
            f"cannot revoke this token: {error.message}",
            code=AuthCode.REVOKED_TOKEN_UNKNOWN,
            reason=error.code.value,
        ) from error
    if not revoked_by:
        raise AuthError("say who revokes the token", code=AuthCode.REVOKER_MISSING)

    def work(uow: object) -> RevokedToken:
        table = uow.api.revoked  # type: ignore[attr-defined]
        found: RevokedToken | None = table.get(principal.token_id)
        if found is not None:
            return found
        record = RevokedToken(principal.token_id, principal.subject, now_us, revoked_by)
        table.insert(record)
        return record

    return services.database.transact(work)
