"""R-U5 and R-U6 in the console: before confirming a recall the person sees where the money
goes (route, fee, arrival) and what the recall does to their credit and standing; a refusal
points to the troubleshooting order, which the help page gives as network, then validity
period, then device or support."""

from __future__ import annotations

import re

from tests.web.conftest import Console
from tests.web.test_console_pages import LI_WEI, send_lucky


def test_the_confirm_page_shows_route_and_credit_impact_before_the_button(
    console: Console,
) -> None:
    li_wei = console.person(*LI_WEI)
    page = li_wei.get(f"{send_lucky(li_wei)}/recall").text
    route = page.index('id="refund-plan"')
    impact = page.index('id="credit-impact"')
    button = page.index("确认撤回")
    assert route < button
    assert impact < button
    assert "零钱" in page[route:impact]  # the route: back to the balance
    assert "撤回会被记录" in page  # the credit note: recalls are recorded


def test_the_help_page_orders_troubleshooting_network_validity_then_device(
    console: Console,
) -> None:
    page = console.person(*LI_WEI).get("/help").text
    steps = re.findall(r'data-step="([a-z-]+)"', page)
    assert steps == ["network", "validity", "device-or-support"]
    assert page.index("网络") < page.index("可撤回的时间") < page.index("联系客服")


def test_a_grey_button_links_to_the_troubleshooting_order(console: Console) -> None:
    phone = console.person(*LI_WEI)
    packet_path = send_lucky(phone)
    watch = console.person("li-wei", "li-wei-watch")
    assert 'href="/help#troubleshoot"' in watch.get(packet_path).text
