"""The client's recall, challenge, refund, decision and operator calls, end to end: a recall
that asks for an SMS check, the code read by an operator, the answer, the recall carried on
under its key, then where the refund is, and the R-M2 report."""

from __future__ import annotations

import pytest

from hongbao.client import ApiError, Client
from tests.client.conftest import Served


def sent_and_claimed(served: Served, sender: Client) -> str:
    packet = sender.send_packet(
        type="group_normal",
        amount="30.00",
        shares=3,
        funding_source_id="li-wei-balance",
        group_id="xinghe-team",
    )
    with served.client("liu-yang") as member:
        member.claim(packet.id)
    return packet.id


def test_a_challenged_recall_is_answered_and_carried_on_under_its_key(served: Served) -> None:
    with served.client("li-wei") as sender, served.client("ops-demo") as operator:
        packet_id = sent_and_claimed(served, sender)
        button = sender.recall_eligibility(packet_id)
        assert (button.packet_id, button.result) == (packet_id, "challenge")
        assert button.explanation.refund is not None
        first = sender.recall(packet_id)
        assert (first.state, first.refund_id) == ("challenged", None)
        assert first.challenge_purpose is not None
        for challenge_id in first.challenge_ids:
            assert sender.challenge(challenge_id).state == "pending"
            code = operator.challenge_code(challenge_id).code
            answer = sender.answer_challenge(
                challenge_id, purpose=first.challenge_purpose, answer=code
            )
            assert answer.result == "passed"
        done = sender.recall(packet_id, key=first.recall_key, challenge_ids=first.challenge_ids)
        assert (done.state, done.recall_key) == ("done", first.recall_key)
        assert done.recalled is not None
        assert done.recalled.minor == 2000
        assert sender.recall_status(first.recall_key) == done
        decision = sender.decision(done.decision_id)
        assert (decision.result, decision.recall_key) == ("allow", first.recall_key)
        assert decision.rules
        assert done.refund_id is not None
        refund = sender.refund(done.refund_id)
        assert (refund.net.minor, refund.owner_id) == (2000, "li-wei")
        assert [r.id for r in sender.my_refunds()] == [refund.id]
        assert operator.ledger_verify().ok


def test_another_user_cannot_recall_or_read_the_recall(served: Served) -> None:
    with served.client("li-wei") as sender, served.client("zhao-lei") as stranger:
        packet_id = sent_and_claimed(served, sender)
        recall = sender.recall(packet_id)
        with pytest.raises(ApiError) as not_sender:
            stranger.recall(packet_id)
        with pytest.raises(ApiError) as not_theirs:
            stranger.recall_status(recall.recall_key)
    assert (not_sender.value.status, not_sender.value.code) == (403, "auth.not_yours")
    assert (not_theirs.value.status, not_theirs.value.code) == (403, "auth.not_yours")


def test_an_operator_issues_and_revokes_a_token_that_then_stops_working(served: Served) -> None:
    with served.client("ops-demo") as operator:
        issued = operator.issue_token(
            "liu-yang", device_id="liu-yang-xiaomi13u", sim_id="sim-liu-yang-1"
        )
        assert (issued.subject, issued.role) == ("liu-yang", "user")
        holder = operator.with_token(issued.token)
        assert holder.me().subject == "liu-yang"
        revoked = operator.revoke_token(issued.token)
        assert (revoked.token_id, revoked.revoked_by) == (issued.token_id, "ops-demo")
        with pytest.raises(ApiError) as refused:
            holder.me()
    assert (refused.value.status, refused.value.code) == (401, "auth.token_revoked")


def test_operator_calls_are_refused_to_a_user(served: Served) -> None:
    with served.client("li-wei") as user, pytest.raises(ApiError) as refused:
        user.ledger_verify()
    assert (refused.value.status, refused.value.code) == (403, "auth.operator_only")


def test_a_challenge_opened_by_the_user_is_passed_with_the_providers_code(
    served: Served,
) -> None:
    with served.client("li-wei") as user, served.client("ops-demo") as operator:
        opened = user.create_challenge("sms_code", "drill", key="drill-1")
        assert user.create_challenge("sms_code", "drill", key="drill-1") == opened
        assert (opened.kind, opened.state, opened.user_id) == ("sms_code", "pending", "li-wei")
        code = operator.challenge_code(opened.id).code
        other = "111111" if code == "000000" else "000000"
        wrong = user.answer_challenge(opened.id, purpose="drill", answer=other)
        right = user.answer_challenge(opened.id, purpose="drill", answer=code)
    assert (wrong.result, right.result) == ("wrong_answer", "passed")


def test_a_device_locked_by_a_jump_is_unlocked_by_the_users_own_face_check(
    served: Served,
) -> None:
    """The client reports where it is; a jump of about 1,070 km in five minutes locks the
    phone, and a face check opened on it for ``unlock:<device>`` unlocks it once."""
    with served.client("li-wei") as sender:
        for place in ("31.2304,121.4737", "39.9042,116.4074"):
            sender.recall(sent_and_claimed(served, sender), place=place)
            served.clock.advance(seconds=5 * 60)
        with pytest.raises(ApiError) as locked:
            sent_and_claimed(served, sender)
        assert locked.value.code == "packets.device_locked"
        purpose = "unlock:li-wei-iphone14pro"
        check = sender.create_challenge("face", purpose)
        assert sender.answer_challenge(check.id, purpose=purpose, answer="pass").result == (
            "passed"
        )
        unlocked = sender.unlock_device(check.id)
        assert (unlocked.device_id, unlocked.state, unlocked.unlocked_by) == (
            "li-wei-iphone14pro",
            "unlocked",
            "li-wei",
        )
        assert sent_and_claimed(served, sender)
        with pytest.raises(ApiError) as spent:
            sender.unlock_device(check.id)
        assert spent.value.code == "risk.device_not_locked"
