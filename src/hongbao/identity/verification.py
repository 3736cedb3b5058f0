"""Step-up verification challenges (R-A1, R-A2, R-A4, R-D2, R-K2): the pure domain layer.

A recall that the policy answers with *challenge* lists verifications the sender must pass
first: an SMS code (class-I accounts, R-A4), face verification (above 200 yuan, R-A2, or many
attempts an hour, R-K2), the enterprise's corporate account (R-A4) or a security-environment
check (HarmonyOS 3.x, R-D2). Each one is a :class:`Challenge`.

Lifecycle (stored states; ``expired`` is never stored, it is derived from the clock)::

    pending --right answer--> passed --consume (same user, device, SIM, purpose, kind)--> consumed
    pending --wrong answer that uses up the last attempt--> locked
    pending or passed --now reaches expires_at_us--> expired (see Challenge.state_at)

Every transition is a pure function: it takes a challenge, an input and ``now_us`` and returns
``(new challenge, outcome)``. Expected outcomes (wrong answer, expired, already consumed, ...)
are result codes, not exceptions; only malformed input raises. When nothing changes the same
object is returned, so ``new is old`` tells storage that there is nothing to write.

Storage contract: persist :class:`Challenge` and :class:`IssuedSecret` (flat fields of str,
int, bool, StrEnum and optionals). Write a transition with a compare-and-set on ``revision``
(``UPDATE ... WHERE challenge_id = :id AND revision = :old_revision``) so that two concurrent
answers or consumes can never both succeed; every transition increments ``revision``.

Secrets: a provider returns only a keyed hash (HMAC-SHA256) of the expected answer; plain codes
are never stored, logged, or shown by ``repr``; secrets are compared only with
:func:`hmac.compare_digest`, so the time taken says nothing about how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from hongbao.identity.devices import DeviceFingerprint
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.errors import (
    ConfigurationError,
    ErrorCode,
    HongbaoError,
    InvalidInput,
    LimitExceeded,
    Outcome,
)
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant

# Limits (put a limit on everything). A code that lives longer than 30 minutes is a standing
# password; shorter than 30 seconds and an SMS may arrive after it died.
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 30 * 60
DEFAULT_TTL_SECONDS = 5 * 60
# Ten guesses at a six-digit code is a 1-in-100,000 chance: the most we accept.
MIN_ATTEMPTS = 1
MAX_ATTEMPTS = 10
DEFAULT_MAX_ATTEMPTS = 5
MAX_PURPOSE_LENGTH = 128
# Bounds the work spent hashing one answer; no real answer comes close.
MAX_ANSWER_LENGTH = 64
# A corporate (对公) bank account number: digits only, at least the four that are checked.
MIN_CORPORATE_ACCOUNT_DIGITS = 4
MAX_CORPORATE_ACCOUNT_DIGITS = 34
CORPORATE_ACCOUNT_CHECKED_DIGITS = 4
SMS_CODE_DIGITS = 6
# HMAC-SHA256 keys shorter than the digest weaken it.
MIN_SECRET_KEY_BYTES = 32
MAX_SIMULATED_INSTRUCTIONS = 10_000
# What the simulator expects for face and security-environment checks without an instruction.
SIMULATED_PASS_ANSWER = "pass"  # noqa: S105 - a drill instruction, not a password


class ChallengeKind(StrEnum):
    SMS_CODE = "sms_code"
    FACE = "face"
    CORPORATE_ACCOUNT = "corporate_account"
    SECURITY_ENVIRONMENT = "security_environment"


class ChallengeState(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    CONSUMED = "consumed"
    LOCKED = "locked"
    # Derived by Challenge.state_at; never stored, so no sweeper has to keep it up to date.
    EXPIRED = "expired"


class AnswerResult(StrEnum):
    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    LOCKED = "locked"
    EXPIRED = "expired"
    ALREADY_PASSED = "already_passed"
    ALREADY_CONSUMED = "already_consumed"
    WRONG_USER_OR_DEVICE = "wrong_user_or_device"
    WRONG_PURPOSE = "wrong_purpose"


class ConsumeResult(StrEnum):
    CONSUMED = "consumed"
    NOT_PASSED = "not_passed"
    LOCKED = "locked"
    EXPIRED = "expired"
    ALREADY_CONSUMED = "already_consumed"
    WRONG_USER_OR_DEVICE = "wrong_user_or_device"
    WRONG_PURPOSE = "wrong_purpose"
    WRONG_KIND = "wrong_kind"


class VerificationErrorCode(ErrorCode):
    """Stable codes of the errors this module raises; clients switch on them."""

    INVALID_INPUT = (
        "verification.invalid_input",
        Outcome.REFUSED,
        "验证请求有误。",
        "The verification request is invalid.",
    )
    LIMIT_EXCEEDED = (
        "verification.limit_exceeded",
        Outcome.REFUSED,
        "验证请求中的数值超出了允许的范围。",
        "A verification value is over its limit.",
    )
    ID_INVALID = "verification.id_invalid", Outcome.REFUSED, "验证编号无效。", "The id is invalid."
    KIND_UNKNOWN = (
        "verification.kind_unknown",
        Outcome.REFUSED,
        "不支持这种验证方式。",
        "No such kind of challenge.",
    )
    NOT_INTEGER = (
        "verification.not_integer",
        Outcome.REFUSED,
        "这里需要一个整数。",
        "A value must be an integer.",
    )
    PURPOSE_INVALID = (
        "verification.purpose_invalid",
        Outcome.REFUSED,
        "验证用途有误。",
        "The purpose is invalid.",
    )
    PURPOSE_TOO_LONG = (
        "verification.purpose_too_long",
        Outcome.REFUSED,
        "验证用途的说明太长。",
        "The purpose is too long.",
    )
    TTL_OUT_OF_RANGE = (
        "verification.ttl_out_of_range",
        Outcome.REFUSED,
        "验证有效期超出了允许的范围。",
        "The challenge's lifetime is out of range.",
    )
    ATTEMPTS_OUT_OF_RANGE = (
        "verification.attempts_out_of_range",
        Outcome.REFUSED,
        "验证次数上限超出了允许的范围。",
        "The number of attempts is out of range.",
    )
    ANSWER_INVALID = (
        "verification.answer_invalid",
        Outcome.REFUSED,
        "验证答案有误。",
        "The answer is invalid.",
    )
    ANSWER_TOO_LONG = (
        "verification.answer_too_long",
        Outcome.REFUSED,
        "验证答案太长。",
        "The answer is too long.",
    )
    CORPORATE_ACCOUNT_REQUIRED = (
        "verification.corporate_account_required",
        Outcome.REFUSED,
        "对公账户验证需要提供对公账号。",
        "A corporate account check needs the account number.",
    )
    CORPORATE_ACCOUNT_INVALID = (
        "verification.corporate_account_invalid",
        Outcome.REFUSED,
        "对公账号有误。",
        "The corporate account number is invalid.",
    )
    CORPORATE_ACCOUNT_UNEXPECTED = (
        "verification.corporate_account_unexpected",
        Outcome.REFUSED,
        "只有对公账户验证才需要提供对公账号。",
        "Only a corporate account check takes an account number.",
    )
    REVEAL_NOT_SUPPORTED = (
        "verification.reveal_not_supported",
        Outcome.REFUSED,
        "这项验证没有可以查看的验证码。",
        "This challenge has no code to reveal.",
    )
    INSTRUCTIONS_FULL = (
        "verification.instructions_full",
        Outcome.REFUSED,
        "模拟验证的指令已满。",
        "The simulator holds too many instructions.",
    )
    OPERATOR_ONLY = (
        "verification.operator_only",
        Outcome.REFUSED,
        "只有运营人员可以进行这个操作。",
        "Only an operator may do this.",
    )
    SECRET_KEY_TOO_SHORT = (
        "verification.secret_key_too_short",
        Outcome.FAULT,
        "模拟验证的密钥太短。",
        "The simulator's secret key is too short.",
    )
    PROVIDER_MISSING = (
        "verification.provider_missing",
        Outcome.FAULT,
        "缺少身份验证服务。",
        "A verification provider is missing.",
    )


class InvalidVerificationInput(InvalidInput):
    """A verification request is malformed; nothing was created or changed."""

    code = VerificationErrorCode.INVALID_INPUT


class VerificationLimitExceeded(LimitExceeded):
    """A verification value is outside its limits; nothing was created or changed."""

    code = VerificationErrorCode.LIMIT_EXCEEDED


class OperatorOnly(HongbaoError):
    """Only an operator may do this (for example reveal a simulated SMS code)."""

    code = VerificationErrorCode.OPERATOR_ONLY


@dataclass(frozen=True, slots=True)
class OperatorContext:
    """Who is acting. Built by the entry point from the authenticated principal, never from
    request fields, so a user cannot claim to be an operator."""

    actor_id: str
    is_operator: bool


@dataclass(frozen=True, slots=True)
class ChallengeRequest:
    """Everything needed to create and issue a challenge.

    ``corporate_account`` is the enterprise's full corporate account number, required for
    ``corporate_account`` challenges and refused for the others; it is handed to the provider
    at issue time and never stored in plain.
    """

    challenge_id: str
    kind: ChallengeKind
    user_id: str
    fingerprint: DeviceFingerprint
    purpose: str
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    corporate_account: str | None = field(default=None, repr=False, compare=False)


# Which of passed/consumed/locked timestamps each stored state carries.
_TIMESTAMPS_BY_STATE: dict[ChallengeState, tuple[bool, bool, bool]] = {
    ChallengeState.PENDING: (False, False, False),
    ChallengeState.PASSED: (True, False, False),
    ChallengeState.CONSUMED: (True, True, False),
    ChallengeState.LOCKED: (False, False, True),
}


@dataclass(frozen=True, slots=True)
class Challenge:
    """One step-up verification for one user, device fingerprint and purpose.

    Holds no secret: the keyed hash of the answer lives in :class:`IssuedSecret`. ``state`` is
    the stored state; ask :meth:`state_at` for the state at a moment (it derives ``expired``).
    """

    challenge_id: str
    kind: ChallengeKind
    user_id: str
    device_id: str
    sim_id: str
    purpose: str
    created_at_us: int
    expires_at_us: int
    max_attempts: int
    attempts_used: int = 0
    state: ChallengeState = ChallengeState.PENDING
    passed_at_us: int | None = None
    consumed_at_us: int | None = None
    locked_at_us: int | None = None
    revision: int = 0

    def __post_init__(self) -> None:
        # Storage may hand in plain strings read from a column; keep the enums exact.
        object.__setattr__(self, "kind", ChallengeKind(self.kind))
        object.__setattr__(self, "state", ChallengeState(self.state))
        self._check_consistency()

    def _check_consistency(self) -> None:
        """Post-condition of every construction and transition, and a guard on loaded rows."""
        facts = {"challenge_id": self.challenge_id, "state": str(self.state)}
        invariant(
            self.expires_at_us > self.created_at_us, "challenge ends before it starts", **facts
        )
        invariant(MIN_ATTEMPTS <= self.max_attempts <= MAX_ATTEMPTS, "attempt limit", **facts)
        invariant(0 <= self.attempts_used <= self.max_attempts, "attempts used", **facts)
        invariant(self.revision >= 0, "revision is never negative", **facts)
        present = (
            self.passed_at_us is not None,
            self.consumed_at_us is not None,
            self.locked_at_us is not None,
        )
        invariant(_TIMESTAMPS_BY_STATE.get(self.state) == present, "state timestamps", **facts)
        # Only the attempt that uses the last one locks; a right last answer passes instead.
        used_up = self.attempts_used == self.max_attempts
        if self.state == ChallengeState.LOCKED:
            invariant(used_up, "a locked challenge used every attempt", **facts)
        if self.state == ChallengeState.PENDING:
            invariant(not used_up, "a pending challenge has an attempt left", **facts)

    @property
    def fingerprint(self) -> DeviceFingerprint:
        return DeviceFingerprint(device_id=self.device_id, sim_id=self.sim_id)

    @property
    def attempts_remaining(self) -> int:
        return self.max_attempts - self.attempts_used

    def state_at(self, now_us: int) -> ChallengeState:
        """The state at ``now_us``: a pending or passed challenge is expired from its deadline.

        Consumed and locked are final and say more than "expired", so they are kept.
        """
        open_states = (ChallengeState.PENDING, ChallengeState.PASSED)
        if self.state in open_states and is_due(self.expires_at_us, now_us):
            return ChallengeState.EXPIRED
        return self.state


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """What storage keeps about a challenge's secret: never the secret itself.

    ``answer_hash`` is a keyed hash (HMAC-SHA256, hex) of the expected answer.
    ``provider_reference`` is for real providers (gateway message id, face session id); the
    simulator leaves it empty. Equality ignores the hash on purpose: hashes are compared only
    with :func:`hmac.compare_digest`.
    """

    challenge_id: str
    answer_hash: str = field(repr=False, compare=False)
    provider_reference: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerAttempt:
    """A user's answer, with who sends it and for what purpose."""

    user_id: str
    fingerprint: DeviceFingerprint
    purpose: str
    answer: str = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ConsumeRequest:
    """Spend a passed challenge on exactly this user, fingerprint, purpose and kind."""

    user_id: str
    fingerprint: DeviceFingerprint
    purpose: str
    kind: ChallengeKind


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """``attempts_remaining`` is ``None`` when the attempt came from someone else or for
    another purpose: they learn nothing about the challenge."""

    result: AnswerResult
    attempts_remaining: int | None


