"""The HTTP application: /v1 routes, one error shape, OpenAPI at /docs, a landing page at /.

``create_app`` takes built services (the composition root is ``hongbao.bootstrap``); the app
keeps no state of its own beyond them, so several worker processes can serve one database.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from hongbao.api.context import ApiContext
from hongbao.api.errors import error_body, status_for
from hongbao.api.middleware import OperationsMiddleware
from hongbao.api.routes import events, operations, packets
from hongbao.api.routes.v1 import ROUTERS
from hongbao.platform.errors import HongbaoError
from hongbao.recall.explanations import parse_language

logger = logging.getLogger(__name__)

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hongbao 红包</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>hongbao 红包</h1>
<p>Red packets: send, claim, recall (撤回) and refunds, every answer explained.</p>
<ul>
<li><a href="/docs">API documentation</a> (try the calls there: <em>Authorize</em> with a
token printed by <code>hongbao serve</code>)</li>
<li><a href="/openapi.json">OpenAPI document</a></li>
</ul>
</body></html>
"""


def create_app(api: ApiContext) -> FastAPI:
    app = FastAPI(
        title="hongbao",
        version="1",
        summary="Red packets with recall (撤回) and explained refunds.",
        docs_url="/docs" if api.settings.docs else None,
        redoc_url=None,
    )
    app.state.context = api
    app.include_router(packets.router)
    app.include_router(events.router)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(operations.router)
    app.add_middleware(OperationsMiddleware, operations=api.operations)
    _add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def landing() -> HTMLResponse:
        return HTMLResponse(LANDING)

    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HongbaoError)
    async def hongbao_error(request: Request, error: HongbaoError) -> JSONResponse:
        language = parse_language(request.headers.get("accept-language"))
        status = status_for(error)
        if status >= 500:
            return _internal(request, error)
        body = error_body(error.code, error.message, language, details=error.details)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        language = parse_language(request.headers.get("accept-language"))
        problems = [
            f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in error.errors()
        ][:20]
        body = error_body(
            "input.invalid",
            "The request does not match the API: " + "; ".join(problems),
            language,
            details={"problems": problems},
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        return _internal(request, error)


def _internal(request: Request, error: Exception) -> JSONResponse:
    reference = f"e-{secrets.token_hex(8)}"
    logger.error(
        "request failed", exc_info=error, extra={"reference": reference, "path": request.url.path}
    )
    language = parse_language(request.headers.get("accept-language"))
    body = error_body(
        "api.internal",
        f"Something went wrong on our side (reference "
        f"{reference}); please retry, or contact support with the reference.",
        language,
        details={"reference": reference},
    )
    return JSONResponse(body, status_code=500)
