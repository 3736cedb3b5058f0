"""The simulation drill in a real Chromium: reached from the navigation, a practice packet
sent and claimed by a pretend friend, the practice clock jumped 31 minutes, and the recall
button turned grey with its cause; every page marked as practice."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Served, screenshot
from tests.browser.test_console_in_chromium import PHONE, signed_in


def test_the_drill_with_a_clock_jump(browser: Any, served: Served) -> None:
    page = signed_in(browser, served, "li-wei/li-wei-iphone14pro", PHONE)
    real_balance = served.context.services.ledger.account("user:li-wei:balance").credit_balance
    page.get_by_role("link", name="模拟演练").click()
    page.wait_for_url("**/drill")
    assert page.locator(".practice").is_visible()
    page.get_by_role("button", name="开始演练").click()
    page.locator("#drill-now").wait_for()
    assert page.locator("#drill-now").inner_text() == "2026-12-01 10:00"
    page.locator("#drill-amount").fill("6.00")
    page.get_by_role("button", name="塞钱进红包").click()
    card = page.locator(".drill-packet").first
    assert card.locator('[data-button="challenge"]').is_visible()
    card.get_by_role("button", name="让刘洋领取").click()
    assert "刘洋领取了" in page.locator("#drill-last").inner_text()
    page.get_by_role("button", name="快进 31 分钟").click()
    assert page.locator("#drill-now").inner_text() == "2026-12-01 10:31"
    card = page.locator(".drill-packet").first
    assert card.locator("button.recall-button").is_disabled()
    assert "红包已有人领取" in card.locator(".cause").inner_text()
    assert page.locator(".practice").is_visible()
    screenshot(page, "drill")
    after = served.context.services.ledger.account("user:li-wei:balance").credit_balance
    assert after == real_balance  # the practice touched no real money