@dataclass(frozen=True, slots=True)
class ConsumeOutcome:
    result: ConsumeResult


class VerificationProvider(Protocol):
    """The one seam between challenges and whoever checks an answer.

    A production adapter implements the same two methods:

    - SMS gateway: ``issue`` draws the code from ``secrets`` (never derived from the id),
      sends it to the phone bound to ``challenge.user_id``, and returns the HMAC of the code
      under the service key plus the gateway message id as ``provider_reference``; it never
      logs the code. ``check`` recomputes the HMAC and compares with ``hmac.compare_digest``.
    - Face vendor: ``issue`` opens a liveness session and returns its id as
      ``provider_reference`` and the HMAC of the session nonce; ``check`` verifies the signed
      verdict token the client answers with against the vendor and the stored hash.
    - Corporate account / security environment: the same shape, with the bank's or the
      device attestation service's verdict.

    ``check`` is only consulted for a pending challenge answered by its own user, device and
    purpose (see :func:`answer_challenge`), so a locked or expired challenge never reaches it.
    """

    def issue(self, challenge: Challenge, request: ChallengeRequest) -> IssuedSecret:
        """Deliver or set up the challenge and return what to store (a hash, never a code)."""
        ...

    def check(self, challenge: Challenge, stored: IssuedSecret, answer: str) -> bool:
        """True when ``answer`` is right for ``challenge``; compares in constant time."""
        ...


