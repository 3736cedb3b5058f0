"""The console in a real Chromium: sign in, send, claim as another person, recall through an
SMS drill, a grey button with its cause, a bubble shown once, the zh/en switch; on a phone,
a tablet and a watch-sized screen."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Served, screenshot

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
WATCH = {"width": 200, "height": 240}


def signed_in(browser: Any, served: Served, device: str, viewport: dict[str, int] = PHONE) -> Any:
    """A page of a new browser context (its own cookies) signed in as ``device``'s owner."""
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    page.goto(served.url + "/")
    page.locator(f'input[value="{device}"]').check()
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/wallet")
    return page


def send_lucky(page: Any, served: Served, amount: str = "8.88") -> str:
    page.goto(served.url + "/send?group=xinghe-team")
    page.get_by_label("类型").select_option("group_lucky")
    page.locator("#amount").fill(amount)
    page.get_by_label("份数").fill("3")
    page.get_by_label("付款方式").select_option("li-wei-balance")
    page.get_by_role("button", name="塞钱进红包").click()
    page.wait_for_url(re.compile(r".*/packets/p-[0-9a-f]+\?sent=lucky$"))
    return str(page.url.split("?")[0])


def test_sign_in_shows_the_wallet(browser: Any, served: Served) -> None:
    first = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    first.goto(served.url + "/")
    screenshot(first, "sign-in")
    page = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    assert page.get_by_role("heading", name="钱包").is_visible()
    assert "¥2000.00" in page.locator(".tiles").inner_text()
    screenshot(page, "wallet")


def test_send_then_claim_as_another_person(browser: Any, served: Served) -> None:
    li_wei = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    packet_url = send_lucky(li_wei, served)
    li_wei.get_by_role("button", name="知道了").click()  # the lucky-packet bubble
    liu_yang = signed_in(browser, served, "liu-yang/liu-yang-xiaomi13u", TABLET)
    liu_yang.goto(served.url + "/groups/xinghe-team")
    screenshot(liu_yang, "group")
    liu_yang.get_by_role("button", name=re.compile("^领取")).first.click()
    assert "claimed" in liu_yang.locator("#claim-result").inner_text()
    li_wei.goto(packet_url)
    assert li_wei.get_by_role("cell", name="liu-yang").is_visible()
    screenshot(li_wei, "packet")


def test_recall_through_the_sms_drill(browser: Any, served: Served) -> None:
    page = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    packet_url = send_lucky(page, served)
    assert page.locator('[data-button="challenge"]').is_visible()
    page.get_by_role("link", name=re.compile("需要验证")).click()
    assert page.locator("#refund-plan").inner_text().strip() not in {"", "-"}
    screenshot(page, "recall-confirm")
    page.get_by_role("button", name="确认撤回").click()
    page.wait_for_url(re.compile(r".*/recall/verify\?.*"))
    page.locator("a.reveal").click()  # the drill: the simulated SMS code, filled in place
    page.locator(".drill-code").wait_for()
    screenshot(page, "recall-sms-drill")
    page.get_by_role("button", name="提交验证码").click()
    page.wait_for_url(re.compile(r".*/recall/result\?.*"))
    assert page.locator("#refund-state").is_visible()
    screenshot(page, "recall-result")
    page.goto(packet_url)
    assert page.locator("#packet-state").inner_text() == "已撤回"


def test_a_grey_button_says_why_and_what_next(browser: Any, served: Served) -> None:
    """Sent from the phone, seen from the watch: the button is disabled, the cause and the
    next step are in words, on a watch-sized screen."""
    phone = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    packet_url = send_lucky(phone, served)
    watch = signed_in(browser, served, "li-wei/li-wei-watch", WATCH)
    watch.goto(packet_url)
    button = watch.locator("button.recall-button")
    assert button.is_disabled()
    assert watch.locator(".cause").inner_text().strip()
    assert watch.locator("ul.steps li").count() >= 1
    screenshot(watch, "watch-disabled-recall")


def test_a_bubble_is_shown_once_and_its_dismissal_counted(browser: Any, served: Served) -> None:
    page = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    packet_url = send_lucky(page, served)
    bubble = page.locator('[data-hint="lucky_recall"]')
    assert bubble.is_visible()
    with page.expect_response(re.compile(r".*/console/hints/lucky_recall$")):
        page.get_by_role("button", name="知道了").click()
    assert bubble.count() == 0
    page.goto(packet_url)
    assert page.locator("[data-hint]").count() == 0
    hints = served.context.operations.metrics.hints
    assert hints.labels("lucky_recall", "shown")._value.get() == 1
    assert hints.labels("lucky_recall", "dismissed")._value.get() == 1


def test_the_language_switch(browser: Any, served: Served) -> None:
    page = signed_in(browser, served, "li-wei/li-wei-iphone14pro")
    page.get_by_role("link", name=re.compile("English")).click()
    page.wait_for_url("**/wallet")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Wallet").is_visible()
    assert page.get_by_role("cell", name="top-up").is_visible()
    screenshot(page, "wallet-en")
    page.get_by_role("link", name=re.compile("中文")).click()
    assert page.get_by_role("heading", name="钱包").is_visible()


def test_the_api_docs_render_offline(browser: Any, served: Served) -> None:
    """Swagger UI draws the operations from files this server serves (nothing else)."""
    context = browser.new_context()
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1).*"), lambda route: route.abort()
    )  # any other host is unreachable, as offline
    page = context.new_page()
    page.goto(served.url + "/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
