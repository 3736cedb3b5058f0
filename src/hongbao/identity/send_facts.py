"""What a send needs to know about its sender, read in one round trip.

A send checks its sender, the recipient or the group, the sending device and the funding
source before it moves money. Each is one indexed read; sent together and read afterwards they
cost one wait for the database instead of five. The packets context asks through this one
function and never reads identity's tables itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hongbao.identity.devices import Device, DeviceFingerprint
from hongbao.identity.ports import IdentityRepository, StoredFunding
from hongbao.identity.social import is_member_at
from hongbao.identity.users import User

# Memberships of one user in one group: a user who left and joined again has a record for
# each stay, and none stays in one group more than this many times.
MAX_STAYS_IN_A_GROUP = 1_000


@dataclass(frozen=True, slots=True)
class SendQuestion:
    """Who sends, to whom, from which device and source."""

    sender_id: str
    recipient_id: str | None
    group_id: str | None
    device: DeviceFingerprint | None
    funding_source_id: str


@dataclass(frozen=True, slots=True)
class SendFacts:
    """The answers; None where nothing was found (the send refuses with its own reason)."""

    sender: User | None
    recipient: User | None
    sender_in_group: bool
    device: Device | None
    funding: StoredFunding | None


def read_send_facts(
    identity: IdentityRepository, question: SendQuestion, now_us: int
) -> Callable[[], SendFacts]:
    """Send the reads now; the returned function reads their answers (one round trip)."""
    user_ids = {question.sender_id}
    if question.recipient_id is not None:
        user_ids.add(question.recipient_id)
    users = identity.users.read_many([(user_id,) for user_id in sorted(user_ids)])
    stays = (
        identity.members.read_find_in(
            {"group_id": [question.group_id], "user_id": [question.sender_id]},
            limit=MAX_STAYS_IN_A_GROUP,
        )
        if question.group_id is not None
        else list
    )
    device = question.device
    devices = (
        identity.devices.read_many([(device.device_id, device.sim_id)])
        if device is not None
        else dict
    )
    funding = identity.funding.read_many([(question.funding_source_id,)])

    def answer() -> SendFacts:
        found_users = users()
        found_devices = devices()
        return SendFacts(
            sender=found_users.get((question.sender_id,)),
            recipient=(
                found_users.get((question.recipient_id,))
                if question.recipient_id is not None
                else None
            ),
            sender_in_group=is_member_at(stays(), question.sender_id, now_us),
            device=(
                found_devices.get((device.device_id, device.sim_id)) if device is not None else None
            ),
            funding=funding().get((question.funding_source_id,)),
        )

    return answer
