"""The console's answer to a refusal because risk control locked the device: the refusal,
and the way to unlock it oneself with a face check (posted to ``unlock_pages``), which then
returns to the page the person was on."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Final

from fastapi.responses import Response

from hongbao.entrypoints.web.calls import Reply
from hongbao.packets.errors import PacketCode

if TYPE_CHECKING:
    from hongbao.entrypoints.web.pages import Visit

FORBIDDEN: Final = 403


def is_device_locked(reply: Reply) -> bool:
    """Whether the API refused because this device is locked (``packets.device_locked``)."""
    if reply.status != FORBIDDEN or not isinstance(reply.body, dict):
        return False
    return bool(reply.body.get("error", {}).get("code") == PacketCode.DEVICE_LOCKED.value)


def locked_page(visit: Visit, reply: Reply, back: str) -> Response:
    """The refusal with the "unlock with a face check" button, coming back to ``back``."""
    return visit.page(
        "problem.html",
        reply.status,
        message=reply.message,
        unlock_back=back,
        unlock_key=f"console-unlock-{secrets.token_hex(8)}",
    )
