"""Users, devices, funding sources and groups over HTTP on every adapter."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.flows import bearer, ok, wang_fang

NEW_USER = {"id": "he-jing", "display_name": "何静", "tier": "class_ii", "age_band": "26-35"}
NEW_PHONE = {
    "device_id": "he-jing-pixel8",
    "sim_id": "sim-he-jing-1",
    "platform": "android",
    "os_version": "14",
    "model": "Pixel 8",
}
DEBIT_CARD = {"kind": "debit_card", "bank_name": "CCB", "card_number": "4111111111111111"}


def test_an_operator_registers_a_user_and_a_phone_and_issues_a_token_that_speaks_for_them(
    api: Api,
) -> None:
    operator = api.headers("ops-demo", "reg-1")
    user = ok(api.client.post("/v1/users", json=NEW_USER, headers=operator), 201)
    assert (user["tier"], user["real_name_status"], user["status"]) == (
        "class_ii",
        "verified",
        "normal",
    )
    phone = ok(
        api.client.post(
            "/v1/users/he-jing/devices", json=NEW_PHONE, headers=api.headers("ops-demo", "dev-1")
        ),
        201,
    )
    assert (phone["user_id"], phone["capabilities"]) == ("he-jing", [])
    token = {"subject": "he-jing", "device_id": "he-jing-pixel8", "sim_id": "sim-he-jing-1"}
    issued = ok(
        api.client.post(
            "/v1/operator/tokens", json=token, headers=api.headers("ops-demo", "tok-1")
        ),
        201,
    )
    me = ok(api.client.get("/v1/me", headers=bearer(issued["token"])))
    assert (me["subject"], me["role"], me["device_id"]) == ("he-jing", "user", "he-jing-pixel8")
    assert me["user"]["display_name"] == "何静"
    sources = ok(
        api.client.get("/v1/users/he-jing/funding-sources", headers=bearer(issued["token"]))
    )
    assert [(s["id"], s["kind"]) for s in sources] == [("he-jing-balance", "balance")]
    listed = ok(api.client.get("/v1/users?limit=1000", headers=api.headers("ops-demo")))
    assert "he-jing" in [entry["id"] for entry in listed]


def test_an_operator_is_told_who_they_are(api: Api) -> None:
    me = ok(api.client.get("/v1/me", headers=api.headers("ops-demo")))
    assert (me["subject"], me["role"], me["user"], me["device_id"]) == (
        "ops-demo",
        "operator",
        None,
        None,
    )


def test_a_device_taken_by_another_user_is_a_conflict(api: Api) -> None:
    taken = {**NEW_PHONE, "device_id": "li-wei-iphone14pro", "sim_id": "sim-x"}
    answer = api.client.post(
        "/v1/users/zhao-lei/devices", json=taken, headers=api.headers("ops-demo", "dev-1")
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "identity.device_taken")


def test_a_watch_shows_its_recall_cap(api: Api) -> None:
    devices = ok(api.client.get("/v1/users/li-wei/devices", headers=api.headers("li-wei")))
    watch = next(d for d in devices if d["form_factor"] == "watch")
    assert [c["recall_cap"] for c in watch["capabilities"]] == [
        {"amount": "200.00", "currency": "CNY", "minor": 200_00}
    ]


def test_a_card_is_added_by_its_owner_and_kept_only_masked(api: Api) -> None:
    answer = api.client.post(
        "/v1/users/li-wei/funding-sources", json=DEBIT_CARD, headers=api.headers("li-wei", "card-1")
    )
    card = ok(answer, 201)
    assert (card["kind"], card["masked_number"], card["bank"]) == (
        "debit_card",
        "**** **** **** 1111",
        "CCB",
    )
    assert "4111111111111111" not in answer.text
    listed = api.client.get("/v1/users/li-wei/funding-sources", headers=api.headers("li-wei"))
    assert card in ok(listed)
    assert "4111111111111111" not in listed.text


def test_a_card_number_with_a_wrong_check_digit_is_refused_without_echoing_it(api: Api) -> None:
    wrong = {**DEBIT_CARD, "card_number": "4111111111111112"}
    answer = api.client.post(
        "/v1/users/li-wei/funding-sources", json=wrong, headers=api.headers("li-wei", "card-1")
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "identity.card_invalid")
    assert "4111111111111112" not in answer.text


def test_a_money_market_account_is_added_with_its_confirmation_times(api: Api) -> None:
    body = {"kind": "money_market", "confirmation_times": ["09:30", "15:00"]}
    source = ok(
        api.client.post(
            "/v1/users/zhao-lei/funding-sources", json=body, headers=api.headers("zhao-lei", "mm")
        ),
        201,
    )
    assert (source["kind"], source["confirmation_times"]) == ("money_market", ["09:30", "15:00"])


def test_nobody_adds_a_card_for_someone_else(api: Api) -> None:
    answer = api.client.post(
        "/v1/users/li-wei/funding-sources",
        json=DEBIT_CARD,
        headers=api.headers("zhao-lei", "card-1"),
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "auth.not_yours")
    sources = ok(api.client.get("/v1/users/li-wei/funding-sources", headers=api.headers("li-wei")))
    assert all(source["kind"] != "debit_card" or source["bank"] == "ICBC" for source in sources)


def test_a_group_is_created_by_its_owner_who_adds_members_that_then_see_it(api: Api) -> None:
    created = api.client.post(
        "/v1/groups", json={"name": "周末徒步", "type": "other"}, headers=api.headers("li-wei", "g")
    )
    group = ok(created, 201)
    assert (group["owner_user_id"], [m["user_id"] for m in group["members"]]) == (
        "li-wei",
        ["li-wei"],
    )
    path = f"/v1/groups/{group['id']}"
    outsider = api.client.get(path, headers=api.headers("zhao-lei"))
    assert (outsider.status_code, outsider.json()["error"]["code"]) == (403, "auth.not_yours")
    added = api.client.post(
        f"{path}/members", json={"user_id": "zhao-lei"}, headers=api.headers("li-wei", "m-1")
    )
    assert [m["user_id"] for m in ok(added)["members"]] == ["li-wei", "zhao-lei"]
    again = api.client.post(
        f"{path}/members", json={"user_id": "zhao-lei"}, headers=api.headers("li-wei", "m-2")
    )
    assert len(ok(again)["members"]) == 2  # already a member: no second membership
    assert ok(api.client.get(path, headers=api.headers("zhao-lei")))["id"] == group["id"]
    not_owner = api.client.post(
        f"{path}/members", json={"user_id": "liu-yang"}, headers=api.headers("zhao-lei", "m-3")
    )
    assert not_owner.status_code == 403


def test_a_packet_can_be_sent_to_a_group_made_over_http(api: Api) -> None:
    group = ok(
        api.client.post(
            "/v1/groups",
            json={"name": "饭搭子", "type": "family"},
            headers=api.headers("li-wei", "g"),
        ),
        201,
    )
    api.client.post(
        f"/v1/groups/{group['id']}/members",
        json={"user_id": "wang-fang"},
        headers=api.headers("li-wei", "m-1"),
    )
    body = {
        "type": "group_normal",
        "amount": "2.00",
        "shares": 2,
        "funding_source_id": "li-wei-balance",
        "group_id": group["id"],
    }
    packet = ok(api.client.post("/v1/packets", json=body, headers=api.headers("li-wei", "p")), 201)
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims",
        headers=bearer(wang_fang(api), **{"Idempotency-Key": "c"}),
    )
    assert ok(claim)["amount"]["minor"] == 1_00