# --- creating -------------------------------------------------------------------------------


def create_challenge(request: ChallengeRequest, now_us: int) -> Challenge:
    """Validate ``request`` and return a new pending challenge created at ``now_us``."""
    kind = _validated_kind(request.kind)
    _validate_ids(request)
    _validate_purpose(request.purpose)
    ttl_seconds = _integer_in_range(
        request.ttl_seconds,
        "ttl_seconds",
        (MIN_TTL_SECONDS, MAX_TTL_SECONDS),
        VerificationErrorCode.TTL_OUT_OF_RANGE,
    )
    max_attempts = _integer_in_range(
        request.max_attempts,
        "max_attempts",
        (MIN_ATTEMPTS, MAX_ATTEMPTS),
        VerificationErrorCode.ATTEMPTS_OUT_OF_RANGE,
    )
    _validate_corporate_account(kind, request.corporate_account)
    created_at_us = _require_integer(now_us, "now_us")
    return Challenge(
        challenge_id=request.challenge_id,
        kind=kind,
        user_id=request.user_id,
        device_id=request.fingerprint.device_id,
        sim_id=request.fingerprint.sim_id,
        purpose=request.purpose,
        created_at_us=created_at_us,
        expires_at_us=created_at_us + ttl_seconds * MICROSECONDS_PER_SECOND,
        max_attempts=max_attempts,
    )


