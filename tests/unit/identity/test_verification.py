"""Step-up verification challenges: lifecycle, expiry, attempts, single use and the simulator."""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from enum import StrEnum
from types import UnionType
from typing import get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongbao.identity import verification
from hongbao.identity.verification import (
    MAX_ATTEMPTS,
    MAX_PURPOSE_LENGTH,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    AnswerAttempt,
    AnswerOutcome,
    AnswerResult,
    Challenge,
    ChallengeKind,
    ChallengeRequest,
    ChallengeState,
    ConsumeOutcome,
    ConsumeRequest,
    ConsumeResult,
    DeviceFingerprint,
    InvalidVerificationInput,
    IssuedSecret,
    OperatorContext,
    OperatorOnly,
    ProviderRouter,
    SimulatedProvider,
    VerificationLimitExceeded,
    VerificationProvider,
    answer_challenge,
    consume_challenge,
    create_challenge,
    open_challenge,
    record_answer,
)
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, ManualClock
from hongbao.platform.errors import ConfigurationError, InvalidInput, InvariantViolation

START_US = 1_796_000_000_000_000
SECRET_KEY = b"hongbao-test-key-" + b"k" * 32
PHONE = DeviceFingerprint(device_id="iphone-14-pro-0001", sim_id="sim-8986-0001")
OTHER_SIM = DeviceFingerprint(device_id="iphone-14-pro-0001", sim_id="sim-8986-0002")
PURPOSE = "recall:packet-123"
OPERATOR = OperatorContext(actor_id="operator-7", is_operator=True)
USER_ACTOR = OperatorContext(actor_id="user-1", is_operator=False)
CORPORATE_ACCOUNT = "6222020200112233445"


def request_for(
    kind: ChallengeKind = ChallengeKind.SMS_CODE,
    *,
    challenge_id: str = "challenge-1",
    ttl_seconds: int = 300,
    max_attempts: int = 5,
    corporate_account: str | None = None,
    purpose: str = PURPOSE,
) -> ChallengeRequest:
    return ChallengeRequest(
        challenge_id=challenge_id,
        kind=kind,
        user_id="user-1",
        fingerprint=PHONE,
        purpose=purpose,
        ttl_seconds=ttl_seconds,
        max_attempts=max_attempts,
        corporate_account=corporate_account,
    )


def attempt(
    answer: str,
    *,
    user_id: str = "user-1",
    fingerprint: DeviceFingerprint = PHONE,
    purpose: str = PURPOSE,
) -> AnswerAttempt:
    return AnswerAttempt(user_id=user_id, fingerprint=fingerprint, purpose=purpose, answer=answer)


def consume_request(
    kind: ChallengeKind = ChallengeKind.SMS_CODE,
    *,
    fingerprint: DeviceFingerprint = PHONE,
    purpose: str = PURPOSE,
    user_id: str = "user-1",
) -> ConsumeRequest:
    return ConsumeRequest(user_id=user_id, fingerprint=fingerprint, purpose=purpose, kind=kind)


@pytest.fixture
def simulator() -> SimulatedProvider:
    return SimulatedProvider(SECRET_KEY)


def open_sms(
    simulator: SimulatedProvider, *, ttl_seconds: int = 300, max_attempts: int = 5
) -> tuple[Challenge, IssuedSecret, str]:
    """A fresh SMS challenge, its stored secret, and the code the operator can reveal."""
    request = request_for(ttl_seconds=ttl_seconds, max_attempts=max_attempts)
    challenge, issued = open_challenge(request, START_US, simulator)
    return challenge, issued, simulator.operator_reveal_code(challenge, OPERATOR)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- lifecycle ------------------------------------------------------------------------------


