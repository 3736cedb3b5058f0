"""Identity as a service: register and inspect users, devices, groups, money sources, challenges.

Each call is one unit of work. Registration is idempotent: the same record again returns it;
a different record under a taken id is refused (``identity.already_exists``). Every refusal
is an :class:`IdentityError` with a stable code, raised before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hongbao.identity.devices import (
    Device,
    DeviceCapabilities,
    DeviceFingerprint,
    derive_capabilities,
)
from hongbao.identity.errors import IdentityCode
from hongbao.identity.exemptions import (
    Exemption,
    ExemptionKind,
    Subject,
    SubjectKind,
    applicable_exemption,
)
from hongbao.identity.ports import (
    DeviceOwner,
    IdentityRepository,
    UnitOfWork,
)
from hongbao.identity.users import Enterprise, IdentityError, User, UserStatus
from hongbao.identity.verification import (
    AnswerAttempt,
    AnswerOutcome,
    Challenge,
    ChallengeRequest,
    ConsumeOutcome,
    ConsumeRequest,
    OperatorContext,
    SimulatedProvider,
    VerificationErrorCode,
    VerificationProvider,
    answer_challenge,
    consume_challenge,
    open_challenge,
)
from hongbao.platform.clock import Clock
from hongbao.platform.errors import ConfigurationError
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort

MAX_LISTED = 1_000
Record = TypeVar("Record")
UnitOfWorkT = TypeVar("UnitOfWorkT", bound=UnitOfWork)


def unknown(code: IdentityCode, what: str, identifier: object) -> IdentityError:
    return IdentityError(f"no {what} {identifier!r}", code=code, id=identifier)


def put_once(table: RecordTable[Record], record: Record, key: tuple[Any, ...], what: str) -> Record:
    """Insert ``record`` unless its key is taken: the same record is fine, another is refused."""
    existing = table.get(*key)
    if existing is None:
        table.insert(record)
        return record
    if existing != record:
        raise IdentityError(
            f"{what} {key[0]!r} is already registered with other details",
            code=IdentityCode.ALREADY_EXISTS,
            id=str(key[0]),
        )
    return existing


# What else a registration does in its transaction, given the user and the time: the funding
# context opens the user's balance (hongbao.bootstrap wires it). Identity names no context.
RegistrationStep = Callable[[UnitOfWorkT, User, int], None]


@dataclass
class IdentityService(Generic[UnitOfWorkT]):
    database: DatabasePort[UnitOfWorkT]
    clock: Clock
    provider: VerificationProvider
    on_register: Sequence[RegistrationStep[UnitOfWorkT]] = ()

    def _write(self, work: Callable[[IdentityRepository, UnitOfWorkT], Record]) -> Record:
        return self.database.transact(lambda uow: work(uow.identity, uow))

    def _read(self, work: Callable[[IdentityRepository], Record]) -> Record:
        return self.database.read(lambda uow: work(uow.identity))

    # ------------------------------------------------------------------------------ users

    def register_user(self, user: User) -> User:
        """Store the user, and run the registration steps (the balance, 零钱, with its ledger
        account) in the same transaction."""

        def work(identity: IdentityRepository, uow: UnitOfWorkT) -> User:
            stored = put_once(identity.users, user, (user.id,), "user")
            now_us = self.clock.now_us()
            for step in self.on_register:
                step(uow, user, now_us)
            return stored

        return self._write(work)

    def user(self, user_id: str) -> User:
        found = self._read(lambda identity: identity.users.get(user_id))
        if found is None:
            raise unknown(IdentityCode.UNKNOWN_USER, "user", user_id)
        return found

    def users(self, limit: int = 100) -> list[User]:
        limit = max(1, min(limit, MAX_LISTED))

        def read(identity: IdentityRepository) -> list[User]:
            found: list[User] = []
            for status in UserStatus:
                found += identity.users_in_status(status, limit=limit)
            return sorted(found, key=lambda user: user.id)[:limit]

        return self._read(read)

    def set_status(self, user_id: str, status: UserStatus, reason: str | None) -> User:
        return self._write(lambda identity, _: set_status_in(identity, user_id, status, reason))

    def register_enterprise(self, enterprise: Enterprise) -> Enterprise:
        def work(identity: IdentityRepository, _: UnitOfWorkT) -> Enterprise:
            require_user(identity, enterprise.owner_user_id)
            return put_once(identity.enterprises, enterprise, (enterprise.id,), "enterprise")

        return self._write(work)

    # ------------------------------------------------------------------------- exemptions

    def add_exemption(self, exemption: Exemption) -> Exemption:
        def work(identity: IdentityRepository, _: UnitOfWorkT) -> Exemption:
            _require_subject(identity, exemption.subject)
            return put_once(identity.exemptions, exemption, (exemption.id,), "exemption")

        return self._write(work)

    def exemptions_of(self, subject: Subject) -> list[Exemption]:
        return self._read(lambda identity: identity.exemptions_of(subject.id, limit=MAX_LISTED))

    def applicable_exemption(self, kind: ExemptionKind, subject: Subject) -> Exemption | None:
        """The exemption a decision may use now, with its id and reason, or None."""
        now_us = self.clock.now_us()
        return applicable_exemption(self.exemptions_of(subject), kind, subject, now_us)

    # ---------------------------------------------------------------------------- devices

    def register_device(self, device: Device) -> Device:
        """Store a device for its user. A device id belongs to one user at a time."""

        def work(identity: IdentityRepository, _: UnitOfWorkT) -> Device:
            require_user(identity, device.user_id)
            owner = identity.device_owners.get(device.device_id)
            if owner is None:
                # The primary key settles a race between two users: the loser retries and
                # finds the winner's row below.
                identity.device_owners.insert(DeviceOwner(device.device_id, device.user_id))
            elif owner.user_id != device.user_id:
                raise IdentityError(
                    f"device {device.device_id!r} is registered to another user",
                    code=IdentityCode.DEVICE_TAKEN,
                    device_id=device.device_id,
                )
            return put_once(identity.devices, device, (device.device_id, device.sim_id), "device")

        return self._write(work)

    def device(self, fingerprint: DeviceFingerprint) -> Device:
        found = self._read(
            lambda identity: identity.devices.get(fingerprint.device_id, fingerprint.sim_id)
        )
        if found is None:
            raise unknown(
                IdentityCode.UNKNOWN_DEVICE,
                "device",
                f"{fingerprint.device_id}/{fingerprint.sim_id}",
            )
        return found

    def devices_of(self, user_id: str) -> list[Device]:
        return self._read(lambda identity: identity.devices_of(user_id, limit=100))

    def capabilities(self, fingerprint: DeviceFingerprint) -> DeviceCapabilities:
        return derive_capabilities(self.device(fingerprint))

    # ------------------------------------------------------------------------- challenges

    def open_challenge(self, request: ChallengeRequest) -> Challenge:
        """Create a challenge for a registered user and device; the provider sends the secret."""

        def work(identity: IdentityRepository, _: UnitOfWorkT) -> Challenge:
            require_user(identity, request.user_id)
            fingerprint = request.fingerprint
            device = identity.devices.get(fingerprint.device_id, fingerprint.sim_id)
            if device is None or device.user_id != request.user_id:
                raise unknown(
                    IdentityCode.UNKNOWN_DEVICE,
                    "device",
                    f"{fingerprint.device_id}/{fingerprint.sim_id}",
                )
            if identity.challenges.get(request.challenge_id) is not None:
                raise IdentityError(
                    f"challenge {request.challenge_id!r} exists already",
                    code=IdentityCode.ALREADY_EXISTS,
                    id=request.challenge_id,
                )
            challenge, secret = open_challenge(request, self.clock.now_us(), self.provider)
            identity.challenges.insert(challenge)
            identity.secrets.insert(secret)
            return challenge

        return self._write(work)

    def challenge(self, challenge_id: str) -> Challenge:
        found = self._read(lambda identity: identity.challenges.get(challenge_id))
        if found is None:
            raise unknown(IdentityCode.UNKNOWN_CHALLENGE, "challenge", challenge_id)
        return found

    def answer_challenge(self, challenge_id: str, attempt: AnswerAttempt) -> AnswerOutcome:
        def work(identity: IdentityRepository, _: UnitOfWorkT) -> AnswerOutcome:
            challenge = identity.challenges.lock(challenge_id)
            secret = identity.secrets.get(challenge_id)
            if challenge is None or secret is None:
                raise unknown(IdentityCode.UNKNOWN_CHALLENGE, "challenge", challenge_id)
            updated, outcome = answer_challenge(
                challenge, secret, attempt, self.clock.now_us(), self.provider
            )
            if updated is not challenge:
                identity.challenges.replace(updated)
            return outcome

        return self._write(work)

    def consume_challenge(self, challenge_id: str, request: ConsumeRequest) -> ConsumeOutcome:
        def work(identity: IdentityRepository, _: UnitOfWorkT) -> ConsumeOutcome:
            challenge = identity.challenges.lock(challenge_id)
            if challenge is None:
                raise unknown(IdentityCode.UNKNOWN_CHALLENGE, "challenge", challenge_id)
            updated, outcome = consume_challenge(challenge, request, self.clock.now_us())
            if updated is not challenge:
                identity.challenges.replace(updated)
            return outcome

        return self._write(work)

    def operator_reveal_code(self, challenge_id: str, operator: OperatorContext) -> str:
        """The simulated provider's SMS code, for operators running drills and demos only."""
        if not isinstance(self.provider, SimulatedProvider):
            raise ConfigurationError(
                "codes can be revealed only by the simulated provider",
                code=VerificationErrorCode.REVEAL_NOT_SUPPORTED,
            )
        return self.provider.operator_reveal_code(self.challenge(challenge_id), operator)


