"""What other contexts read of identity on the money path, sent now and answered later.

A send checks its sender, the recipient of a personal packet and the sending device; a recall
its requester, their device, exemptions and the challenges offered. Each is an indexed read;
sent together with the operation's other reads they cost one wait for the database. The
packets and recall contexts ask through these functions and never read identity's tables.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from hongbao.identity.devices import Device, DeviceFingerprint
from hongbao.identity.exemptions import Exemption
from hongbao.identity.ports import IdentityRepository
from hongbao.identity.users import User
from hongbao.identity.verification import Challenge


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


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for a recall, as identity knows them; None where nothing was found."""

    user: User | None
    device: Device | None
    exemptions: tuple[Exemption, ...]
    challenges: dict[str, Challenge]  # the offered ones that exist, by id


def read_requester(
    identity: IdentityRepository,
    requester_id: str,
    fingerprint: DeviceFingerprint,
    challenge_ids: tuple[str, ...],
    *,
    lock_challenges: bool,
    max_exemptions: int,
) -> Callable[[], Requester]:
    """Send the reads of a recall's requester; the returned function reads their answers. A
    recall that may act locks the challenges it may consume."""
    users = identity.users.read_many([(requester_id,)])
    device_key = (fingerprint.device_id, fingerprint.sim_id)
    devices = identity.devices.read_many([device_key])
    exemptions = identity.read_exemptions_of(requester_id, limit=max_exemptions)
    challenges = identity.challenges.read_many(
        [(challenge_id,) for challenge_id in challenge_ids], lock=lock_challenges
    )

    def answer() -> Requester:
        return Requester(
            user=users().get((requester_id,)),
            device=devices().get(device_key),
            exemptions=tuple(exemptions()),
            challenges={found.challenge_id: found for found in challenges().values()},
        )

    return answer


def find_user(identity: IdentityRepository, user_id: str) -> User | None:
    """A registered user, or None."""
    return identity.users.get(user_id)


def find_device(identity: IdentityRepository, device_id: str, sim_id: str) -> Device | None:
    """A registered device, or None."""
    return identity.devices.get(device_id, sim_id)


def read_registered(
    identity: IdentityRepository, user_ids: Collection[str]
) -> Callable[[], set[str]]:
    """Which of ``user_ids`` are registered: sent now, answered by the returned function."""
    found = identity.users.read_existing([(user_id,) for user_id in sorted(set(user_ids))])
    return lambda: {key[0] for key in found()}


def lock_users(identity: IdentityRepository, user_ids: Collection[str]) -> None:
    """Lock the users' rows in id order, in one statement: work that writes per user (a user's
    own event stream) takes turns per user, and two batches never wait for each other in a
    circle."""
    identity.users.get_many([(user_id,) for user_id in sorted(set(user_ids))], lock=True)
