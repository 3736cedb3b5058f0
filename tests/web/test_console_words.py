"""The zh pages speak Chinese: every refund state, refund route, check, account tier and device
form factor has its zh words, and the pages of a whole recall (sign-in, packet, confirm, SMS
check, result) show none of the API's English codes as text."""

from __future__ import annotations

import html
import re
from enum import StrEnum

import pytest
from fastapi.testclient import TestClient

from hongbao.entrypoints.web.words import WORDS
from hongbao.identity.devices import FormFactor, Platform
from hongbao.identity.users import AccountTier
from hongbao.identity.verification import ChallengeKind
from hongbao.recall.records import RecallState
from hongbao.refunds.records import RefundState
from hongbao.refunds.routes import RefundRoute
from tests.web.conftest import Console, hidden
from tests.web.test_console_pages import LI_WEI, send_lucky

CJK = re.compile(r"[\u4e00-\u9fff]")
NAMED: list[tuple[str, type[StrEnum]]] = [
    ("refund_state_", RefundState),
    ("refund_where_", RefundState),
    ("route_", RefundRoute),
    ("check_", ChallengeKind),
    ("tier_", AccountTier),
    ("form_", FormFactor),
]
CODES = {
    member.value
    for enum in (RefundState, RefundRoute, ChallengeKind, AccountTier, FormFactor, RecallState)
    for member in enum
}


def visible_text(page: str) -> str:
    """What a reader sees: the page without its tags, scripts and attributes."""
    without_scripts = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", without_scripts))


def codes_in(text: str) -> set[str]:
    """API codes standing alone in ``text`` (not inside an id such as li-wei-watch)."""
    return {code for code in CODES if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)}


@pytest.mark.parametrize(("prefix", "enum"), NAMED, ids=[prefix for prefix, _ in NAMED])
def test_every_code_the_console_shows_has_zh_words(prefix: str, enum: type[StrEnum]) -> None:
    for member in enum:
        zh, en = WORDS[prefix + member.value]
        assert CJK.search(zh), (prefix, member)
        assert en, (prefix, member)
        assert not CJK.search(en.replace("零钱通", "")), (prefix, member)


def test_every_platform_has_its_proper_name() -> None:
    for platform in Platform:
        zh, en = WORDS[f"platform_{platform.value}"]
        assert zh, platform
        assert en != platform.value


def test_the_zh_pages_of_a_whole_recall_show_no_english_code(console: Console) -> None:
    signin = TestClient(console.app).get("/")  # type: ignore[arg-type]
    assert "一类账户" in signin.text
    assert "手表" in signin.text
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    pages = {"sign-in": signin.text, "packet": li_wei.get(packet_path).text}
    pages["confirm"] = li_wei.get(f"{packet_path}/recall").text
    challenged = li_wei.post(f"{packet_path}/recall", data={"key": hidden(pages["confirm"], "key")})
    challenge_id = hidden(challenged.text, "challenge")
    pages["verify"] = li_wei.get(f"{challenged.url}&reveal={challenge_id}").text
    code = re.search(r'class="drill-code">(\d+)<', pages["verify"])
    assert code is not None
    done = li_wei.post(
        challenged.url.path,
        data={
            "key": hidden(pages["verify"], "key"),
            "purpose": hidden(pages["verify"], "purpose"),
            "attempt": hidden(pages["verify"], "attempt"),
            "challenge": challenge_id,
            f"code-{challenge_id}": code[1],
        },
    )
    pages["result"] = done.text
    assert "已到账" in pages["result"]
    assert "短信验证码" in pages["confirm"]
    for name, page in pages.items():
        assert codes_in(visible_text(page)) == set(), name