def test_a_challenge_goes_from_pending_through_passed_to_consumed(
    simulator: SimulatedProvider,
) -> None:
    clock = ManualClock(START_US)
    challenge, issued, code = open_sms(simulator)
    assert challenge.state_at(clock.now_us()) is ChallengeState.PENDING
    assert challenge.attempts_remaining == 5

    clock.advance(seconds=10)
    challenge, outcome = answer_challenge(
        challenge, issued, attempt(wrong_code(code)), clock.now_us(), simulator
    )
    assert outcome == AnswerOutcome(AnswerResult.WRONG_ANSWER, attempts_remaining=4)

    clock.advance(seconds=10)
    challenge, outcome = answer_challenge(
        challenge, issued, attempt(code), clock.now_us(), simulator
    )
    assert outcome.result is AnswerResult.PASSED
    assert challenge.state_at(clock.now_us()) is ChallengeState.PASSED
    assert challenge.passed_at_us == clock.now_us()

    clock.advance(seconds=10)
    challenge, consumed = consume_challenge(challenge, consume_request(), clock.now_us())
    assert consumed == ConsumeOutcome(ConsumeResult.CONSUMED)
    assert challenge.state is ChallengeState.CONSUMED
    assert challenge.consumed_at_us == clock.now_us()
    assert challenge.revision == 3, "every transition bumps the revision storage compares on"


def test_a_new_challenge_expires_after_its_time_to_live(simulator: SimulatedProvider) -> None:
    challenge, _, _ = open_sms(simulator, ttl_seconds=120)
    assert challenge.created_at_us == START_US
    assert challenge.expires_at_us == START_US + 120 * MICROSECONDS_PER_SECOND
    assert challenge.fingerprint == PHONE


def test_answering_a_passed_challenge_again_says_already_passed(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator)
    passed, _ = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    again, outcome = answer_challenge(passed, issued, attempt(code), START_US, simulator)
    assert outcome.result is AnswerResult.ALREADY_PASSED
    assert again is passed, "nothing changed, so storage has nothing to write"


def test_a_pending_challenge_cannot_be_consumed(simulator: SimulatedProvider) -> None:
    challenge, _, _ = open_sms(simulator)
    unchanged, outcome = consume_challenge(challenge, consume_request(), START_US)
    assert outcome.result is ConsumeResult.NOT_PASSED
    assert unchanged is challenge


def test_the_right_answer_on_the_last_attempt_still_passes(simulator: SimulatedProvider) -> None:
    challenge, issued, code = open_sms(simulator, max_attempts=2)
    challenge, _ = answer_challenge(challenge, issued, attempt("000000x"), START_US, simulator)
    challenge, outcome = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    assert outcome == AnswerOutcome(AnswerResult.PASSED, attempts_remaining=0)


# --- expiry ---------------------------------------------------------------------------------


def test_a_challenge_is_expired_exactly_at_its_deadline_and_not_one_microsecond_before(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator, ttl_seconds=MIN_TTL_SECONDS)
    deadline = challenge.expires_at_us
    assert challenge.state_at(deadline - 1) is ChallengeState.PENDING
    assert challenge.state_at(deadline) is ChallengeState.EXPIRED

    late, outcome = answer_challenge(challenge, issued, attempt(code), deadline, simulator)
    assert outcome.result is AnswerResult.EXPIRED
    assert late is challenge

    _, in_time = answer_challenge(challenge, issued, attempt(code), deadline - 1, simulator)
    assert in_time.result is AnswerResult.PASSED


def test_a_passed_challenge_can_no_longer_be_consumed_once_its_deadline_is_reached(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator)
    passed, _ = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    deadline = passed.expires_at_us
    assert passed.state_at(deadline) is ChallengeState.EXPIRED

    _, refused = consume_challenge(passed, consume_request(), deadline)
    assert refused.result is ConsumeResult.EXPIRED
    _, accepted = consume_challenge(passed, consume_request(), deadline - 1)
    assert accepted.result is ConsumeResult.CONSUMED


def test_consumed_and_locked_challenges_keep_their_state_after_the_deadline(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator, max_attempts=1)
    locked, _ = answer_challenge(challenge, issued, attempt(wrong_code(code)), START_US, simulator)
    assert locked.state_at(locked.expires_at_us + 1) is ChallengeState.LOCKED


