"""Claims over HTTP, committed in groups (R-P3, R-P5, R-O2).

Every claim request of a process goes to one :class:`ClaimDesk`; its committer thread takes
the claims that are waiting and carries them out in one transaction: the tokens' revocations,
the Idempotency-Keys (read and locked together), the claims themselves (see
``hongbao.packets.claims``) and the keys' answers, one commit for all of them. A hot packet's
claims then queue once per batch on its row instead of once per claim, and the commit's
fsync is shared.

:class:`ClaimLane` serves ``POST /v1/packets/{packet_id}/claims`` as plain ASGI in front of
the framework: the same checks as every route (bearer token, rate limits, Idempotency-Key,
the one error shape in the caller's language), without the per-request cost of dependency
injection and validation, which at the claim rates asked of a 2-core box would take more CPU
than the claim. The documented route in ``routes/packets.py`` answers through the same desk
when the lane is switched off (``ApiSettings.claim_lane``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hongbao.entrypoints.http.auth.callers import money_caller
from hongbao.entrypoints.http.auth.device_labels import labels_in
from hongbao.entrypoints.http.auth.tokens import Principal, token_revoked
from hongbao.entrypoints.http.errors import refusal_of
from hongbao.entrypoints.http.idempotency import (
    check_key,
    error_response,
    keyed_reply,
    request_hash,
)
from hongbao.entrypoints.http.schemas import Amount, ClaimView
from hongbao.entrypoints.ops.metrics import observe_claim
from hongbao.packets.claims import (
    MAX_CLAIMS_PER_BATCH,
    ClaimAnswer,
    ClaimOutcome,
    ClaimRequest,
    ClaimResult,
)
from hongbao.packets.errors import PacketCode
from hongbao.packets.service import PacketService
from hongbao.platform.errors import HongbaoError, InvalidInput, PlatformCode
from hongbao.platform.group_commit import DEFAULT_MAX_BATCH, GroupCommitter
from hongbao.platform.i18n import Language, parse_language
from hongbao.platform.invariants import invariant
from hongbao.platform.pipeline import Answer, Keyed, KeyedAnswer, KeyRefused, Pipeline
from hongbao.storage.unit_of_work import Database, UnitOfWork

if TYPE_CHECKING:
    from hongbao.entrypoints.http.context import ApiContext

CLAIM_PATH: Final = re.compile(r"/v1/packets/([^/]+)/claims")
CLAIM_ROUTE: Final = "/v1/packets/{packet_id}/claims"


@dataclass(frozen=True, slots=True)
class ClaimCall:
    """One claim request, checked and fingerprinted, waiting for its batch."""

    who: Principal
    keyed: Keyed
    packet_id: str
    language: Language
    # The caller's device model is not known to this process yet: the batch reads it.
    wants_device_label: bool = False


@dataclass(frozen=True, slots=True)
class ClaimReply:
    """What to answer, and the claim's result for the metrics (None: no claim was made)."""

    response: Answer
    result: ClaimResult | None
    device_label: tuple[str, str] | None = None


def claim_body(packet_id: str, user_id: str, outcome: ClaimOutcome) -> dict[str, Any]:
    amount = (
        None
        if outcome.amount is None
        else Amount.of(outcome.amount.minor, outcome.amount.currency.code)
    )
    view = ClaimView(
        packet_id=packet_id, user_id=user_id, result=outcome.result.value, amount=amount
    )
    return view.model_dump(mode="json")


class ClaimDesk:
    """Claims of one process, carried out in shared transactions by one committer thread."""

    def __init__(
        self,
        database: Database,
        packets: PacketService,
        pipeline: Pipeline[UnitOfWork],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        on_batch: Callable[[int, float], None] | None = None,
        learned_device: Callable[[Principal, tuple[str, str]], None] | None = None,
    ) -> None:
        invariant(0 < max_batch <= MAX_CLAIMS_PER_BATCH, "a claim batch fits one transaction")
        self._learned_device = learned_device
        self._database = database
        self._packets = packets
        self._pipeline = pipeline
        self._committer: GroupCommitter[ClaimCall, ClaimReply] = GroupCommitter(
            self._run, name="claims", max_batch=max_batch, on_batch=on_batch
        )

    async def answer(self, call: ClaimCall) -> ClaimReply:
        reply = await self._committer.submit_async(call)
        if reply.result is not None:
            observe_claim(reply.result)  # counted once, after the commit
        if reply.device_label is not None and self._learned_device is not None:
            self._learned_device(call.who, reply.device_label)
        return reply

    def close(self) -> None:
        self._committer.close()

    def _run(self, calls: Sequence[ClaimCall]) -> list[ClaimReply]:
        return self._database.transact(lambda uow: self._answer(uow, calls))

    def _answer(self, uow: UnitOfWork, calls: Sequence[ClaimCall]) -> list[ClaimReply]:
        # Revocation is read here, in the claims' own transaction: no extra round trip, and
        # a token revoked before the commit cannot claim in it.
        revoked = uow.api.revoked.get_many([(call.who.token_id,) for call in calls])
        locked = _locked_devices(uow, calls)
        replies: list[ClaimReply | None] = [None] * len(calls)
        live: list[int] = []
        for index, call in enumerate(calls):
            if (call.who.token_id,) in revoked:
                refusal: HongbaoError = token_revoked()
            elif (call.who.device_id, call.who.sim_id) in locked:
                refusal = device_locked()
            else:
                live.append(index)
                continue
            replies[index] = ClaimReply(error_response(refusal, call.language), None)
        results: dict[int, ClaimResult] = {}  # this attempt's (a retried unit starts afresh)

        def claim(fresh: list[int]) -> list[Answer]:
            chosen = [calls[live[position]] for position in fresh]
            answers = self._packets.claim_many_in(
                uow, [ClaimRequest(call.packet_id, call.who.subject) for call in chosen]
            )
            responses = []
            for position, call, answer in zip(fresh, chosen, answers, strict=True):
                responses.append(_claim_response(call, answer))
                if isinstance(answer, ClaimOutcome):
                    results[live[position]] = answer.result
            return responses

        keyed = self._pipeline.execute_many_in(uow, [calls[index].keyed for index in live], claim)
        labels = _device_labels(uow, calls)
        for index, answer in zip(live, keyed, strict=True):
            response = _keyed_response(answer, calls[index])
            replies[index] = ClaimReply(response, results.get(index), labels.get(index))
        invariant(all(reply is not None for reply in replies), "every claim call is answered")
        return [reply for reply in replies if reply is not None]


