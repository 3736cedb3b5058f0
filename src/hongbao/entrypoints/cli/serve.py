"""``hongbao serve`` (the API, the main job) and ``hongbao tokens issue|revoke``."""

from __future__ import annotations

import hashlib
import os
from typing import Annotated

import typer

from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, keyed, natural_key, write
from hongbao.entrypoints.http.auth.tokens import MAX_LIFETIME_SECONDS
from hongbao.storage.urls import configured_url, parse_url

tokens_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)

HostOption = Annotated[str, typer.Option("--host", help="address to listen on")]
PortOption = Annotated[int, typer.Option("--port", min=1, max=65_535)]
WorkersOption = Annotated[
    int, typer.Option("--workers", min=1, max=64, help="API processes (PostgreSQL only)")
]
ShutdownOption = Annotated[
    int,
    typer.Option(
        "--shutdown-seconds",
        min=1,
        max=3_600,
        envvar="HONGBAO_SHUTDOWN_SECONDS",
        help="on SIGTERM, how long requests in flight (and open event streams) may finish",
    ),
]


def serve(
    database_url: DatabaseUrlOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = 1,
    shutdown_seconds: ShutdownOption = 20,
) -> None:
    """Serve the web console (/), the HTTP API and its docs (/docs). On the embedded SQLite
    database it also loads the demo population, runs the worker in-process and prints tokens
    to try the API with; on PostgreSQL run ``hongbao worker`` beside it."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from hongbao.entrypoints.http.app import create_app  # noqa: PLC0415
    from hongbao.entrypoints.http.server import build_context, prepare_demo  # noqa: PLC0415
    from hongbao.entrypoints.ops.metrics import clear_multiprocess_directory  # noqa: PLC0415
    from hongbao.entrypoints.ops.observability import configure_logging  # noqa: PLC0415
    from hongbao.entrypoints.supervision import (  # noqa: PLC0415
        announce_supervisor,
        exit_cleanly_on_sigterm,
    )
    from hongbao.entrypoints.worker import EmbeddedWorker, schedule_history_roots  # noqa: PLC0415
    from hongbao.platform.clock import SystemClock  # noqa: PLC0415

    exit_cleanly_on_sigterm()
    url = configured_url(database_url)
    embedded = parse_url(url).dialect == "sqlite"
    if embedded and workers != 1:
        raise typer.BadParameter("the embedded SQLite database is served by one process")
    address = f"http://{host}:{port}"
    if not embedded:
        os.environ["HONGBAO_DATABASE_URL"] = url  # every worker process opens its own services
        console.print(
            f"hongbao web console on {address} (API docs {address}/docs), {workers} process(es)"
        )
        clear_multiprocess_directory()
        configure_logging(SystemClock())  # this supervisor's lines; each worker sets up its own
        if workers > 1:
            announce_supervisor()  # its API processes stop if it dies, even by SIGKILL
        uvicorn.run(
            "hongbao.entrypoints.http.server:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            log_config=None,  # JSON lines through the root logger, not uvicorn's format
            timeout_graceful_shutdown=shutdown_seconds,
        )
        return
    api = build_context(url)
    tokens = prepare_demo(api)
    schedule_history_roots(api.services)
    worker = EmbeddedWorker(api.services, defer_outbox=api.operations.degrade.defers_outbox)
    worker.start()
    console.print(f"hongbao web console: open [bold]{address}[/] in a browser")
    console.print(f"API docs at {address}/docs; demo tokens (Authorize there with one of them):")
    for demo in tokens:
        typer.echo(f"  {demo.who}: {demo.token}")  # unwrapped: a token is copied whole
    try:
        configure_logging(api.services.clock)
        uvicorn.run(
            create_app(api),
            host=host,
            port=port,
            log_level="warning",
            log_config=None,
            timeout_graceful_shutdown=shutdown_seconds,
        )
    finally:
        worker.stop()
        api.services.close()


@tokens_app.command("issue")
def tokens_issue(
    subject: str,
    device: Annotated[str | None, typer.Option("--device", help="the user's device id")] = None,
    sim: Annotated[
        str | None,
        typer.Option("--sim", help="its SIM id (default: the SIM registered with the device)"),
    ] = None,
    operator: Annotated[bool, typer.Option("--operator", help="an operator token")] = False,
    lifetime: Annotated[
        int,
        typer.Option(
            "--lifetime",
            min=1,
            max=MAX_LIFETIME_SECONDS,
            help=f"seconds, at most {MAX_LIFETIME_SECONDS} (30 days, as over the API)",
        ),
    ] = 24 * 3600,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators: issue a bearer token for a user on one of their devices, or an operator."""
    from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner  # noqa: PLC0415
    from hongbao.entrypoints.http.server import token_secret  # noqa: PLC0415
    from hongbao.identity.devices import DeviceFingerprint  # noqa: PLC0415

    signer = TokenSigner(token_secret(database_url))

    def issue(services: object) -> str:
        clock = services.clock  # type: ignore[attr-defined]
        if operator:
            token, _ = signer.issue(
                subject, Role.OPERATOR, now_us=clock.now_us(), lifetime_seconds=lifetime
            )
            return token
        if device is None:
            raise typer.BadParameter("a user token needs --device (and optionally --sim)")
        owned = services.identity.devices_of(subject)  # type: ignore[attr-defined]
        found = next((d for d in owned if d.device_id == device), None)
        if found is None:
            raise typer.BadParameter(f"{device} is not one of {subject}'s devices")
        chosen_sim = sim or found.sim_id
        services.identity.device(DeviceFingerprint(device, chosen_sim))  # type: ignore[attr-defined]
        token, _ = signer.issue(
            subject,
            Role.USER,
            now_us=clock.now_us(),
            lifetime_seconds=lifetime,
            device=(device, chosen_sim),
        )
        return token

    typer.echo(run(database_url, issue))


@tokens_app.command("revoke")
def tokens_revoke(
    token: str,
    by: Annotated[str, typer.Option("--by", help="the operator revoking it")],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators: revoke a token (by the token itself); it is refused from then on. Twice is
    harmless (the token is the default key)."""
    from hongbao.entrypoints.http.auth.revocation import revoke  # noqa: PLC0415
    from hongbao.entrypoints.http.auth.tokens import TokenSigner  # noqa: PLC0415
    from hongbao.entrypoints.http.server import token_secret  # noqa: PLC0415

    signer = TokenSigner(token_secret(database_url))
    # Only a digest of the token names the key: the key is stored, the token is a secret.
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    write(
        database_url,
        keyed("tokens.revoke", key, natural_key("tokens.revoke", digest), {"by": by}),
        lambda s: revoke(s, signer, token, by),
        lambda revoked: console.print(f"revoked token {revoked.token_id} of {revoked.subject}"),
    )
