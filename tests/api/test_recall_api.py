"""A recall end to end over HTTP on every adapter: the button, an SMS challenge answered with
the code an operator reads, the recall repeated and done, its refund and its decision in both
languages; denials answered and explained, keys and other people kept apart."""

from __future__ import annotations

from hongbao.entrypoints.http.auth.revocation import revoke
from tests.api.conftest import Api
from tests.api.flows import (
    GROUP_PACKET,
    balance,
    bearer,
    ok,
    pass_challenges,
    recall,
    recall_with_sms,
    send,
    wang_fang,
)

FUNDS = 2_000_00


def test_a_claimed_packet_is_recalled_after_an_sms_check_and_its_refund_and_decision_read_back(
    api: Api,
) -> None:
    packet = send(api, "send-1")
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "claim-1")
    )
    claimed_minor = ok(claim)["amount"]["minor"]
    remainder = 30_00 - claimed_minor

    button = ok(
        api.client.get(
            f"/v1/packets/{packet['id']}/recall-eligibility",
            headers=api.headers("li-wei", **{"Accept-Language": "en"}),
        )
    )
    assert (button["result"], button["explanation"]["button"]) == ("challenge", "challenge")
    assert button["explanation"]["verifications"] == ["sms_code"]
    assert f"{remainder / 100:.2f} yuan" in button["explanation"]["refund"]

    challenged = recall(api, packet["id"], "recall-1")
    assert (challenged["state"], challenged["recalled"]) == ("challenged", None)
    assert challenged["explanation"]["headline"] == "撤回前请先完成验证。"  # zh by default
    assert len(challenged["challenge_ids"]) == 1
    code_as_sender = api.client.get(
        f"/v1/operator/challenges/{challenged['challenge_ids'][0]}/code",
        headers=api.headers("li-wei"),
    )
    assert code_as_sender.status_code == 403
    pass_challenges(api, challenged, "answer")

    done = recall(api, packet["id"], "recall-1", {"challenge_ids": challenged["challenge_ids"]})
    assert (done["state"], done["result"], done["route"]) == ("done", "allow", "refund")
    assert done["recalled"] == {
        "amount": f"{remainder / 100:.2f}",
        "currency": "CNY",
        "minor": remainder,
    }
    assert balance(api, "li-wei") == FUNDS - 30_00 + remainder
    status = ok(api.client.get("/v1/recalls/recall-1", headers=api.headers("li-wei")))
    assert (status["state"], status["decision_id"]) == ("done", done["decision_id"])

    refund = ok(api.client.get(f"/v1/refunds/{done['refund_id']}", headers=api.headers("li-wei")))
    assert (refund["state"], refund["route"], refund["net"]["minor"]) == (
        "settled",
        "balance",
        remainder,
    )
    assert [hop["to_account_id"] for hop in refund["hops"]] == ["user:li-wei:balance"]

    decision_path = f"/v1/decisions/{done['decision_id']}"
    zh = ok(api.client.get(decision_path, headers=api.headers("li-wei")))
    en = ok(
        api.client.get(decision_path, headers=api.headers("li-wei", **{"Accept-Language": "en"}))
    )
    assert (zh["result"], zh["recall_key"], zh["purpose"]) == ("allow", "recall-1", "recall")
    assert zh["rules"][0]["rule"] == en["rules"][0]["rule"] == "only_the_sender"
    assert zh["explanation"]["headline"] == "可以撤回这个红包。"
    assert en["explanation"]["headline"] == "You can recall this red packet."
    assert "元" in zh["explanation"]["refund"]
    assert "yuan" in en["explanation"]["refund"]


def test_a_recall_repeated_with_either_body_answers_as_first_and_moves_money_once(
    api: Api,
) -> None:
    packet = send(api, "send-1")
    first = recall(api, packet["id"], "recall-1")
    done = recall_with_sms(api, packet["id"], "recall-1")
    after = balance(api, "li-wei")
    assert recall(api, packet["id"], "recall-1") == first
    again = recall(api, packet["id"], "recall-1", {"challenge_ids": first["challenge_ids"]})
    assert again == done
    assert balance(api, "li-wei") == after == FUNDS


def test_a_recall_from_another_device_is_denied_with_its_cause_and_what_to_do(api: Api) -> None:
    packet = send(api, "send-1")
    watch = api.token("li-wei", device=("li-wei-watch", "esim-li-wei-watch"))
    denied = api.client.post(
        f"/v1/packets/{packet['id']}/recalls",
        headers=bearer(watch, **{"Idempotency-Key": "recall-1", "Accept-Language": "en"}),
    )
    answer = ok(denied)
    assert (answer["state"], answer["result"]) == ("denied", "deny")
    assert answer["explanation"]["cause"] == "device_environment_abnormal"
    assert any("phone you sent" in step for step in answer["explanation"]["next_steps"])
    assert answer["decision_id"].startswith("d-")
    assert balance(api, "li-wei") == FUNDS - 30_00


