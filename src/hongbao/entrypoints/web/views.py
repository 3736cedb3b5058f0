"""Rendering: the Jinja2 templates (autoescaped), the filters that show money and time, and
the language a reader asked for."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from hongbao.entrypoints.web.words import word
from hongbao.money import Money
from hongbao.platform.clock import to_datetime
from hongbao.platform.i18n import Language, parse_language

LANGUAGE_COOKIE: Final = "hongbao_lang"
BEIJING: Final = ZoneInfo("Asia/Shanghai")
SYMBOLS: Final = {"CNY": "¥", "USD": "US$", "HKD": "HK$"}

ENVIRONMENT: Final = Environment(
    loader=PackageLoader("hongbao.entrypoints.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language_of(request: Request) -> Language:
    """The reader's choice (the language switch keeps it in a cookie), else their browser's."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in {"zh", "en"}:
        return parse_language(chosen)
    return parse_language(request.headers.get("accept-language"))


def money(amount: dict[str, Any] | None) -> str:
    """An API amount (decimal text, currency, minor units) as people read it: ``¥8.88``. The
    text is rebuilt from the integer minor units, never from a float."""
    if not amount:
        return "-"
    shown = Money.of(int(amount["minor"]), str(amount["currency"])).format()
    symbol = SYMBOLS.get(str(amount["currency"]))
    return f"{symbol}{shown}" if symbol else f"{shown} {amount['currency']}"


def moment(value: int | str | None) -> str:
    """Microseconds or an ISO time as Beijing time to the minute."""
    if value is None or value == "":
        return "-"
    at = to_datetime(value) if isinstance(value, int) else datetime.fromisoformat(value)
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


ENVIRONMENT.filters["money"] = money
ENVIRONMENT.filters["moment"] = moment


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    language = language_of(request)

    def t(key: str) -> str:
        return word(key, language)

    page = ENVIRONMENT.get_template(template).render(
        t=t, lang=language, path=request.url.path, **values
    )
    response = HTMLResponse(page, status_code=status)
    # The pages carry a person's balances: never kept by a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response
