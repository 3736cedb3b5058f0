"""Support and the operators' dashboard in a real Chromium: a 60+ person refused on their
other tablet is offered support first and asks; an operator answers in another browser and
the person sees the answer; the dashboard draws its charts."""

from __future__ import annotations

import re
from typing import Any

import httpx

from hongbao.entrypoints.http.auth.tokens import Role
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.recall.explanations.causes import Cause
from tests.browser.conftest import Served, screenshot
from tests.browser.test_console_in_chromium import TABLET, signed_in

DESKTOP = {"width": 1280, "height": 900}


def _zhao_lei_refused(browser: Any, served: Served) -> Any:
    """赵磊 (60+) sends from his iPad and opens the packet on his MatePad: refused."""
    ipad = signed_in(browser, served, "zhao-lei/zhao-lei-ipad", TABLET)
    ipad.goto(served.url + "/send?group=hiking-club")
    ipad.get_by_label("类型").select_option("group_lucky")
    ipad.locator("#amount").fill("6.66")
    ipad.get_by_label("份数").fill("2")
    ipad.get_by_label("付款方式").select_option("zhao-lei-balance")
    ipad.get_by_role("button", name="塞钱进红包").click()
    ipad.wait_for_url(re.compile(r".*/packets/p-[0-9a-f]+\?sent=lucky$"))
    packet_url = ipad.url.split("?")[0]
    matepad = signed_in(browser, served, "zhao-lei/zhao-lei-matepad", TABLET)
    matepad.goto(packet_url)
    return matepad


def _operator(browser: Any, served: Served) -> Any:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    page.goto(served.url + "/operator")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/operator")
    return page


def test_a_person_over_60_reaches_support_and_sees_the_answer(browser: Any, served: Served) -> None:
    matepad = _zhao_lei_refused(browser, served)
    offer = matepad.locator("#contact-support")
    button = matepad.locator("button.recall-button")
    assert button.is_disabled()
    assert offer.bounding_box()["y"] < button.bounding_box()["y"], "support comes first"
    screenshot(matepad, "support-first")
    offer.click()
    matepad.wait_for_url("**/support?from=refusal*")
    matepad.get_by_label("你的问题").fill("为什么平板上不能撤回这个红包")
    matepad.get_by_role("button", name="提交").click()
    matepad.wait_for_url(re.compile(r".*/support/sup-[0-9a-f]+$"))
    assert matepad.locator("#case-state").get_attribute("data-state") == "open"
    case_url = matepad.url
    operator = _operator(browser, served)
    operator.goto(served.url + "/operator/support")
    operator.get_by_role("link", name=case_url.rsplit("/", 1)[1]).click()
    operator.get_by_label("内容").fill("请用发出红包的那台 iPad 撤回")
    operator.get_by_role("button", name="回复").click()
    operator.wait_for_url("**/operator/support/sup-*")
    matepad.reload()
    assert matepad.locator("#case-state").get_attribute("data-state") == "answered"
    assert "请用发出红包的那台 iPad 撤回" in matepad.locator("ol.notes").inner_text()
    screenshot(matepad, "support-case")


def _recalls_through_the_api(served: Served) -> None:
    """Figures to chart: li-wei (iPhone 14 Pro) and liu-yang (Xiaomi 13 Ultra) each send and
    recall through an SMS check; li-wei's watch is refused after its button said no, and
    li-wei alone had been shown a recall guidance bubble."""
    signer, now_us = served.context.signer, served.context.services.clock.now_us()
    operator, _ = signer.issue("ops-demo", Role.OPERATOR, now_us=now_us, lifetime_seconds=600)
    with httpx.Client(base_url=served.url) as client:
        for user, device, sim in (
            ("li-wei", "li-wei-iphone14pro", "sim-li-wei-1"),
            ("liu-yang", "liu-yang-xiaomi13u", "sim-liu-yang-1"),
        ):
            token, _ = signer.issue(
                user, Role.USER, now_us=now_us, lifetime_seconds=600, device=(device, sim)
            )
            packet = _post(
                client,
                token,
                "/v1/packets",
                f"send-{user}",
                {
                    "type": "group_lucky",
                    "amount": "9.99",
                    "shares": 3,
                    "funding_source_id": f"{user}-balance",
                    "group_id": "xinghe-team",
                },
            )
            recall = f"/v1/packets/{packet['id']}/recalls"
            if user == "li-wei":
                # li-wei has seen the lucky-packet bubble; liu-yang is the no-bubble baseline
                _post(client, token, "/v1/me/hints/lucky_recall", "hint-li-wei", {"event": "shown"})
                watch, _ = signer.issue(
                    user,
                    Role.USER,
                    now_us=now_us,
                    lifetime_seconds=600,
                    device=("li-wei-watch", "esim-li-wei-watch"),
                )
                client.get(f"/v1/packets/{packet['id']}/recall-eligibility", headers=_bearer(watch))
                assert _post(client, watch, recall, "recall-watch", None)["state"] == "denied"
            challenged = _post(client, token, recall, f"recall-{user}", None)
            for number, challenge in enumerate(challenged["challenge_ids"]):
                code = client.get(
                    f"/v1/operator/challenges/{challenge}/code", headers=_bearer(operator)
                ).json()["code"]
                answer = {"purpose": challenged["challenge_purpose"], "answer": code}
                _post(
                    client,
                    token,
                    f"/v1/challenges/{challenge}/answers",
                    f"a-{user}-{number}",
                    answer,
                )
            body = {"challenge_ids": challenged["challenge_ids"]}
            assert _post(client, token, recall, f"recall-{user}", body)["state"] == "done"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(client: httpx.Client, token: str, path: str, key: str, body: object) -> Any:
    answer = client.post(path, json=body, headers={**_bearer(token), "Idempotency-Key": key})
    assert answer.status_code in {200, 201}, answer.text
    return answer.json()


def test_the_operator_dashboard_renders_its_charts(browser: Any, served: Served) -> None:
    _recalls_through_the_api(served)
    matepad = _zhao_lei_refused(browser, served)
    matepad.goto(served.url + "/help")
    EmbeddedWorker(served.context.services).drain()
    operator = _operator(browser, served)
    charts = operator.locator("svg.chart")
    assert charts.count() == 7
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert (chart.locator("title").first.text_content() or "").strip()
        assert chart.bounding_box()["height"] > 0
    assert operator.locator("#bands-table").inner_text().count("60+") == 1
    assert operator.locator("svg[data-chart=causes] rect").count() == len(Cause)
    devices = operator.locator("#devices-table").inner_text()
    assert "iPhone 14 Pro" in devices
    assert "99.3 % / 1.2 s" in devices
    for cohort in ("with_bubble", "no_bubble"):  # both cohorts misoperated: a rate each
        assert operator.locator(f"#cohort-{cohort} td").last.inner_text().endswith(" %")
    assert operator.locator("#guidance-reduction").inner_text().endswith(" %")
    screenshot(operator, "dashboard")
