"""Unlocking one's own risk-locked device from the console (docs/risk.md): the refusal of a
send from a locked device offers a face check; the simulated camera passes it on the embedded
demo, the device is unlocked, the person is back on the send form and can send again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hongbao.entrypoints.http.auth.tokens import Role
from tests.web.conftest import Console, hidden
from tests.web.test_console_pages import LI_WEI, send_lucky

SHANGHAI = "31.2304,121.4737"
BEIJING = "39.9042,116.4074"


def lock_li_weis_phone(console: Console) -> None:
    """Two recalls five minutes and about 1,070 km apart, through the API with li-wei's
    phone's token: the second locks the device (as tests/api/test_risk_api.py does)."""
    token, _ = console.context.signer.issue(
        "li-wei",
        Role.USER,
        now_us=console.clock.now_us(),
        lifetime_seconds=3600,
        device=("li-wei-iphone14pro", "sim-li-wei-1"),
    )
    api = TestClient(console.app)  # type: ignore[arg-type]
    for number, place in enumerate((SHANGHAI, BEIJING)):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"lock-send-{number}"}
        sent = api.post(
            "/v1/packets",
            json={
                "type": "group_lucky",
                "amount": "30.00",
                "shares": 3,
                "funding_source_id": "li-wei-balance",
                "group_id": "xinghe-team",
            },
            headers=headers,
        )
        assert sent.status_code == 201, sent.text
        api.post(
            f"/v1/packets/{sent.json()['id']}/recalls",
            headers={**headers, "Idempotency-Key": f"lock-recall-{number}", "Hongbao-Geo": place},
        )
        console.clock.advance(seconds=5 * 60)


def test_a_locked_device_is_unlocked_with_a_face_check_and_sends_again(
    console: Console,
) -> None:
    phone = console.person(*LI_WEI)
    lock_li_weis_phone(console)
    form = phone.get("/send?group=xinghe-team").text
    refused = phone.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "xinghe-team",
            "amount": "8.88",
            "shares": "3",
            "funding_source_id": "li-wei-balance",
        },
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 403
    assert 'id="unlock-button"' in refused.text
    assert "Unlock with a face check" in refused.text
    face = phone.post(
        "/console/unlock",
        data={
            "back": hidden(refused.text, "back"),
            "unlock_key": hidden(refused.text, "unlock_key"),
        },
    )
    assert face.url.path == "/console/unlock/face"
    assert 'id="face-pass"' in face.text
    back = phone.post(
        "/console/unlock/face",
        data={
            "challenge": hidden(face.text, "challenge"),
            "back": hidden(face.text, "back"),
            "attempt": hidden(face.text, "attempt"),
            "answer": "pass",
        },
    )
    assert back.status_code == 200, back.text
    assert back.url.path == "/send"
    assert send_lucky(phone).startswith("/packets/p-")


def test_a_face_check_that_does_not_pass_leaves_the_device_locked(console: Console) -> None:
    """Without the simulated camera's pass the check is not passed: nothing is unlocked."""
    phone = console.person(*LI_WEI)
    lock_li_weis_phone(console)
    face = phone.post(
        "/console/unlock", data={"back": "/send", "unlock_key": "console-unlock-test"}
    )
    failed = phone.post(
        "/console/unlock/face",
        data={
            "challenge": hidden(face.text, "challenge"),
            "back": "/send",
            "attempt": hidden(face.text, "attempt"),
            "answer": "fail",
        },
    )
    assert failed.status_code == 422
    assert 'id="unlock-button"' in failed.text
    form = phone.get("/send?group=xinghe-team").text
    still = phone.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "xinghe-team",
            "amount": "8.88",
            "shares": "3",
            "funding_source_id": "li-wei-balance",
        },
    )
    assert still.status_code == 403
