"""Reconciliation incidents (R-X2) over HTTP on every adapter: operators list them by state
and packet, read one and resolve it with a note under an Idempotency-Key; who resolved it and
when is recorded on the incident."""

from __future__ import annotations

from typing import Any

from hongbao.recall.records import Incident
from tests.api.conftest import Api
from tests.api.flows import ok, send

PATH = "/v1/operator/incidents"


def open_incident(api: Api, key: str) -> dict[str, Any]:
    """An incident as a recall opens one when a packet's record and escrow disagree."""
    packet = send(api, key)
    incident = Incident(
        f"escrow:{packet['id']}",
        packet["id"],
        f"d-{key}",
        "open",
        "escrow=2000; remainder=3000",
        api.clock.now_us(),
        None,
    )
    api.context.services.database.transact(lambda uow: uow.recalls.incidents.insert(incident))
    return packet


def test_operators_list_incidents_by_state_and_packet_and_read_one(api: Api) -> None:
    first, second = open_incident(api, "send-1"), open_incident(api, "send-2")
    operator = api.headers("ops-demo")
    listed = ok(api.client.get(PATH, headers=operator))
    assert [item["packet_id"] for item in listed] == sorted([first["id"], second["id"]])
    assert {item["state"] for item in listed} == {"open"}
    assert ok(api.client.get(f"{PATH}?state=closed", headers=operator)) == []
    (only,) = ok(api.client.get(f"{PATH}?packet_id={first['id']}", headers=operator))
    shown = ok(api.client.get(f"{PATH}/{only['id']}", headers=operator))
    assert shown == only
    assert (shown["detail"], shown["resolved_by"], shown["closed_at"]) == (
        "escrow=2000; remainder=3000",
        None,
        None,
    )
    missing = api.client.get(f"{PATH}/escrow:p-none", headers=operator)
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        404,
        "recalls.unknown_incident",
    )


def test_resolving_records_who_when_and_how_and_a_repeat_returns_the_first_answer(
    api: Api,
) -> None:
    packet = open_incident(api, "send-1")
    incident_id = f"escrow:{packet['id']}"
    resolve = f"{PATH}/{incident_id}/resolve"
    note = {"note": "escrow topped up by journal entry j-77 after review"}
    api.clock.advance(seconds=600)
    resolved = ok(api.client.post(resolve, json=note, headers=api.headers("ops-demo", "res-1")))
    assert resolved["state"] == "closed"
    assert resolved["resolved_by"] == "ops-demo"
    assert resolved["resolution"] == note["note"]
    assert resolved["closed_at_us"] == api.clock.now_us()
    repeat = ok(api.client.post(resolve, json=note, headers=api.headers("ops-demo", "res-1")))
    assert repeat == resolved
    again = api.client.post(resolve, json=note, headers=api.headers("ops-demo", "res-2"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "recalls.incident_closed")
    reused = api.client.post(
        resolve, json={"note": "another"}, headers=api.headers("ops-demo", "res-1")
    )
    assert reused.json()["error"]["code"] == "idempotency.key_reused"
    listed = ok(api.client.get(f"{PATH}?state=closed", headers=api.headers("ops-demo")))
    assert [item["id"] for item in listed] == [incident_id]
    assert ok(api.client.get(f"{PATH}?state=open", headers=api.headers("ops-demo"))) == []


def test_resolving_needs_a_key_a_note_and_an_operator(api: Api) -> None:
    packet = open_incident(api, "send-1")
    resolve = f"{PATH}/escrow:{packet['id']}/resolve"
    no_key = api.client.post(resolve, json={"note": "done"}, headers=api.headers("ops-demo"))
    assert no_key.json()["error"]["code"] == "idempotency.key_missing"
    blank = api.client.post(resolve, json={"note": ""}, headers=api.headers("ops-demo", "r-1"))
    assert (blank.status_code, blank.json()["error"]["code"]) == (422, "input.invalid")
    user = api.client.post(resolve, json={"note": "mine"}, headers=api.headers("li-wei", "r-2"))
    assert (user.status_code, user.json()["error"]["code"]) == (403, "auth.operator_only")
    shown = ok(api.client.get(f"{PATH}/escrow:{packet['id']}", headers=api.headers("ops-demo")))
    assert shown["state"] == "open"
