"""A typed Python client of the hongbao HTTP API (``/v1``), blocking or async.

    from hongbao.client import Client

    with Client("http://127.0.0.1:8000", token=token) as hongbao:
        packet = hongbao.send_packet(type="group_lucky", amount="88.88", shares=8,
                                     funding_source_id="li-wei-balance", group_id="xinghe-team")
        for event in hongbao.events(packet.id, max_events=9):
            print(event.id, event.type, event.amount("amount"))

Every state change sends an Idempotency-Key (a new uuid4 unless given as ``key=``) and keeps
it across its own retries, so a retried send moves money once. Only what is safe is retried
(no answer, 429 and 503 after Retry-After, 409 ``idempotency.in_progress``), with a bounded
exponential backoff (:class:`RetryPolicy`). Any other failure raises :class:`ApiError` with the
status, the stable code, the message, the details and the decision id. Event streams resume
after the last event received whenever the connection drops (``Last-Event-ID``).
"""

from hongbao.client.aio import AsyncClient
from hongbao.client.calls import Call
from hongbao.client.errors import ApiError
from hongbao.client.history import HistoryEntry, PacketHistory, Verdict
from hongbao.client.models import (
    Amount,
    Answer,
    Challenge,
    ChallengeCode,
    Claim,
    Decision,
    Eligibility,
    Explanation,
    IssuedToken,
    LedgerVerification,
    Me,
    Packet,
    Recall,
    Refund,
    RevokedToken,
    Share,
)
from hongbao.client.retry import RetryPolicy
from hongbao.client.sse import Event
from hongbao.client.sync import Client

__all__ = [
    "Amount",
    "Answer",
    "ApiError",
    "AsyncClient",
    "Call",
    "Challenge",
    "ChallengeCode",
    "Claim",
    "Client",
    "Decision",
    "Eligibility",
    "Event",
    "Explanation",
    "HistoryEntry",
    "IssuedToken",
    "LedgerVerification",
    "Me",
    "Packet",
    "PacketHistory",
    "Recall",
    "Refund",
    "RetryPolicy",
    "RevokedToken",
    "Share",
    "Verdict",
]
