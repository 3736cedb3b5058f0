"""Whether recall guidance helps (R-U5): each recall decision is counted in the cohort of
people shown a recall guidance bubble first or in the no-bubble baseline, on the operators'
measures and on /metrics."""

from __future__ import annotations

from typing import Any

from hongbao.entrypoints.worker import EmbeddedWorker
from tests.api.conftest import Api
from tests.api.flows import bearer, ok, recall_with_sms, send, wang_fang

LI_WEI_WATCH = ("li-wei-watch", "esim-li-wei-watch")


def _refused_as_shown(api: Api, packet_id: str, headers: dict[str, str], key: str) -> None:
    """Ask the recall button, which says no, then recall anyway: a misoperation."""
    shown = ok(api.client.get(f"/v1/packets/{packet_id}/recall-eligibility", headers=headers))
    assert shown["result"] == "deny"
    refused = api.client.post(
        f"/v1/packets/{packet_id}/recalls", headers={**headers, "Idempotency-Key": key}
    )
    assert ok(refused)["state"] == "denied"


def _claimed_then_refused_as_shown(api: Api) -> None:
    """wang-fang sends li-wei a personal packet, he claims it, and she recalls it although
    the recall button said no: a misoperation."""
    who = bearer(wang_fang(api))
    body = {
        "type": "personal",
        "amount": "5.00",
        "shares": 1,
        "funding_source_id": "wang-fang-cmb",
        "recipient_id": "li-wei",
    }
    sent = api.client.post("/v1/packets", json=body, headers={**who, "Idempotency-Key": "w-send"})
    packet = ok(sent, 201)["id"]
    claim_headers = api.headers("li-wei", "li-wei-claims")
    ok(api.client.post(f"/v1/packets/{packet}/claims", headers=claim_headers))
    _refused_as_shown(api, packet, who, "recall-wang-fang")


def _guided_and_unguided_misoperations(api: Api) -> None:
    """li-wei is shown the lucky-packet bubble, then misoperates from his watch and later
    recalls from his phone; wang-fang, never shown a bubble, misoperates too."""
    packet = send(api, "send-1")["id"]
    ok(
        api.client.post(
            "/v1/me/hints/lucky_recall", json={"event": "shown"}, headers=api.headers("li-wei", "h")
        )
    )
    watch = bearer(api.token("li-wei", device=LI_WEI_WATCH))
    _refused_as_shown(api, packet, watch, "recall-watch")
    _claimed_then_refused_as_shown(api)
    api.clock.advance(seconds=180)  # past the 2 minutes: the phone's recall is no misoperation
    recall_with_sms(api, packet, "recall-phone")
    EmbeddedWorker(api.context.services).drain()


def test_each_misoperation_is_counted_in_its_persons_guidance_cohort(api: Api) -> None:
    _guided_and_unguided_misoperations(api)
    measures = ok(api.client.get("/v1/operator/measures", headers=api.headers("ops-demo")))
    guidance: Any = measures["guidance"]
    # li-wei: the watch's refusal, the phone's challenge and its success, one misoperation
    assert guidance["with_bubble"] == {
        "attempts": 3,
        "misoperations": 1,
        "misoperation_rate": 1 / 3,
    }
    assert guidance["no_bubble"] == {"attempts": 1, "misoperations": 1, "misoperation_rate": 1.0}
    assert abs(guidance["reduction"] - 2 / 3) < 1e-9
    assert guidance["source_reduction_percent"] == "39"


def test_prometheus_shows_both_cohorts_beside_the_sources_cut(api: Api) -> None:
    _guided_and_unguided_misoperations(api)
    text = api.client.get("/metrics").text
    assert 'hongbao_guidance_misoperations_total{age_band="26-35",cohort="with_bubble"} 1.0' in text
    assert (
        'hongbao_guidance_recall_attempts_total{age_band="26-35",cohort="with_bubble"} 3.0' in text
    )
    assert "hongbao_guidance_source_reduction_ratio 0.39" in text
    assert 'hongbao_guidance_misoperations_total{age_band="36+",cohort="no_bubble"} 1.0' in text
