"""The `pressroom` command: serve, migrate, seed, openapi."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from pressroom.core.settings import Settings

app = typer.Typer(
    name="pressroom",
    help="Pressroom: a publishing platform API that speaks the Conduit API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class CLIError(Exception):
    """A failure reported as one line, without a traceback."""


def _settings(**server: object) -> Settings:
    """Settings from the environment, with command-line overrides for the server section."""
    overrides = {key: value for key, value in server.items() if value is not None}
    for key, value in overrides.items():
        # Worker processes build their own Settings from the environment: pass overrides on.
        os.environ[f"PRESSROOM_SERVER__{key.upper()}"] = str(value)
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CLIError(f"invalid configuration{f' ({where})' if where else ''}: {message}") from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    settings = _settings(host=host, port=port, workers=workers)
    server = settings.server
    uvicorn.run(
        "pressroom.asgi:create_app_from_env",
        factory=True,
        host=server.host,
        port=server.port,
        workers=None if reload else server.workers,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips=server.forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (to the newest revision by default)."""
    from pressroom.core import migrations

    settings = _settings()
    migrations.upgrade(settings, revision)
    typer.echo(f"database at {revision}: {_safe_url(settings)}")


@app.command()
def openapi(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path(
        "openapi.json"
    ),
) -> None:
    """Write the OpenAPI schema to a file."""
    from pressroom.main import create_app

    schema = create_app(_settings()).openapi()
    output.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    typer.echo(f"wrote {output}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def main() -> None:
    try:
        app()
    except CLIError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # one clear line for anything unexpected, no traceback
        typer.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        sys.exit(1)