def test_a_recall_key_reused_for_another_packet_is_a_conflict(api: Api) -> None:
    first, second = send(api, "send-1"), send(api, "send-2")
    recall(api, first["id"], "recall-1")
    reused = api.client.post(
        f"/v1/packets/{second['id']}/recalls", headers=api.headers("li-wei", "recall-1")
    )
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "recalls.key_reused")


def test_a_recalled_packet_can_no_longer_be_claimed(api: Api) -> None:
    packet = send(api, "send-1")
    recall_with_sms(api, packet["id"], "recall-1")
    late = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "claim-1")
    )
    assert ok(late)["result"] == "packet_recalled"


def test_nobody_but_the_sender_asks_about_or_recalls_a_packet(api: Api) -> None:
    packet = send(api, "send-1")
    member = api.client.get(
        f"/v1/packets/{packet['id']}/recall-eligibility", headers=api.headers("liu-yang")
    )
    assert (member.status_code, member.json()["error"]["code"]) == (403, "auth.not_yours")
    stranger = api.client.post(
        f"/v1/packets/{packet['id']}/recalls",
        headers=bearer(wang_fang(api), **{"Idempotency-Key": "recall-x"}),
    )
    assert stranger.status_code == 403
    unknown = api.client.get("/v1/packets/p-none/recall-eligibility", headers=api.headers("li-wei"))
    assert unknown.status_code == 404
    recalled = recall(api, packet["id"], "recall-1")
    others_status = api.client.get("/v1/recalls/recall-1", headers=api.headers("liu-yang"))
    assert others_status.status_code == 403
    others_decision = api.client.get(
        f"/v1/decisions/{recalled['decision_id']}", headers=api.headers("liu-yang")
    )
    assert others_decision.status_code == 403


def test_a_refused_caller_leaves_the_recall_key_free_for_the_sender(api: Api) -> None:
    """The caller is checked in the recall's own transaction, before its key: a stranger's
    refused recall and a revoked token's keep nothing under the key they used."""
    packet = send(api, "send-1")
    path = f"/v1/packets/{packet['id']}/recalls"
    stranger = api.client.post(path, headers=bearer(wang_fang(api), **{"Idempotency-Key": "r-1"}))
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "auth.not_yours")
    li_wei = api.context.signer.verify(api.tokens["li-wei"], now_us=api.clock.now_us())
    revoke(api.context.services, api.context.signer, api.tokens["li-wei"], "ops-demo")
    revoked = api.client.post(path, headers=api.headers("li-wei", "r-1"))
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (401, "auth.token_revoked")
    assert api.context.services.packets.packet(packet["id"]).state.value == "open"
    assert li_wei.device_id is not None
    assert li_wei.sim_id is not None
    fresh = api.token("li-wei", device=(li_wei.device_id, li_wei.sim_id))
    answer = ok(api.client.post(path, headers=bearer(fresh, **{"Idempotency-Key": "r-1"})))
    assert answer["state"] in {"done", "challenged"}


def test_a_revoked_token_cannot_send_and_moves_no_money(api: Api) -> None:
    before = balance(api, "li-wei")
    revoke(api.context.services, api.context.signer, api.tokens["li-wei"], "ops-demo")
    headers = api.headers("li-wei", "s-1")
    refused = api.client.post("/v1/packets", json=GROUP_PACKET, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "auth.token_revoked")
    assert balance(api, "li-wei") == before
    found = api.context.services.database.read(lambda uow: uow.api.idempotency.get("li-wei", "s-1"))
    assert found is None


def test_a_recall_keeps_its_answers_on_its_own_record_not_under_a_second_key(api: Api) -> None:
    """The request's key is the recall's: each distinct request's answer is kept on the recall
    record, and the generic key record is not written a second time."""
    packet = send(api, "send-1")
    first = recall(api, packet["id"], "recall-1")
    done = recall_with_sms(api, packet["id"], "recall-1")
    stored = api.context.services.recalls.status("recall-1").recall
    assert len(stored.kept_answers()) == 2
    assert {answer.status for answer in stored.kept_answers()} == {200}
    keys = api.context.services.database.read(
        lambda uow: uow.api.idempotency.page(None, limit=1_000)
    )
    assert "recall-1" not in {record.idempotency_key for record in keys}
    assert recall(api, packet["id"], "recall-1") == first
    repeated = recall(api, packet["id"], "recall-1", {"challenge_ids": first["challenge_ids"]})
    assert repeated == done