def open_challenge(
    request: ChallengeRequest, now_us: int, provider: VerificationProvider
) -> tuple[Challenge, IssuedSecret]:
    """Create a challenge and have ``provider`` issue it; storage writes both together."""
    challenge = create_challenge(request, now_us)
    issued = provider.issue(challenge, request)
    invariant(
        issued.challenge_id == challenge.challenge_id,
        "the provider issued a secret for another challenge",
        challenge_id=challenge.challenge_id,
    )
    return challenge, issued


def _validated_kind(kind: str) -> ChallengeKind:
    # A plain string from an entry point is accepted when it names a kind.
    try:
        return ChallengeKind(kind)
    except ValueError:
        raise InvalidVerificationInput(
            f"unknown challenge kind {kind!r}", code=VerificationErrorCode.KIND_UNKNOWN
        ) from None


def _validate_ids(request: ChallengeRequest) -> None:
    named_ids = {
        "challenge_id": request.challenge_id,
        "user_id": request.user_id,
        "device_id": request.fingerprint.device_id,
        "sim_id": request.fingerprint.sim_id,
    }
    for name, value in named_ids.items():
        if not is_valid_id(value):
            raise InvalidVerificationInput(
                f"{name} must be 1-128 characters of A-Z a-z 0-9 : . _ - /",
                code=VerificationErrorCode.ID_INVALID,
                field=name,
            )


