"""The console's calls to the HTTP API, in process: each goes through the whole app (the
operations layer, authentication, idempotency, the pipeline) exactly as a client's would, with
the signed-in person's token. Nothing is taken from the services behind the API's back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx
from starlette.types import ASGIApp

from hongbao.platform.i18n import Language

INTERNAL_BASE: Final = "http://hongbao.console"
OK_STATUSES: Final = range(200, 300)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def message(self) -> str:
        """A refusal's message in the request's language (the API's one error shape)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return f"HTTP {self.status}"


class ApiCalls:
    def __init__(self, app: ASGIApp) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        language: Language,
        json: object | None = None,
        key: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Reply:
        headers = {"Accept-Language": "zh-CN" if language == "zh" else "en", **(extra or {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        async with httpx.AsyncClient(transport=self._transport, base_url=INTERNAL_BASE) as client:
            response = await client.request(method, path, headers=headers, json=json)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Reply(response.status_code, body)
