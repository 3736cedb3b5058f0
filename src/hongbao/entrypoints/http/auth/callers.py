"""Callers on the money path (sends, claims, recalls), checked without the database first.

The token's signature and expiry and the caller's rate limits need no database; the token's
revocation and, the first time this process sees the caller's device, the device's label
(for the per-device figures, R-D4) do, and are read in the request's own transaction: a
claim batch reads them for all its callers at once, a send or a recall before its key is
looked at. Read on their own they cost a transaction each per request (or would block the
event loop), more than some of the requests themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hongbao.entrypoints.http.auth.device_labels import send_labels_in
from hongbao.entrypoints.http.auth.tokens import Principal, acting_user, bearer_token, token_revoked
from hongbao.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from hongbao.entrypoints.http.context import ApiContext


@dataclass(frozen=True, slots=True)
class MoneyCaller:
    """A user whose token is signed, unexpired and within its rate limits; not yet known to
    be unrevoked."""

    who: Principal
    wants_device_label: bool  # the device's label is to be read with the request


def money_caller(api: ApiContext, authorization: str | None) -> MoneyCaller:
    now_us = api.services.clock.now_us()
    who = acting_user(api.signer.verify(bearer_token(authorization), now_us=now_us))
    labelled = api.operations.admit(who, look_up_device=False)
    return MoneyCaller(who, wants_device_label=not labelled)


def admission_in(
    api: ApiContext, caller: MoneyCaller
) -> tuple[Callable[[UnitOfWork], Callable[[], None]], Callable[[], None]]:
    """What a send or a recall runs first in its transaction (the token's revocation, the
    device's label), and what it runs once answered (keep the label learned). ``admit`` sends
    the reads and returns the check that reads them: the operation sends its own reads in
    between, so that all travel in one round trip."""
    learned: list[tuple[str, str]] = []
    who = caller.who

    def admit(uow: UnitOfWork) -> Callable[[], None]:
        learned.clear()  # a retried attempt reads afresh
        revoked = uow.api.revoked.read_many([(who.token_id,)])
        labels = None
        if caller.wants_device_label and who.device_id is not None and who.sim_id is not None:
            labels = send_labels_in(uow, [(who.device_id, who.sim_id)])

        def check() -> None:
            if revoked():
                raise token_revoked()
            if labels is not None:
                learned.extend(labels().values())

        return check

    def answered() -> None:
        if learned:
            api.operations.learned_device(who, learned[0])

    return admit, answered
