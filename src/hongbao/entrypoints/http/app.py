"""The HTTP application: /v1 routes, one error shape, OpenAPI at /docs, the web console at /.

``create_app`` takes built services (the composition root is ``hongbao.bootstrap``); the app
keeps no state of its own beyond them, so several worker processes can serve one database.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from hongbao.entrypoints.http.claims import ClaimLane
from hongbao.entrypoints.http.codes import ApiCode
from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.http.edge import Edge, EdgeLimits
from hongbao.entrypoints.http.errors import error_body, refusal_of, status_of
from hongbao.entrypoints.http.openapi import as_strict_as_the_server
from hongbao.entrypoints.http.routes import events, operations, packets
from hongbao.entrypoints.http.routes.v1 import ROUTERS
from hongbao.entrypoints.ops.middleware import OperationsMiddleware
from hongbao.entrypoints.web import console
from hongbao.platform.errors import HongbaoError, PlatformCode
from hongbao.platform.i18n import parse_language

logger = logging.getLogger(__name__)


class HongbaoApp(FastAPI):
    """The framework's app behind a front of our own: the operations middleware (request id,
    admission, metrics, the log line), the edge (every path, query, header and body checked
    before anything reads it; see ``edge.py``) and the claim lane. Claims, the hottest request
    by far, reach the claim desk without the framework's layers (its telemetry and error
    middleware, its router); everything else goes on through the framework as usual."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # the operations middleware answers a fault with our handler
        await self.front(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """The framework's document with what the server checks beyond the signatures."""
        if self.openapi_schema is None:
            self.openapi_schema = as_strict_as_the_server(super().openapi())
        return self.openapi_schema


def create_app(api: ApiContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The blocking routes' threads, on this event loop (see OperationsSettings).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = api.operations.settings.request_threads
        yield
        console.close(_app)  # the drill's practice rooms
        api.claims.close()
        api.operations.close()

    app = HongbaoApp(
        lifespan=lifespan,
        title="hongbao",
        version="1",
        summary="Red packets with recall (撤回) and explained refunds.",
        docs_url=None,  # served by the console with Swagger UI's files from the package
        redoc_url=None,
    )
    app.state.context = api
    app.include_router(packets.router)
    app.include_router(events.router)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(operations.router)
    edge = Edge(
        ClaimLane(app.framework, api=api),
        EdgeLimits(max_body_bytes=api.operations.settings.max_body_bytes),
    )
    app.front = OperationsMiddleware(edge, api.operations)
    _add_error_handlers(app)
    console.install(app, api)  # the web console at / and the API docs at /docs
    return app


METHOD_NOT_ALLOWED = 405
ALLOW_CANDIDATES = ("GET", "POST", "PUT", "PATCH", "DELETE")
HTTP_CODES = {
    400: (PlatformCode.INPUT_INVALID, 422),
    404: (ApiCode.NOT_FOUND, 404),
    405: (ApiCode.METHOD_NOT_ALLOWED, 405),
}


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HongbaoError)
    async def hongbao_error(request: Request, error: HongbaoError) -> JSONResponse:
        refusal = refusal_of(error, parse_language(request.headers.get("accept-language")))
        if refusal is None:  # a fault of ours: logged with a reference
            return _internal(request, error)
        return JSONResponse(refusal.body, status_code=refusal.status, headers=refusal.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals in the one error shape: a body that is not JSON (or not
        UTF-8) is invalid input like any other (422); unknown paths and methods keep theirs."""
        language = parse_language(request.headers.get("accept-language"))
        code, status = HTTP_CODES.get(error.status_code, (ApiCode.HTTP_ERROR, error.status_code))
        body = error_body(code, str(error.detail), language)
        headers = dict(error.headers or {})
        if status == METHOD_NOT_ALLOWED:
            # Starlette lists the methods of the first route that matched the path only; a path
            # served by several routes (GET and POST) allows all of theirs.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        language = parse_language(request.headers.get("accept-language"))
        problems = [
            f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in error.errors()
        ][:20]
        body = error_body(
            PlatformCode.INPUT_INVALID,
            "The request does not match the API: " + "; ".join(problems),
            language,
            details={"problems": problems},
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        return _internal(request, error)


def _allowed_methods(request: Request) -> list[str]:
    # Asked of the router for each method: FastAPI keeps included routers as wrappers, so
    # app.routes holds no APIRoute of theirs to read methods from.
    allowed = []
    for method in ALLOW_CANDIDATES:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _internal(request: Request, error: Exception) -> JSONResponse:
    reference = f"e-{secrets.token_hex(8)}"
    logger.error(
        "request failed", exc_info=error, extra={"reference": reference, "path": request.url.path}
    )
    language = parse_language(request.headers.get("accept-language"))
    body = error_body(
        ApiCode.INTERNAL,
        f"Something went wrong on our side (reference "
        f"{reference}); please retry, or contact support with the reference.",
        language,
        details={"reference": reference},
    )
    return JSONResponse(body, status_code=status_of(ApiCode.INTERNAL))