# --- attempts -------------------------------------------------------------------------------


def test_the_attempt_that_reaches_the_limit_locks_and_the_right_code_afterwards_still_fails(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator, max_attempts=3)
    results = []
    for _ in range(3):
        challenge, outcome = answer_challenge(
            challenge, issued, attempt(wrong_code(code)), START_US, simulator
        )
        results.append(outcome)
    assert results == [
        AnswerOutcome(AnswerResult.WRONG_ANSWER, 2),
        AnswerOutcome(AnswerResult.WRONG_ANSWER, 1),
        AnswerOutcome(AnswerResult.LOCKED, 0),
    ]
    assert challenge.state is ChallengeState.LOCKED
    assert challenge.locked_at_us == START_US

    after, outcome = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    assert outcome == AnswerOutcome(AnswerResult.LOCKED, 0)
    assert after is challenge
    _, consumed = consume_challenge(challenge, consume_request(), START_US)
    assert consumed.result is ConsumeResult.LOCKED


def test_a_locked_challenge_never_consults_the_provider(simulator: SimulatedProvider) -> None:
    challenge, issued, code = open_sms(simulator, max_attempts=1)
    locked, _ = answer_challenge(challenge, issued, attempt(wrong_code(code)), START_US, simulator)

    class RefusingProvider:
        def issue(self, challenge: Challenge, request: ChallengeRequest) -> IssuedSecret:
            raise AssertionError("not expected")

        def check(self, challenge: Challenge, stored: IssuedSecret, answer: str) -> bool:
            raise AssertionError("a locked challenge must not be checked")

    _, outcome = answer_challenge(locked, issued, attempt(code), START_US, RefusingProvider())
    assert outcome.result is AnswerResult.LOCKED


def test_a_verdict_reached_elsewhere_cannot_revive_a_locked_challenge(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator, max_attempts=1)
    locked, _ = answer_challenge(challenge, issued, attempt(wrong_code(code)), START_US, simulator)
    same, outcome = record_answer(locked, attempt(code), answer_matches=True, now_us=START_US)
    assert outcome.result is AnswerResult.LOCKED
    assert same is locked


# --- single use -----------------------------------------------------------------------------


def test_a_passed_challenge_is_consumed_once_and_a_second_consume_is_refused(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator)
    passed, _ = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    consumed, first = consume_challenge(passed, consume_request(), START_US)
    again, second = consume_challenge(consumed, consume_request(), START_US)
    assert first.result is ConsumeResult.CONSUMED
    assert second.result is ConsumeResult.ALREADY_CONSUMED
    assert again is consumed

    _, answered = answer_challenge(consumed, issued, attempt(code), START_US, simulator)
    assert answered.result is AnswerResult.ALREADY_CONSUMED


# --- who and what for -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stranger", "expected"),
    [
        (attempt("x", user_id="user-2"), AnswerResult.WRONG_USER_OR_DEVICE),
        (attempt("x", fingerprint=OTHER_SIM), AnswerResult.WRONG_USER_OR_DEVICE),
        (
            attempt("x", fingerprint=DeviceFingerprint("mate-50-0009", PHONE.sim_id)),
            AnswerResult.WRONG_USER_OR_DEVICE,
        ),
        (attempt("x", purpose="recall:packet-999"), AnswerResult.WRONG_PURPOSE),
    ],
    ids=["other-user", "same-device-other-sim", "other-device-same-sim", "other-purpose"],
)
def test_an_answer_from_another_user_device_sim_or_purpose_is_refused_without_using_an_attempt(
    simulator: SimulatedProvider, stranger: AnswerAttempt, expected: AnswerResult
) -> None:
    challenge, issued, code = open_sms(simulator)
    # Even the right code is refused when it comes from the wrong place.
    stranger = dataclasses.replace(stranger, answer=code)
    unchanged, outcome = answer_challenge(challenge, issued, stranger, START_US, simulator)
    assert outcome == AnswerOutcome(expected, attempts_remaining=None)
    assert unchanged is challenge
    assert unchanged.attempts_used == 0


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (consume_request(user_id="user-2"), ConsumeResult.WRONG_USER_OR_DEVICE),
        (consume_request(fingerprint=OTHER_SIM), ConsumeResult.WRONG_USER_OR_DEVICE),
        (consume_request(purpose="recall:packet-999"), ConsumeResult.WRONG_PURPOSE),
        (consume_request(kind=ChallengeKind.FACE), ConsumeResult.WRONG_KIND),
    ],
    ids=["other-user", "same-device-other-sim", "other-purpose", "other-kind"],
)
def test_a_passed_challenge_is_consumed_only_for_its_own_user_fingerprint_purpose_and_kind(
    simulator: SimulatedProvider, request_: ConsumeRequest, expected: ConsumeResult
) -> None:
    challenge, issued, code = open_sms(simulator)
    passed, _ = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    unchanged, outcome = consume_challenge(passed, request_, START_US)
    assert outcome.result is expected
    assert unchanged is passed
    _, still_spendable = consume_challenge(passed, consume_request(), START_US)
    assert still_spendable.result is ConsumeResult.CONSUMED


