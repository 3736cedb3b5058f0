"""Support from the console (R-U3, R-U5) and the operators' dashboard: a refusal leads to
support with the decision and packet attached, a 60+ person is offered support first, an
operator answers and the person reads it; the dashboard draws its charts as inline SVG."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hongbao.entrypoints.web.words import word
from hongbao.entrypoints.worker import EmbeddedWorker
from tests.web.conftest import Console, hidden


def _zhao_lei_sends(console: Console) -> str:
    """赵磊 (60+) sends a lucky packet to his hiking club from his iPad; its path."""
    phone = console.person("zhao-lei", "zhao-lei-ipad")
    form = phone.get("/send?group=hiking-club").text
    sent = phone.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "hiking-club",
            "amount": "6.66",
            "shares": "2",
            "funding_source_id": "zhao-lei-balance",
        },
    )
    assert sent.url.path.startswith("/packets/p-"), sent.text
    return sent.url.path


def _operator(console: Console) -> TestClient:
    client = TestClient(console.app, follow_redirects=True)  # type: ignore[arg-type]
    signed = client.post("/operator/sign-in", data={"demo": "yes"})
    assert signed.url.path == "/operator", signed.text
    return client


def test_a_person_over_60_is_offered_support_before_the_grey_button(console: Console) -> None:
    packet_path = _zhao_lei_sends(console)
    watch = console.person("zhao-lei", "zhao-lei-matepad")
    page = watch.get(packet_path).text
    assert 'data-button="disabled"' in page
    assert page.index('id="contact-support"') < page.index('class="recall-button"')
    assert "进行中" in page, "the packet's own state word, not a support case's"
    younger = console.person("li-wei", "li-wei-watch")
    sent_by_li_wei = console.person("li-wei", "li-wei-iphone14pro")
    form = sent_by_li_wei.get("/send?group=xinghe-team").text
    li_wei_packet = sent_by_li_wei.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "xinghe-team",
            "amount": "8.88",
            "shares": "3",
            "funding_source_id": "li-wei-balance",
        },
    ).url.path
    other = younger.get(li_wei_packet).text
    assert other.index('class="recall-button"') < other.index('id="contact-support"')


def test_support_carries_the_refusal_and_the_person_reads_the_answer(console: Console) -> None:
    packet_path = _zhao_lei_sends(console)
    watch = console.person("zhao-lei", "zhao-lei-matepad")
    page = watch.get(packet_path).text
    link = re.search(r'id="contact-support"\s+href="([^"]+)"', page)
    assert link is not None
    ask = watch.get(link[1].replace("&amp;", "&")).text
    packet_id = packet_path.rsplit("/", 1)[1]
    assert hidden(ask, "packet_id") == packet_id
    assert hidden(ask, "decision_id").startswith("d-")
    opened = watch.post(
        "/support",
        data={
            "key": hidden(ask, "key"),
            "origin": "refusal",
            "packet_id": packet_id,
            "decision_id": hidden(ask, "decision_id"),
            "question": "平板上为什么不能撤回？",  # noqa: RUF001 - a Chinese question
        },
    )
    assert opened.url.path.startswith("/support/sup-")
    assert 'data-state="open"' in opened.text
    operator = _operator(console)
    queue = operator.get("/operator/support").text
    case_id = opened.url.path.rsplit("/", 1)[1]
    assert case_id in queue
    case_page = operator.get(f"/operator/support/{case_id}").text
    assert "60+" in case_page
    answered = operator.post(
        f"/operator/support/{case_id}/answer",
        data={"key": hidden(case_page, "key"), "text": "请在发红包的 iPad 上撤回。"},
    )
    assert answered.status_code == 200
    seen = watch.get(opened.url.path).text
    assert 'data-state="answered"' in seen
    assert "请在发红包的 iPad 上撤回。" in seen
    assert case_id not in console.person("li-wei", "li-wei-iphone14pro").get("/support").text


def test_the_dashboard_draws_accessible_charts_for_operators_only(console: Console) -> None:
    person = console.person("li-wei", "li-wei-iphone14pro")
    assert 'action="/operator/sign-in"' in person.get("/operator").text
    person.get("/help")
    EmbeddedWorker(console.context.services).drain()
    page = _operator(console).get("/operator").text
    charts = re.findall(r'<svg class="chart"[^>]*data-chart="([a-z]+)"', page)
    assert charts == ["outcomes", "causes", "bands", "guidance", "devices", "risk", "queues"]
    assert page.count("<title id=") == len(charts)
    assert page.count("<desc id=") == len(charts)
    assert "iPhone 14 Pro" not in page or "99.3" in page
    assert re.search(
        r"<th scope=\"row\">26-35</th><td>0</td><td>0</td><td>-</td><td>-</td><td>1</td>", page
    )


def test_the_dashboard_sets_the_bubble_cohort_beside_the_no_bubble_baseline(
    console: Console,
) -> None:
    """Both guidance cohorts' rows, the measured cut and the source's 39 % (R-U5)."""
    page = _operator(console).get("/operator").text
    for cohort in ("with_bubble", "no_bubble"):
        name = word(cohort, "zh")
        row = f'<tr id="cohort-{cohort}"><th scope="row">{name}</th><td>0</td><td>0</td><td>-</td>'
        assert row in page
    assert '<strong id="guidance-reduction">-</strong>' in page
    assert "39 %" in page
