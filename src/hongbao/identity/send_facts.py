"""What a send needs to know about the people it names, read in one round trip.

A send checks its sender, the recipient of a personal packet and the sending device before it
moves money. Each is one indexed read; sent together with the send's other reads (the group
membership from social, the source from funding) they cost one wait for the database. The
packets context asks through this one function and never reads identity's tables itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hongbao.identity.devices import Device, DeviceFingerprint
from hongbao.identity.ports import IdentityRepository
from hongbao.identity.users import User


@dataclass(frozen=True, slots=True)
class SenderQuestion:
    """Who sends, to whom, from which device."""

    sender_id: str
    recipient_id: str | None
    device: DeviceFingerprint | None


@dataclass(frozen=True, slots=True)
class SenderFacts:
    """The answers; None where nothing was found (the send refuses with its own reason)."""

    sender: User | None
    recipient: User | None
    device: Device | None


def read_sender_facts(
    identity: IdentityRepository, question: SenderQuestion
) -> Callable[[], SenderFacts]:
    """Send the reads now; the returned function reads their answers."""
    user_ids = {question.sender_id}
    if question.recipient_id is not None:
        user_ids.add(question.recipient_id)
    users = identity.users.read_many([(user_id,) for user_id in sorted(user_ids)])
    device = question.device
    devices = (
        identity.devices.read_many([(device.device_id, device.sim_id)])
        if device is not None
        else dict
    )

    def answer() -> SenderFacts:
        found_users = users()
        found_devices = devices()
        return SenderFacts(
            sender=found_users.get((question.sender_id,)),
            recipient=(
                found_users.get((question.recipient_id,))
                if question.recipient_id is not None
                else None
            ),
            device=(
                found_devices.get((device.device_id, device.sim_id)) if device is not None else None
            ),
        )

    return answer