# --- the simulator --------------------------------------------------------------------------


def test_the_simulator_derives_the_same_six_digit_code_from_the_same_key_and_challenge() -> None:
    challenge = create_challenge(request_for(), START_US)
    first = SimulatedProvider(SECRET_KEY).operator_reveal_code(challenge, OPERATOR)
    second = SimulatedProvider(SECRET_KEY).operator_reveal_code(challenge, OPERATOR)
    assert first == second
    assert len(first) == 6
    assert first.isdigit()

    other_key = SimulatedProvider(b"another-key-" + b"z" * 32)
    other_challenge = create_challenge(request_for(challenge_id="challenge-2"), START_US)
    codes = {
        other_key.operator_reveal_code(challenge, OPERATOR),
        SimulatedProvider(SECRET_KEY).operator_reveal_code(other_challenge, OPERATOR),
    }
    assert first not in codes, "the code depends on both the key and the challenge"


def test_the_simulator_issues_the_same_hash_every_time_and_never_the_plain_code(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator)
    again = SimulatedProvider(SECRET_KEY).issue(challenge, request_for())
    assert hmac.compare_digest(issued.answer_hash, again.answer_hash)
    assert code not in issued.answer_hash
    assert len(issued.answer_hash) == 64
    assert issued.provider_reference is None


def test_face_and_security_environment_pass_on_pass_and_fail_otherwise(
    simulator: SimulatedProvider,
) -> None:
    for kind in (ChallengeKind.FACE, ChallengeKind.SECURITY_ENVIRONMENT):
        challenge, issued = open_challenge(request_for(kind), START_US, simulator)
        _, failed = answer_challenge(challenge, issued, attempt("fail"), START_US, simulator)
        _, passed = answer_challenge(challenge, issued, attempt("pass"), START_US, simulator)
        assert failed.result is AnswerResult.WRONG_ANSWER
        assert passed.result is AnswerResult.PASSED