def _locked_devices(uow: UnitOfWork, calls: Sequence[ClaimCall]) -> set[tuple[str, str]]:
    """The callers' devices that risk control has locked (R-K1 level 3), in one read."""
    devices = {
        (call.who.device_id, call.who.sim_id)
        for call in calls
        if call.who.device_id is not None and call.who.sim_id is not None
    }
    if not devices:
        return set()
    found = uow.risk.locks.get_many(sorted(devices))
    return {key for key, lock in found.items() if lock.is_locked}


def device_locked() -> HongbaoError:
    return InvalidInput(
        "this device is locked by risk control until it is unlocked",
        code=PacketCode.DEVICE_LOCKED,
    )


def _device_labels(uow: UnitOfWork, calls: Sequence[ClaimCall]) -> dict[int, tuple[str, str]]:
    """The device model and platform of the callers this process has not seen yet, in one
    read (for the per-device figures, R-D4)."""
    wanted = {
        index: (call.who.device_id, call.who.sim_id)
        for index, call in enumerate(calls)
        if call.wants_device_label
        and call.who.device_id is not None
        and call.who.sim_id is not None
    }
    if not wanted:
        return {}
    labels = labels_in(uow, sorted(set(wanted.values())))
    return {index: labels[key] for index, key in wanted.items()}


def _claim_response(call: ClaimCall, answer: ClaimAnswer) -> Answer:
    if isinstance(answer, ClaimOutcome):
        return Answer(200, claim_body(call.packet_id, call.who.subject, answer))
    return error_response(answer, call.language)  # a refusal: kept as the key's answer


def _keyed_response(answer: KeyedAnswer, call: ClaimCall) -> Answer:
    return error_response(answer, call.language) if isinstance(answer, KeyRefused) else answer


class _LaneRoute:
    """What the operations middleware reads for its route label (``scope["route"].path``)."""

    path = CLAIM_ROUTE


class ClaimLane:
    """``POST /v1/packets/{packet_id}/claims`` straight to the claim desk."""

    def __init__(self, app: ASGIApp, api: ApiContext) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.api.settings.claim_lane:
            match = CLAIM_PATH.fullmatch(scope["path"])
            if match is not None:
                await self._claim(scope, receive, send, match.group(1))
                return
        await self.app(scope, receive, send)

    async def _claim(self, scope: Scope, receive: Receive, send: Send, packet_id: str) -> None:
        scope["route"] = _LaneRoute()
        authorization = key = language_header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key":
                key = value.decode("latin-1")
            elif name == b"accept-language":
                language_header = value.decode("latin-1")
        language = parse_language(language_header)
        try:
            # A claim needs no body; whatever is sent is part of the request's fingerprint,
            # within the limit of every route (which the edge in front has checked already).
            body = await _read_body(receive, self.api.operations.settings.max_body_bytes)
            if body is None:
                return  # the client went away before its request was whole: nothing to do
            caller = money_caller(self.api, authorization)
            who = caller.who
            checked = check_key(key)
            fingerprint = request_hash("POST", scope["path"], body, self.api.fingerprint_key)
            call = ClaimCall(
                who,
                Keyed(who.subject, checked, fingerprint),
                packet_id,
                language,
                caller.wants_device_label,
            )
            reply = await self.api.claims.answer(call)
        except HongbaoError as error:
            refusal = refusal_of(error, language)
            if refusal is None:
                raise  # a fault: the app's handler answers and logs it with a reference
            await JSONResponse(refusal.body, status_code=refusal.status, headers=refusal.headers)(
                scope, receive, send
            )
            return
        await keyed_reply(reply.response, checked)(scope, receive, send)


async def _read_body(receive: Receive, max_body_bytes: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise InvalidInput(
                f"a request body is at most {max_body_bytes} bytes",
                code=PlatformCode.INPUT_TOO_LARGE,
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