def _validate_purpose(purpose: str) -> None:
    # Length first: it is a limit with its own code, and is_valid_id would hide it.
    if isinstance(purpose, str) and len(purpose) > MAX_PURPOSE_LENGTH:
        raise VerificationLimitExceeded(
            f"purpose is longer than {MAX_PURPOSE_LENGTH} characters",
            code=VerificationErrorCode.PURPOSE_TOO_LONG,
            length=len(purpose),
        )
    if not is_valid_id(purpose):
        raise InvalidVerificationInput(
            "purpose must be a short id such as 'recall:packet-123'",
            code=VerificationErrorCode.PURPOSE_INVALID,
        )


def _require_integer(value: object, name: str) -> int:
    # bool is an int in Python; True attempts or a float ttl is a bug upstream, so refuse it.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidVerificationInput(
            f"{name} must be an integer, got {type(value).__name__}",
            code=VerificationErrorCode.NOT_INTEGER,
            field=name,
        )
    return value


def _integer_in_range(
    value: object, name: str, bounds: tuple[int, int], code: VerificationErrorCode
) -> int:
    number = _require_integer(value, name)
    lowest, highest = bounds
    if not lowest <= number <= highest:
        raise VerificationLimitExceeded(
            f"{name} must be between {lowest} and {highest}, got {number}",
            code=code,
            field=name,
        )
    return number


def _validate_corporate_account(kind: ChallengeKind, account: str | None) -> None:
    # The account number never appears in a message or detail: it is the secret being checked.
    if kind != ChallengeKind.CORPORATE_ACCOUNT:
        if account is not None:
            raise InvalidVerificationInput(
                f"a {kind} challenge takes no corporate account; it would be sent for nothing",
                code=VerificationErrorCode.CORPORATE_ACCOUNT_UNEXPECTED,
            )
        return
    if account is None:
        raise InvalidVerificationInput(
            "a corporate_account challenge needs the enterprise's corporate account",
            code=VerificationErrorCode.CORPORATE_ACCOUNT_REQUIRED,
        )
    digits_only = isinstance(account, str) and account.isascii() and account.isdigit()
    length_ok = MIN_CORPORATE_ACCOUNT_DIGITS <= len(account) <= MAX_CORPORATE_ACCOUNT_DIGITS
    if not (digits_only and length_ok):
        raise InvalidVerificationInput(
            f"the corporate account must be {MIN_CORPORATE_ACCOUNT_DIGITS}-"
            f"{MAX_CORPORATE_ACCOUNT_DIGITS} digits",
            code=VerificationErrorCode.CORPORATE_ACCOUNT_INVALID,
        )


# --- answering ------------------------------------------------------------------------------

# What an answer gets in each state other than pending (the only state that checks answers).
_ANSWER_REFUSAL_BY_STATE: dict[ChallengeState, AnswerResult] = {
    ChallengeState.PASSED: AnswerResult.ALREADY_PASSED,
    ChallengeState.CONSUMED: AnswerResult.ALREADY_CONSUMED,
    ChallengeState.LOCKED: AnswerResult.LOCKED,
    ChallengeState.EXPIRED: AnswerResult.EXPIRED,
}