def test_an_instruction_decides_a_face_check_whatever_the_answer(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued = open_challenge(request_for(ChallengeKind.FACE), START_US, simulator)
    simulator.instruct(challenge.challenge_id, passes=False)
    _, refused = answer_challenge(challenge, issued, attempt("pass"), START_US, simulator)
    assert refused.result is AnswerResult.WRONG_ANSWER
    simulator.instruct(challenge.challenge_id, passes=True)
    _, accepted = answer_challenge(challenge, issued, attempt("anything"), START_US, simulator)
    assert accepted.result is AnswerResult.PASSED


def test_an_instruction_never_passes_an_sms_challenge(simulator: SimulatedProvider) -> None:
    challenge, issued, code = open_sms(simulator)
    simulator.instruct(challenge.challenge_id, passes=True)
    _, outcome = answer_challenge(challenge, issued, attempt(wrong_code(code)), START_US, simulator)
    assert outcome.result is AnswerResult.WRONG_ANSWER


def test_a_corporate_challenge_passes_with_the_last_four_digits_of_the_account(
    simulator: SimulatedProvider,
) -> None:
    request = request_for(ChallengeKind.CORPORATE_ACCOUNT, corporate_account=CORPORATE_ACCOUNT)
    challenge, issued = open_challenge(request, START_US, simulator)
    _, wrong = answer_challenge(challenge, issued, attempt("4455"), START_US, simulator)
    _, full = answer_challenge(challenge, issued, attempt(CORPORATE_ACCOUNT), START_US, simulator)
    _, right = answer_challenge(challenge, issued, attempt("3445"), START_US, simulator)
    assert wrong.result is AnswerResult.WRONG_ANSWER
    assert full.result is AnswerResult.WRONG_ANSWER
    assert right.result is AnswerResult.PASSED


def test_only_an_operator_may_reveal_a_simulated_code(simulator: SimulatedProvider) -> None:
    challenge = create_challenge(request_for(), START_US)
    with pytest.raises(OperatorOnly) as refused:
        simulator.operator_reveal_code(challenge, USER_ACTOR)
    assert refused.value.code == "verification.operator_only"
    assert refused.value.details == {"actor_id": "user-1"}


def test_a_face_challenge_has_no_code_to_reveal(simulator: SimulatedProvider) -> None:
    challenge = create_challenge(request_for(ChallengeKind.FACE), START_US)
    with pytest.raises(InvalidInput) as refused:
        simulator.operator_reveal_code(challenge, OPERATOR)
    assert refused.value.code == "verification.reveal_not_supported"


def test_the_simulator_refuses_a_short_secret_key() -> None:
    with pytest.raises(ConfigurationError) as refused:
        SimulatedProvider(b"short")
    assert refused.value.code == "verification.secret_key_too_short"


# --- secrets --------------------------------------------------------------------------------


def test_no_code_hash_key_or_account_appears_in_any_repr_or_str(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, code = open_sms(simulator)
    corporate_request = request_for(
        ChallengeKind.CORPORATE_ACCOUNT,
        challenge_id="challenge-2",
        corporate_account=CORPORATE_ACCOUNT,
    )
    corporate, corporate_issued = open_challenge(corporate_request, START_US, simulator)
    _, outcome = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    shown = " ".join(
        text
        for value in (
            challenge,
            issued,
            attempt(code),
            outcome,
            corporate_request,
            corporate,
            corporate_issued,
            simulator,
            ProviderRouter.simulated(SECRET_KEY),
        )
        for text in (repr(value), str(value))
    )
    for secret in (
        code,
        issued.answer_hash,
        corporate_issued.answer_hash,
        CORPORATE_ACCOUNT,
        CORPORATE_ACCOUNT[-4:],
        SECRET_KEY.decode(),
    ):
        assert secret not in shown


def test_equality_of_stored_secrets_ignores_the_hash_so_nobody_compares_it_with_equals() -> None:
    assert IssuedSecret("challenge-1", "a" * 64) == IssuedSecret("challenge-1", "b" * 64)


def test_every_check_of_an_answer_compares_hashes_in_constant_time(
    simulator: SimulatedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real_compare: Callable[[str, str], bool] = hmac.compare_digest

    def observed_compare(left: str, right: str) -> bool:
        calls.append((left, right))
        return real_compare(left, right)

    challenge, issued, code = open_sms(simulator)
    monkeypatch.setattr(hmac, "compare_digest", observed_compare)
    challenge, wrong = answer_challenge(
        challenge, issued, attempt(wrong_code(code)), START_US, simulator
    )
    _, right = answer_challenge(challenge, issued, attempt(code), START_US, simulator)
    assert (wrong.result, right.result) == (AnswerResult.WRONG_ANSWER, AnswerResult.PASSED)
    assert len(calls) == 2
    assert all(stored == issued.answer_hash for _, stored in calls)


# --- input limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"ttl_seconds": MIN_TTL_SECONDS - 1}, VerificationLimitExceeded, "ttl_out_of_range"),
        ({"ttl_seconds": MAX_TTL_SECONDS + 1}, VerificationLimitExceeded, "ttl_out_of_range"),
        ({"ttl_seconds": 60.0}, InvalidVerificationInput, "not_integer"),
        ({"max_attempts": 0}, VerificationLimitExceeded, "attempts_out_of_range"),
        ({"max_attempts": MAX_ATTEMPTS + 1}, VerificationLimitExceeded, "attempts_out_of_range"),
        ({"max_attempts": True}, InvalidVerificationInput, "not_integer"),
        (
            {"purpose": "p" * (MAX_PURPOSE_LENGTH + 1)},
            VerificationLimitExceeded,
            "purpose_too_long",
        ),
        ({"purpose": ""}, InvalidVerificationInput, "purpose_invalid"),
        ({"purpose": "recall packet"}, InvalidVerificationInput, "purpose_invalid"),
        ({"challenge_id": "bad id"}, InvalidVerificationInput, "id_invalid"),
        ({"user_id": ""}, InvalidVerificationInput, "id_invalid"),
        ({"kind": "fingerprint"}, InvalidVerificationInput, "kind_unknown"),
        (
            {"corporate_account": CORPORATE_ACCOUNT},
            InvalidVerificationInput,
            "corporate_account_unexpected",
        ),
    ],
)
def test_a_malformed_request_is_refused_with_a_stable_code(
    changes: dict[str, object], error: type[InvalidInput], code: str
) -> None:
    request = dataclasses.replace(request_for(), **changes)  # type: ignore[arg-type]
    with pytest.raises(error) as refused:
        create_challenge(request, START_US)
    assert refused.value.code == f"verification.{code}"


@pytest.mark.parametrize(
    ("account", "code"),
    [
        (None, "corporate_account_required"),
        ("123", "corporate_account_invalid"),
        ("6222-0202-0011", "corporate_account_invalid"),
        ("1" * 35, "corporate_account_invalid"),
    ],
)
def test_a_corporate_challenge_needs_a_plain_digit_account_number(
    account: str | None, code: str
) -> None:
    request = request_for(ChallengeKind.CORPORATE_ACCOUNT, corporate_account=account)
    with pytest.raises(InvalidVerificationInput) as refused:
        create_challenge(request, START_US)
    assert refused.value.code == f"verification.{code}"
    assert CORPORATE_ACCOUNT not in str(refused.value)


def test_the_limits_themselves_are_accepted() -> None:
    for ttl_seconds, max_attempts in ((MIN_TTL_SECONDS, 1), (MAX_TTL_SECONDS, MAX_ATTEMPTS)):
        request = request_for(ttl_seconds=ttl_seconds, max_attempts=max_attempts)
        assert create_challenge(request, START_US).max_attempts == max_attempts
    long_purpose = "p" * MAX_PURPOSE_LENGTH
    assert create_challenge(request_for(purpose=long_purpose), START_US).purpose == long_purpose


def test_an_over_long_answer_is_refused_before_anything_is_checked(
    simulator: SimulatedProvider,
) -> None:
    challenge, issued, _ = open_sms(simulator)
    with pytest.raises(VerificationLimitExceeded) as refused:
        answer_challenge(challenge, issued, attempt("1" * 65), START_US, simulator)
    assert refused.value.code == "verification.answer_too_long"


def test_a_stored_secret_of_another_challenge_is_an_invariant_violation(
    simulator: SimulatedProvider,
) -> None:
    challenge, _, code = open_sms(simulator)
    foreign = IssuedSecret("challenge-9", "0" * 64)
    with pytest.raises(InvariantViolation):
        answer_challenge(challenge, foreign, attempt(code), START_US, simulator)


def test_an_inconsistent_stored_record_is_refused_when_loaded() -> None:
    valid = create_challenge(request_for(), START_US)
    with pytest.raises(InvariantViolation):
        dataclasses.replace(valid, state=ChallengeState.PASSED)
    with pytest.raises(InvariantViolation):
        dataclasses.replace(valid, state=ChallengeState.EXPIRED)


def test_a_record_loaded_with_plain_strings_gets_its_enums_back() -> None:
    valid = create_challenge(request_for(), START_US)
    loaded = dataclasses.replace(valid, kind="sms_code", state="pending")  # type: ignore[arg-type]
    assert loaded.kind is ChallengeKind.SMS_CODE
    assert loaded.state is ChallengeState.PENDING
    assert loaded == valid


# --- providers and records ------------------------------------------------------------------


def test_the_router_needs_a_provider_for_every_kind() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ProviderRouter({ChallengeKind.SMS_CODE: SimulatedProvider(SECRET_KEY)})
    assert refused.value.code == "verification.provider_missing"
    assert "face" in refused.value.message


def test_the_router_sends_each_kind_to_its_own_provider() -> None:
    sms = SimulatedProvider(SECRET_KEY)
    others = SimulatedProvider(b"other-key-" + b"o" * 32)
    router = ProviderRouter(dict.fromkeys(ChallengeKind, others) | {ChallengeKind.SMS_CODE: sms})
    provider: VerificationProvider = router
    assert router.provider_for(ChallengeKind.SMS_CODE) is sms
    challenge, issued = open_challenge(request_for(), START_US, provider)
    code = sms.operator_reveal_code(challenge, OPERATOR)
    _, outcome = answer_challenge(challenge, issued, attempt(code), START_US, provider)
    assert outcome.result is AnswerResult.PASSED


STORABLE_TYPES = {str, int, bool, type(None)}


def _storable(annotation: object) -> bool:
    if isinstance(annotation, UnionType):
        return all(_storable(member) for member in annotation.__args__)
    return annotation in STORABLE_TYPES or (
        isinstance(annotation, type) and issubclass(annotation, StrEnum)
    )


@pytest.mark.parametrize("record", [Challenge, IssuedSecret])
def test_stored_records_are_frozen_slotted_and_made_of_plain_columns(record: type) -> None:
    assert record.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert hasattr(record, "__slots__")
    hints = get_type_hints(record, vars(verification))
    assert all(_storable(hints[column.name]) for column in dataclasses.fields(record))


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    max_attempts=st.integers(min_value=1, max_value=MAX_ATTEMPTS),
    steps=st.lists(
        st.tuples(st.sampled_from(["right", "wrong", "consume"]), st.integers(0, 400)),
        max_size=15,
    ),
)
def test_any_sequence_of_answers_and_consumes_passes_at_most_once_and_consumes_at_most_once(
    max_attempts: int, steps: list[tuple[str, int]]
) -> None:
    simulator = SimulatedProvider(SECRET_KEY)
    challenge, issued, code = open_sms(simulator, max_attempts=max_attempts)
    clock = ManualClock(START_US)
    passes = consumes = 0
    for action, seconds in steps:
        clock.advance(seconds=seconds)
        before = challenge
        if action == "consume":
            challenge, consumed = consume_challenge(challenge, consume_request(), clock.now_us())
            consumes += consumed.result is ConsumeResult.CONSUMED
        else:
            answer = code if action == "right" else wrong_code(code)
            challenge, answered = answer_challenge(
                challenge, issued, attempt(answer), clock.now_us(), simulator
            )
            passes += answered.result is AnswerResult.PASSED
        assert challenge is before or challenge.revision == before.revision + 1
        assert challenge.attempts_used <= challenge.max_attempts
    assert passes <= 1
    assert consumes <= passes


def test_a_fingerprint_without_a_sim_id_is_refused_before_any_challenge_exists() -> None:
    """The fingerprint validates itself, so no challenge can be bound to a half identity."""
    with pytest.raises(InvalidInput) as refused:
        DeviceFingerprint("d", "")
    assert refused.value.code == "identity.id_invalid"
