"""Revoking a bearer token: recorded once, refused on every later request."""

from __future__ import annotations

from hongbao.bootstrap import Services
from hongbao.entrypoints.http.auth.tokens import AuthError, TokenSigner
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.identity.tokens import RevokedToken


def revoke(services: Services, signer: TokenSigner, token: str, revoked_by: str) -> RevokedToken:
    """Revoke ``token`` (it must be one of ours and unexpired); revoking twice is harmless."""
    now_us = services.clock.now_us()
    try:
        principal = signer.verify(token, now_us=now_us)
    except AuthError as error:
        raise AuthError(
            f"cannot revoke this token: {error.message}",
            code=AuthCode.REVOKED_TOKEN_INVALID,
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