def answer_refusal(
    challenge: Challenge, attempt: AnswerAttempt, now_us: int
) -> AnswerResult | None:
    """Why ``attempt`` may not be checked at all, or ``None`` when it may.

    Who and what for come first, so that a stranger learns nothing about the challenge; and
    refused attempts use no attempt, so a stranger cannot lock the owner out either.
    """
    if not _same_holder(challenge, attempt.user_id, attempt.fingerprint):
        return AnswerResult.WRONG_USER_OR_DEVICE
    if attempt.purpose != challenge.purpose:
        return AnswerResult.WRONG_PURPOSE
    return _ANSWER_REFUSAL_BY_STATE.get(challenge.state_at(now_us))


def answer_challenge(
    challenge: Challenge,
    stored: IssuedSecret,
    attempt: AnswerAttempt,
    now_us: int,
    provider: VerificationProvider,
) -> tuple[Challenge, AnswerOutcome]:
    """Check ``attempt`` with ``provider`` and return the new challenge and the outcome.

    The provider is consulted only when the attempt may be checked, so the right answer to a
    locked or expired challenge is never even compared.
    """
    _validate_answer(attempt.answer)
    refusal = answer_refusal(challenge, attempt, now_us)
    if refusal is not None:
        return challenge, _answer_outcome(challenge, refusal)
    # Ids are not secrets, so a plain comparison; a mix-up here is a storage bug.
    invariant(
        stored.challenge_id == challenge.challenge_id,
        "the stored secret belongs to another challenge",
        challenge_id=challenge.challenge_id,
    )
    answer_matches = provider.check(challenge, stored, attempt.answer)
    return record_answer(challenge, attempt, answer_matches=answer_matches, now_us=now_us)


def record_answer(
    challenge: Challenge, attempt: AnswerAttempt, *, answer_matches: bool, now_us: int
) -> tuple[Challenge, AnswerOutcome]:
    """Apply a verdict reached elsewhere (for providers whose verdict arrives separately).

    Refusals are re-checked here, so a verdict can never revive a locked or expired challenge.
    """
    refusal = answer_refusal(challenge, attempt, now_us)
    if refusal is not None:
        return challenge, _answer_outcome(challenge, refusal)
    if answer_matches:
        return _pass(challenge, now_us)
    return _count_wrong_answer(challenge, now_us)


def _pass(challenge: Challenge, now_us: int) -> tuple[Challenge, AnswerOutcome]:
    passed = replace(
        challenge,
        state=ChallengeState.PASSED,
        attempts_used=challenge.attempts_used + 1,
        passed_at_us=now_us,
        revision=challenge.revision + 1,
    )
    return passed, AnswerOutcome(AnswerResult.PASSED, passed.attempts_remaining)


def _count_wrong_answer(challenge: Challenge, now_us: int) -> tuple[Challenge, AnswerOutcome]:
    attempts_used = challenge.attempts_used + 1
    if attempts_used < challenge.max_attempts:
        counted = replace(challenge, attempts_used=attempts_used, revision=challenge.revision + 1)
        return counted, AnswerOutcome(AnswerResult.WRONG_ANSWER, counted.attempts_remaining)
    # This attempt used the last one: it is answered "locked", like every later attempt.
    locked = replace(
        challenge,
        state=ChallengeState.LOCKED,
        attempts_used=attempts_used,
        locked_at_us=now_us,
        revision=challenge.revision + 1,
    )
    invariant(locked.attempts_remaining == 0, "a locked challenge has no attempts left")
    return locked, AnswerOutcome(AnswerResult.LOCKED, 0)


def _answer_outcome(challenge: Challenge, result: AnswerResult) -> AnswerOutcome:
    hidden = (AnswerResult.WRONG_USER_OR_DEVICE, AnswerResult.WRONG_PURPOSE)
    remaining = None if result in hidden else challenge.attempts_remaining
    return AnswerOutcome(result, remaining)


def _validate_answer(answer: str) -> None:
    if not isinstance(answer, str):
        raise InvalidVerificationInput(
            "an answer is text", code=VerificationErrorCode.ANSWER_INVALID, field="answer"
        )
    if len(answer) > MAX_ANSWER_LENGTH:
        raise VerificationLimitExceeded(
            f"an answer is at most {MAX_ANSWER_LENGTH} characters",
            code=VerificationErrorCode.ANSWER_TOO_LONG,
            length=len(answer),
        )


