"""Support and the operators' dashboard in a real Chromium: a 60+ person refused on their
other tablet is offered support first and asks; an operator answers in another browser and
the person sees the answer; the dashboard draws its charts."""

from __future__ import annotations

import re
from typing import Any

from hongbao.entrypoints.worker import EmbeddedWorker
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


def test_the_operator_dashboard_renders_its_charts(browser: Any, served: Served) -> None:
    matepad = _zhao_lei_refused(browser, served)
    matepad.goto(served.url + "/help")
    EmbeddedWorker(served.context.services).drain()
    operator = _operator(browser, served)
    charts = operator.locator("svg.chart")
    assert charts.count() == 6
    for index in range(charts.count()):
        assert charts.nth(index).locator("title").first.inner_text().strip()
    assert operator.locator("#bands-table").inner_text().count("60+") == 1
    assert operator.locator("svg[data-chart=causes] rect").count() == 6
    screenshot(operator, "dashboard")
