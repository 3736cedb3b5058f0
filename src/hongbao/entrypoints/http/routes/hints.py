"""/v1/me/hints: the guidance bubbles (撤回引导气泡, R-U2) the caller has met. A bubble is shown
once per person: its first showing is recorded, then whether it was dismissed or its link
followed, each counted once in ``hongbao_hints_total{hint,event}``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.context import (
    Context,
    IdempotencyKey,
    Lang,
    RawBody,
    User,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas import Body, iso_time
from hongbao.entrypoints.ops.metrics import observe_hint
from hongbao.identity.hints import Hint, HintEvent, HintSeen
from hongbao.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/me/hints", tags=["hints"])


class HintEventBody(Body):
    event: HintEvent


class HintView(Body):
    hint: Hint
    shown_at_us: int
    shown_at: str
    dismissed_at_us: int | None
    clicked_at_us: int | None

    @classmethod
    def of(cls, seen: HintSeen) -> HintView:
        return cls(
            hint=seen.hint,
            shown_at_us=seen.shown_at_us,
            shown_at=iso_time(seen.shown_at_us),
            dismissed_at_us=seen.dismissed_at_us,
            clicked_at_us=seen.clicked_at_us,
        )


@router.get("", response_model=list[HintView], responses=READ)
def my_hints(api: Context, who: User) -> list[HintView]:
    """The hints the caller has been shown, with when they dismissed or followed them."""

    def read(uow: UnitOfWork) -> list[HintView]:
        found = (uow.api.hints.get(who.subject, hint) for hint in Hint)
        return [HintView.of(seen) for seen in found if seen is not None]

    return api.services.database.read(read)


@router.post("/{hint}", response_model=HintView, responses=WRITE)
def note_hint(
    hint: Hint,
    body: HintEventBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Note that the caller was shown a hint, dismissed it or followed its link. The first
    time of each is kept and counted; a later one changes nothing. Dismissing or following a
    hint never shown records it as shown then too."""

    def action() -> tuple[int, object]:
        now_us = api.services.clock.now_us()

        def work(uow: UnitOfWork) -> tuple[HintSeen, list[HintEvent]]:
            before = uow.api.hints.lock(who.subject, hint)
            if before is None:
                seen = HintSeen(who.subject, hint, now_us).noting(body.event, now_us)
                uow.api.hints.insert(seen)
                also = [] if body.event is HintEvent.SHOWN else [body.event]
                return seen, [HintEvent.SHOWN, *also]
            after = before.noting(body.event, now_us)
            if after == before:
                return before, []
            uow.api.hints.replace(after)
            return after, [body.event]

        seen, firsts = api.services.database.transact(work)
        for event in firsts:
            observe_hint(hint, event)
        return 200, HintView.of(seen).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)