def _same_holder(challenge: Challenge, user_id: str, fingerprint: DeviceFingerprint) -> bool:
    # Not secrets, so plain comparison; the SIM counts, because R-A1 binds device and SIM.
    return challenge.user_id == user_id and challenge.fingerprint == fingerprint


# --- consuming ------------------------------------------------------------------------------

_CONSUME_REFUSAL_BY_STATE: dict[ChallengeState, ConsumeResult] = {
    ChallengeState.PENDING: ConsumeResult.NOT_PASSED,
    ChallengeState.CONSUMED: ConsumeResult.ALREADY_CONSUMED,
    ChallengeState.LOCKED: ConsumeResult.LOCKED,
    ChallengeState.EXPIRED: ConsumeResult.EXPIRED,
}


def consume_refusal(
    challenge: Challenge, request: ConsumeRequest, now_us: int
) -> ConsumeResult | None:
    """Why ``request`` may not spend the challenge, or ``None`` when it may."""
    if not _same_holder(challenge, request.user_id, request.fingerprint):
        return ConsumeResult.WRONG_USER_OR_DEVICE
    if request.purpose != challenge.purpose:
        return ConsumeResult.WRONG_PURPOSE
    # A passed SMS code must not stand in for the face verification the policy asked for.
    if request.kind != challenge.kind:
        return ConsumeResult.WRONG_KIND
    return _CONSUME_REFUSAL_BY_STATE.get(challenge.state_at(now_us))


def consume_challenge(
    challenge: Challenge, request: ConsumeRequest, now_us: int
) -> tuple[Challenge, ConsumeOutcome]:
    """Spend a passed challenge once, for exactly its user, fingerprint, purpose and kind."""
    refusal = consume_refusal(challenge, request, now_us)
    if refusal is not None:
        return challenge, ConsumeOutcome(refusal)
    consumed = replace(
        challenge,
        state=ChallengeState.CONSUMED,
        consumed_at_us=now_us,
        revision=challenge.revision + 1,
    )
    return consumed, ConsumeOutcome(ConsumeResult.CONSUMED)


# --- providers ------------------------------------------------------------------------------

# Kinds whose simulated verdict an operator or a drill may set with instruct().
INSTRUCTABLE_KINDS = frozenset({ChallengeKind.FACE, ChallengeKind.SECURITY_ENVIRONMENT})


