"""The console's answer to a send the guard stopped (R-B1): its reasons, the send as it was,
and "send now" / "send at 08:00" under the same key (posted to ``guard_pages``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from fastapi.responses import Response

from hongbao.entrypoints.web.calls import Reply

if TYPE_CHECKING:
    from hongbao.entrypoints.web.pages import Visit

CONFIRMATION_NEEDED: Final = "packets.confirmation_needed"
CONFLICT: Final = 409
# The send form's fields carried through the guard's page, as the API's body names them.
SENT_FIELDS: Final = ("type", "amount", "shares", "funding_source_id", "group_id", "recipient_id")


def is_stopped(reply: Reply) -> bool:
    """Whether the API answered a send with the guard's "confirmation needed"."""
    if reply.status != CONFLICT or not isinstance(reply.body, dict):
        return False
    return bool(reply.body.get("error", {}).get("code") == CONFIRMATION_NEEDED)


def stopped_page(visit: Visit, body: dict[str, object], key: str, reply: Reply) -> Response:
    """The guard's reasons, the send as it was, and the two ways on under the same key."""
    error = reply.body["error"]
    details: dict[str, Any] = error["details"]
    reasons = details["reasons_zh" if visit.language == "zh" else "reasons_en"]
    return visit.page(
        "send_guard.html",
        CONFLICT,
        reasons=reasons,
        sent={name: value for name, value in body.items() if name in SENT_FIELDS},
        key=key,
        offered=details["offered_deliver_at"],
        offered_us=details["offered_deliver_at_us"],
        decision_id=error.get("decision_id"),
    )