def _fields(record: object) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}  # type: ignore[attr-defined]


def set_status_in(
    identity: IdentityRepository, user_id: str, status: UserStatus, reason: str | None
) -> User:
    """Mark a user normal, abnormal or frozen, in the caller's unit of work (risk control
    freezes an account it blocks in the review's own transaction)."""
    user = identity.users.lock(user_id)
    if user is None:
        raise unknown(IdentityCode.UNKNOWN_USER, "user", user_id)
    updated = User(**{**_fields(user), "status": status, "status_reason": reason})
    identity.users.replace(updated)
    return updated


def require_user(identity: IdentityRepository, user_id: str) -> User:
    user = identity.users.get(user_id)
    if user is None:
        raise unknown(IdentityCode.UNKNOWN_USER, "user", user_id)
    return user


def _require_subject(identity: IdentityRepository, subject: Subject) -> None:
    if subject.kind is SubjectKind.GROUP:
        found = identity.group_exists(subject.id)
        unknown_code = IdentityCode.UNKNOWN_GROUP
    else:
        tables: dict[SubjectKind, tuple[RecordTable[Any], IdentityCode]] = {
            SubjectKind.USER: (identity.users, IdentityCode.UNKNOWN_USER),
            SubjectKind.ENTERPRISE: (identity.enterprises, IdentityCode.UNKNOWN_ENTERPRISE),
        }
        table, unknown_code = tables[subject.kind]
        found = table.get(subject.id) is not None
    if not found:
        raise unknown(unknown_code, subject.kind.value, subject.id)