class SimulatedProvider:
    """A deterministic provider for the demo, drills and tests; never for real money.

    - ``sms_code``: six digits derived from HMAC(secret key, challenge id), so the same key and
      id always give the same code; only :meth:`operator_reveal_code` shows it.
    - ``face`` and ``security_environment``: the answer ``"pass"`` passes, anything else
      fails, unless :meth:`instruct` set the verdict for that challenge.
    - ``corporate_account``: the last four digits of the account given at issue time.

    It stores only the keyed hash of the expected answer, like a real provider.
    """

    __slots__ = ("_instructions", "_secret_key")

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) < MIN_SECRET_KEY_BYTES:
            raise ConfigurationError(
                f"the simulator's secret key needs at least {MIN_SECRET_KEY_BYTES} bytes",
                code=VerificationErrorCode.SECRET_KEY_TOO_SHORT,
            )
        self._secret_key = secret_key
        self._instructions: dict[str, bool] = {}

    def __repr__(self) -> str:
        # Spelled out so that the key can never reach a log through repr.
        return f"SimulatedProvider(instructions={len(self._instructions)})"

    def issue(self, challenge: Challenge, request: ChallengeRequest) -> IssuedSecret:
        expected = self._expected_answer(challenge, request)
        return IssuedSecret(challenge.challenge_id, self._answer_hash(challenge, expected))

    def check(self, challenge: Challenge, stored: IssuedSecret, answer: str) -> bool:
        instructed = self._instructions.get(challenge.challenge_id)
        if instructed is not None and challenge.kind in INSTRUCTABLE_KINDS:
            return instructed
        return hmac.compare_digest(self._answer_hash(challenge, answer), stored.answer_hash)

    def instruct(self, challenge_id: str, *, passes: bool) -> None:
        """Decide the verdict of a face or security-environment challenge (the drill's camera).

        Ignored for SMS and corporate challenges: their answers are always checked.
        """
        if not is_valid_id(challenge_id):
            raise InvalidVerificationInput(
                "challenge_id is not a valid id", code=VerificationErrorCode.ID_INVALID
            )
        full = len(self._instructions) >= MAX_SIMULATED_INSTRUCTIONS
        if full and challenge_id not in self._instructions:
            raise VerificationLimitExceeded(
                f"the simulator holds at most {MAX_SIMULATED_INSTRUCTIONS} instructions",
                code=VerificationErrorCode.INSTRUCTIONS_FULL,
            )
        self._instructions[challenge_id] = passes

    def operator_reveal_code(self, challenge: Challenge, operator: OperatorContext) -> str:
        """The simulated SMS code, for an operator running a demo or drill; nobody else."""
        if not operator.is_operator:
            raise OperatorOnly(
                "only an operator may reveal a simulated code", actor_id=operator.actor_id
            )
        if challenge.kind != ChallengeKind.SMS_CODE:
            raise InvalidVerificationInput(
                f"a {challenge.kind} challenge has no code to reveal",
                code=VerificationErrorCode.REVEAL_NOT_SUPPORTED,
            )
        return self._sms_code(challenge.challenge_id)

    def _expected_answer(self, challenge: Challenge, request: ChallengeRequest) -> str:
        if challenge.kind == ChallengeKind.SMS_CODE:
            return self._sms_code(challenge.challenge_id)
        if challenge.kind == ChallengeKind.CORPORATE_ACCOUNT:
            # create_challenge guarantees the account is present and all digits.
            account = request.corporate_account
            invariant(account is not None, "a corporate challenge carries its account")
            return str(account)[-CORPORATE_ACCOUNT_CHECKED_DIGITS:]
        return SIMULATED_PASS_ANSWER

    def _sms_code(self, challenge_id: str) -> str:
        digest = self._keyed_digest(b"sms-code", challenge_id.encode())
        # 2**256 is so much larger than 10**6 that the modulo bias is immeasurable.
        number = int.from_bytes(digest, "big") % 10**SMS_CODE_DIGITS
        return f"{number:0{SMS_CODE_DIGITS}d}"

    def _answer_hash(self, challenge: Challenge, answer: str) -> str:
        # Binding kind and id means a hash copied onto another challenge is worthless.
        message = b"\x00".join(
            (challenge.kind.encode(), challenge.challenge_id.encode(), answer.encode())
        )
        return self._keyed_digest(b"answer", message).hex()

    def _keyed_digest(self, domain: bytes, message: bytes) -> bytes:
        # The domain keeps a code and an answer hash from ever being the same value.
        return hmac.new(self._secret_key, domain + b"\x00" + message, hashlib.sha256).digest()


class ProviderRouter:
    """Routes each challenge to the provider for its kind; itself a VerificationProvider.

    Every kind must have a provider when the router is built, so a missing adapter is a
    start-up error, not a failed recall.
    """

    __slots__ = ("_providers",)

    def __init__(self, providers: Mapping[ChallengeKind, VerificationProvider]) -> None:
        missing = sorted(kind.value for kind in ChallengeKind if kind not in providers)
        if missing:
            raise ConfigurationError(
                f"no verification provider for {', '.join(missing)}",
                code=VerificationErrorCode.PROVIDER_MISSING,
                missing=missing,
            )
        self._providers = dict(providers)

    @classmethod
    def simulated(cls, secret_key: bytes) -> ProviderRouter:
        """One :class:`SimulatedProvider` for every kind: the demo and drill setup."""
        simulator = SimulatedProvider(secret_key)
        return cls(dict.fromkeys(ChallengeKind, simulator))

    def __repr__(self) -> str:
        return f"ProviderRouter(kinds={sorted(kind.value for kind in self._providers)})"

    def provider_for(self, kind: ChallengeKind) -> VerificationProvider:
        return self._providers[kind]

    def issue(self, challenge: Challenge, request: ChallengeRequest) -> IssuedSecret:
        return self.provider_for(challenge.kind).issue(challenge, request)

    def check(self, challenge: Challenge, stored: IssuedSecret, answer: str) -> bool:
        return self.provider_for(challenge.kind).check(challenge, stored, answer)
