"""Idempotency-Key on HTTP: what the API adds to the one write pipeline
(:mod:`hongbao.platform.pipeline`) — the header's checks, the request's fingerprint, and the
answers in HTTP's terms.

A repeat of a POST with the same key returns the first answer, byte for byte; a repeat with a
different request under the key is refused (``idempotency.key_reused``, 422). Refusals (4xx)
are kept like successes; a fault (5xx) is not, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.responses import Response as StarletteResponse

from hongbao.entrypoints.http.errors import ApiError, error_body, status_for
from hongbao.platform.errors import HongbaoError
from hongbao.platform.i18n import Language
from hongbao.platform.idempotency import MAX_KEY_LENGTH, IdempotencyCode, checked_key
from hongbao.platform.pipeline import Answer

JSON_MEDIA_TYPE = "application/json"


def error_response(error: HongbaoError, language: Language) -> Answer:
    """A refusal in the one error shape, as an answer a key can keep."""
    return Answer(
        status_for(error), error_body(error.code, error.message, language, details=error.details)
    )


def refusal_answer(error: HongbaoError, language: Language) -> Answer | None:
    """A refusal as the key's answer; None for a fault (5xx), which is never kept."""
    return None if status_for(error) >= 500 else error_response(error, language)


def request_hash(method: str, path: str, body: bytes, key: bytes) -> str:
    """What identifies a request under its key: a keyed hash (HMAC-SHA256), since a body may
    hold a secret with little entropy (a card number being added) and the hash is stored."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str | None) -> str:
    if key is None:
        raise ApiError(
            "this request needs an Idempotency-Key header", code=IdempotencyCode.KEY_MISSING
        )
    try:
        return checked_key(key)
    except HongbaoError:
        raise ApiError(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} letters, digits or ':._-/'",
            code=IdempotencyCode.KEY_INVALID,
        ) from None


def keyed_reply(answer: Answer, key: str) -> StarletteResponse:
    """The answer as sent: the same bytes the key keeps, so a repeat is byte-identical."""
    return StarletteResponse(
        answer.encoded(),
        status_code=answer.status,
        media_type=JSON_MEDIA_TYPE,
        headers={"Idempotency-Key": key},
    )
