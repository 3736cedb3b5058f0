"""Putting the console on the app: its pages, its static files, the help page and the API
documentation at ``/docs`` with Swagger UI's files served from an installed package (no CDN),
so every page works offline."""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.web import (
    conditions,
    dashboard,
    drill,
    guard_pages,
    history_pages,
    pages,
    support,
    unlock_pages,
)
from hongbao.entrypoints.web.calls import ApiCalls
from hongbao.entrypoints.web.drill_rooms import DrillRooms

STATIC_PATH: Final = "/console/static"
SWAGGER_PATH: Final = "/docs/assets"


def install(app: FastAPI, api: ApiContext) -> None:
    app.state.console = pages.Console(api, ApiCalls(app))
    app.state.drill_rooms = DrillRooms(api.services.clock)
    app.include_router(pages.router)
    app.include_router(drill.router)
    app.include_router(conditions.router)
    app.include_router(guard_pages.router)
    app.include_router(support.router)
    app.include_router(dashboard.router)
    app.include_router(history_pages.router)
    app.include_router(unlock_pages.router)
    app.mount(
        STATIC_PATH,
        StaticFiles(packages=[("hongbao.entrypoints.web", "static")]),
        name="console-static",
    )
    if api.settings.docs:
        _install_docs(app)


def close(app: FastAPI) -> None:
    """At shutdown: every practice room closed and its folder deleted."""
    rooms: DrillRooms = app.state.drill_rooms
    rooms.close_all()


def _install_docs(app: FastAPI) -> None:
    app.mount(
        SWAGGER_PATH,
        # Swagger UI 5 (it reads OpenAPI 3.1), as the fastapi-offline package ships it.
        StaticFiles(directory=str(files("fastapi_offline") / "static")),
        name="swagger-assets",
    )
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="hongbao API",
            swagger_js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_PATH}/favicon.png",
        )
