"""Education and device measures (R-U4, R-D4): counted per recall decision by the outbox
consumer, never per HTTP request; shown to operators and on /metrics with bounded labels."""

from __future__ import annotations

from typing import Any

from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.recall.explanations.causes import Cause
from tests.api.conftest import Api
from tests.api.flows import ok, recall_with_sms, send

LI_WEI_WATCH = ("li-wei-watch", "esim-li-wei-watch")


def _measures(api: Api) -> Any:
    EmbeddedWorker(api.context.services).drain()
    return ok(api.client.get("/v1/operator/measures", headers=api.headers("ops-demo")))


def _device(measures: Any, model: str) -> Any:
    return next(d for d in measures["devices"] if d["device_model"] == model)


def _band(measures: Any, band: str) -> Any:
    return next(b for b in measures["age_bands"] if b["age_band"] == band)


def _watch_refusal(api: Api, packet_id: str, key: str, *, asked_first: bool) -> None:
    watch = {"Authorization": f"Bearer {api.token('li-wei', device=LI_WEI_WATCH)}"}
    if asked_first:
        shown = ok(api.client.get(f"/v1/packets/{packet_id}/recall-eligibility", headers=watch))
        assert shown["result"] == "deny"
    refused = api.client.post(
        f"/v1/packets/{packet_id}/recalls", headers={**watch, "Idempotency-Key": key}
    )
    assert ok(refused)["state"] == "denied"


def test_a_refusal_the_button_showed_is_a_misoperation_counted_once(api: Api) -> None:
    packet = send(api, "send-1")
    _watch_refusal(api, packet["id"], "recall-watch", asked_first=True)
    _watch_refusal(api, packet["id"], "recall-watch", asked_first=False)  # a repeat: same decision
    measures = _measures(api)
    watch = _device(measures, "Apple Watch Series 9")
    assert (watch["done"], watch["denied"], watch["platform"]) == (0, 1, "watchos")
    assert watch["baseline_success_percent"] is None
    band = _band(measures, "26-35")
    assert (band["attempts"], band["misoperations"]) == (1, 1)
    assert sum(measures["refusal_causes"].values()) == 1


def test_a_recall_soon_after_sending_counts_success_latency_and_attempts(api: Api) -> None:
    packet = send(api, "send-1")
    _watch_refusal(api, packet["id"], "recall-watch", asked_first=False)
    api.clock.advance(seconds=30)
    recall_with_sms(api, packet["id"], "recall-phone")
    measures = _measures(api)
    phone = _device(measures, "iPhone 14 Pro")
    assert (phone["done"], phone["success_rate"]) == (1, 1.0)
    assert (phone["baseline_success_percent"], phone["baseline_latency_seconds"]) == ("99.3", "1.2")
    band = _band(measures, "26-35")
    # the watch's refusal, the phone's challenge and its success: three decisions
    assert band["attempts"] == 3
    assert band["successes"] == 1
    assert band["attempts_before_success"] == 2.0
    # recalled 30 s after sending: too soon (no eligibility was asked, so no other kind)
    assert band["misoperations"] == 1
    assert measures["days"][-1]["done"] == 1


def test_help_views_are_counted_per_age_band(api: Api) -> None:
    for key in ("help-1", "help-1", "help-2"):
        ok(api.client.post("/v1/me/help-views", headers=api.headers("li-wei", key)))
    assert _band(_measures(api), "26-35")["help_views"] == 2


def test_bubble_interactions_are_shown_per_age_band(api: Api) -> None:
    for event, key in (("shown", "hint-1"), ("dismissed", "hint-2")):
        ok(
            api.client.post(
                "/v1/me/hints/lucky_recall",
                json={"event": event},
                headers=api.headers("li-wei", key),
            )
        )
    band = _band(_measures(api), "26-35")
    assert (band["hints_shown"], band["hints_dismissed"], band["hints_clicked"]) == (1, 1, 0)


def test_measures_and_queues_are_for_operators_only(api: Api) -> None:
    assert api.client.get("/v1/operator/measures", headers=api.headers("li-wei")).status_code == 403
    measures = _measures(api)
    assert set(measures["risk_levels"]) == {"1", "2", "3", "4"}
    assert (measures["risk_review_queue"], measures["support_queue"]) == (0, 0)
    # Every cause a refusal can have, counted or not, so the chart's bars never come and go.
    assert set(measures["refusal_causes"]) == {cause.value for cause in Cause}


def test_prometheus_shows_the_measures_with_bounded_labels(api: Api) -> None:
    packet = send(api, "send-1")
    _watch_refusal(api, packet["id"], "recall-watch", asked_first=True)
    EmbeddedWorker(api.context.services).drain()
    text = api.client.get("/metrics").text
    assert (
        'hongbao_recall_outcomes_total{model="other",outcome="denied",platform="watchos"} 1.0'
        in text
    )
    assert 'hongbao_misoperations_total{age_band="26-35",kind="refused_as_shown"} 1.0' in text
    assert 'hongbao_recall_baseline_success_ratio{model="HUAWEI Mate 50"} 0.978' in text
    assert 'hongbao_support_cases{state="open"} 0.0' in text
    assert "Apple Watch" not in text.split("hongbao_recall_outcomes")[1].split("# HELP")[0]
