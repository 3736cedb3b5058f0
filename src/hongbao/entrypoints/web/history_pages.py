"""A packet's tamper-evident history in the console (R-B2): the chain's entries as the API
gives them to a participant, and the verdict of the Python client's own check run on them, so
the page recomputes every hash with the participant's code rather than trusting the server."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.client.history import PacketHistory, Verdict, verify
from hongbao.entrypoints.web.pages import Shared, Visit, to
from hongbao.entrypoints.web.words import WORDS, word
from hongbao.platform.i18n import Language

router = APIRouter(include_in_schema=False)
SHORT_HASH: Final = 12
# The client's reasons for a broken entry, as the console's word keys.
REASON_WORDS: Final = {
    "the entry carries no hashes": "history_unchained",
    "it does not name the previous entry's hash": "history_previous_mismatch",
    "its payload does not match its digest": "history_payload_mismatch",
    "its content does not match its hash": "history_hash_mismatch",
    "the head does not name the last entry": "history_head_mismatch",
}
GAP_PREFIX: Final = "expected entry"


@router.get("/packets/{packet_id}/history")
async def history_page(packet_id: str, request: Request, shared: Shared) -> Response:
    """The entries and the verdict; a stranger gets the API's refusal (``auth.not_yours``)."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    reply = await visit.call("GET", f"/v1/packets/{packet_id}/history")
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    history = PacketHistory.model_validate(reply.body)
    verdict = verify(history)
    return visit.page(
        "packet_history.html",
        packet_id=packet_id,
        entries=[
            {
                "sequence": entry.sequence,
                "event": event_words(entry.event_type, visit.language),
                "at_us": entry.at_us,
                "hash": (entry.hash or "-")[:SHORT_HASH],
            }
            for entry in history.entries
        ],
        verdict=verdict,
        verdict_text=verdict_words(verdict, visit.language),
    )


def event_words(event_type: str, language: Language) -> str:
    """An event in plain words; a type added later shows under its own name until it has some."""
    key = f"event_{event_type}"
    return word(key, language) if key in WORDS else event_type


def verdict_words(verdict: Verdict, language: Language) -> str:
    """ "intact (N entries)" or the first broken entry and why, in the reader's language."""
    if verdict.intact:
        return word("history_intact", language).format(entries=verdict.entries)
    reason = verdict.reason or ""
    key = REASON_WORDS.get(reason)
    if key is None and reason.startswith(GAP_PREFIX):
        key = "history_sequence_gap"
    why = word(key, language) if key is not None else reason
    return word("history_broken", language).format(entry=verdict.broken_at, why=why)
