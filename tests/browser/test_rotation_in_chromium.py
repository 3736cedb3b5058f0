"""R-D5 in a real Chromium: a HarmonyOS tablet rotates mid-recall (the viewport turns and the
page reloads) at the confirm page and again at the checks, and the same recall is resumed by
its idempotency key: the server holds exactly one recall and moved the money once."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Served, screenshot

PORTRAIT = {"width": 800, "height": 1280}
LANDSCAPE = {"width": 1280, "height": 800}
FUNDS_MINOR = 2_000_00


def rotate(page: Any, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    page.reload()


def test_a_tablet_rotating_mid_recall_resumes_the_same_recall(browser: Any, served: Served) -> None:
    page = browser.new_context(locale="zh-CN", viewport=PORTRAIT).new_page()
    page.goto(served.url + "/")
    page.locator('input[value="zhao-lei/zhao-lei-ipad"]').check()
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/wallet")
    page.goto(served.url + "/send?group=xinghe-team")
    page.get_by_label("类型").select_option("group_lucky")
    page.locator("#amount").fill("9.00")
    page.get_by_label("份数").fill("3")
    page.get_by_label("付款方式").select_option("zhao-lei-balance")
    page.get_by_role("button", name="塞钱进红包").click()
    page.wait_for_url(re.compile(r".*/packets/p-[0-9a-f]+\?sent=lucky$"))
    packet_url = str(page.url.split("?")[0])
    packet_id = packet_url.rsplit("/", 1)[1]
    page.goto(packet_url + "/recall")
    key = page.locator('input[name="key"]').get_attribute("value")
    rotate(page, LANDSCAPE)  # before confirming
    assert page.locator('input[name="key"]').get_attribute("value") == key
    page.get_by_role("button", name="确认撤回").click()
    page.wait_for_url(re.compile(r".*/recall/verify\?.*"))
    rotate(page, PORTRAIT)  # while the checks wait
    assert f"key={key}" in page.url
    page.goto(packet_url + "/recall")  # back to the dialog after the turn
    page.wait_for_url(re.compile(r".*/recall/verify\?.*"))
    assert f"key={key}" in page.url
    screenshot(page, "rotation-resumed")
    page.locator("a.reveal").click()
    page.locator(".drill-code").wait_for()
    page.get_by_role("button", name="提交验证码").click()
    page.wait_for_url(re.compile(r".*/recall/result\?.*"))
    rotate(page, LANDSCAPE)  # after it is done: the same result again
    assert page.locator("#refund-state").is_visible()

    database = served.context.services.database
    recalls = database.read(
        lambda uow: uow.recalls.recalls.find({"packet_id": packet_id}, limit=10)
    )
    assert [recall.idempotency_key for recall in recalls] == [key]
    assert recalls[0].state.value == "done"
    balance = served.context.services.ledger.account("user:zhao-lei:balance").credit_balance
    assert balance == FUNDS_MINOR  # nobody claimed: 9.00 out, 9.00 back, once
