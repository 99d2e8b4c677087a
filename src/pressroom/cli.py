"""The `pressroom` command: serve, worker, migrate, seed, create-admin, openapi, settings."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from pydantic import ValidationError
from typer.exceptions import TyperException

from pressroom.core.settings import Settings

if TYPE_CHECKING:
    from pressroom.users.schemas import NewUser

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
        raise CLIError(
            f"invalid configuration{f' ({where})' if where else ''}: {message}"
        ) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from pressroom.core.metrics.processes import prepare_worker_metrics
    from pressroom.core.observability.logs import uvicorn_options
    from pressroom.core.server_protocols import protocol_class

    settings = _settings(host=host, port=port, workers=workers)
    prepare_worker_metrics(settings)  # before any worker imports prometheus_client
    server = settings.server
    # After a graceful shutdown uvicorn raises the stop signal again, "so a supervisor sees
    # why it ended": a SIGTERM would then kill the process (exit 143). Pressroom drained and
    # finished its requests, which is a success: exit 0. (A SIGTERM before serving also
    # just exits.)
    signal.signal(signal.SIGTERM, _exit_cleanly)
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
        # Request heads get a deadline and a size cap (431) from the protocol class: see
        # core/server_protocols.py. h11's own cap, set alike, is a second line.
        http=protocol_class(server.http),
        h11_max_incomplete_event_size=server.max_header_bytes,
        # WebSockets (live comments, docs/live.md) through the `websockets` library, sans-I/O
        # (writes wait while a client is slow to read); its pings close peers that stop answering.
        ws="websockets-sansio",
        ws_ping_interval=settings.live.websocket_heartbeat_seconds,
        ws_ping_timeout=settings.live.websocket_heartbeat_seconds,
        **uvicorn_options(settings),  # logs through Pressroom's pipeline, no uvicorn access log
        # Once it stops accepting (after drain_seconds, see core/lifecycle.py): how long
        # requests in flight may take before they are cancelled.
        timeout_graceful_shutdown=server.shutdown_grace_seconds,
    )


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> None:
    sys.exit(0)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit (for scripts).")
    ] = False,
) -> None:
    """Deliver outbox events to their handlers: background jobs for the fleet.

    Run one or more next to API processes started with PRESSROOM_OUTBOX__RELAY=external.
    SIGTERM or SIGINT: the batch in hand is finished, then the process exits 0.
    """
    import asyncio

    from pressroom.core.observability.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    asyncio.run(_work(settings, once=once))


async def _work(settings: Settings, *, once: bool) -> None:
    import asyncio

    from pressroom.core.db import Database, create_engine
    from pressroom.core.outbox.relay import Relay
    from pressroom.jobs import event_handlers

    log = logging.getLogger("pressroom.worker")
    database = Database(create_engine(settings))
    relay = Relay(database, event_handlers(settings, database), settings.outbox)
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, relay.stop_soon)
    try:
        if once:
            delivered = await relay.drain()
            log.info("outbox worker: %d events handled, none due now", delivered)
        else:
            log.info("outbox worker started: delivering events from %s", _safe_url(settings))
            await relay.run()
            log.info("outbox worker stopped")
    finally:
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(stop_signal)
        await database.dispose()


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (to the newest revision by default)."""
    from pressroom.core import migrations
    from pressroom.core.observability.logs import configure_logging

    settings = _settings()
    # A migration Job's output goes to the same log store as the server's: same lines (JSON
    # in production), Alembic's "Running upgrade ..." included.
    configure_logging(settings)
    migrations.upgrade(settings, revision)
    logging.getLogger("pressroom.migrate").info("database at %s: %s", revision, _safe_url(settings))


@app.command()
def seed(
    articles: Annotated[int, typer.Option(min=1, max=1_000_000, help="Articles to create.")] = 1000,
    users: Annotated[
        int | None,
        typer.Option(min=2, help="Users to create (default: one per 20 articles, at least 10)."),
    ] = None,
    comments_per_article: Annotated[
        float, typer.Option(min=0, max=100, help="Average comments per article.")
    ] = 3.0,
    favorites_per_article: Annotated[
        float, typer.Option(min=0, max=1000, help="Average favorites per article.")
    ] = 3.0,
    follows_per_user: Annotated[
        float, typer.Option(min=0, max=1000, help="Average users each user follows.")
    ] = 5.0,
    days: Annotated[
        int, typer.Option(min=1, max=36500, help="Spread creation times over this many past days.")
    ] = 365,
    seed_value: Annotated[
        int | None,
        typer.Option(help="Random seed: the same value gives the same data (default: random)."),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password of every demo user, 8-256 characters (default: pressroom-demo)."
        ),
    ] = None,
) -> None:
    """Fill the database with demo data: users, articles, tags, comments, follows, favorites.

    --articles N alone sizes the rest: N/20 users, about 3 comments and 3 favorites per article.

    Appends: run it again for more; new names and slugs never collide with existing ones.

    The first user created is the demo login: its email and password are printed at the end.
    """
    import asyncio
    import random

    from rich.progress import Progress, TaskID

    from pressroom import seeding

    settings = _settings()
    if seed_value is None:
        seed_value = random.SystemRandom().randrange(2**32)
    plan = seeding.SeedPlan(
        articles=articles,
        users=users,
        comments_per_article=comments_per_article,
        favorites_per_article=favorites_per_article,
        follows_per_user=follows_per_user,
        days=days,
        seed_value=seed_value,
        password=password or seeding.DEMO_PASSWORD,
    )
    progress = Progress()
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if not tasks:
            progress.start()  # only once seeding has begun: errors stay one line
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        result = asyncio.run(seeding.seed(settings, plan, report))
    except seeding.SeedError as exc:
        raise CLIError(f"{exc} ({_safe_url(settings)})") from None
    finally:
        if tasks:  # stopping a display that never started would still print a blank line
            progress.stop()
    typer.echo(
        f"seeded {result.users} users, {result.articles} articles, {result.comments} comments, "
        f"{result.favorites} favorites, {result.follows} follows, {result.tags} tags "
        f"(seed value {seed_value}) into {_safe_url(settings)}"
    )
    typer.echo(f"demo login: {result.demo_email} / {result.password}")


@app.command("create-admin")
def create_admin(
    username: Annotated[str | None, typer.Option(help="Username of the new admin.")] = None,
    email: Annotated[str | None, typer.Option(help="Email of the new admin.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    promote: Annotated[
        str | None,
        typer.Option(help="Make this existing user (username or email) an admin instead."),
    ] = None,
) -> None:
    """Create an admin account, or promote an existing user with --promote.

    The password is asked for twice (never shown), or read from one line of standard input
    with --password-stdin. The same rules as registration apply.
    """
    import asyncio

    if promote is not None:
        if username is not None or email is not None or password_stdin:
            raise CLIError("--promote takes no --username, --email or --password-stdin")
        settings = _settings()
        typer.echo(asyncio.run(_promote(settings, promote)))
        return
    if username is None or email is None:
        raise CLIError("--username and --email are required (or --promote USERNAME_OR_EMAIL)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = _new_user(username, email, password)
    settings = _settings()
    typer.echo(asyncio.run(_create_admin(settings, data)))


def _new_user(username: str, email: str, password: str) -> NewUser:
    from pressroom.core.errors import validation_errors
    from pressroom.users.schemas import NewUser

    try:
        return NewUser(username=username, email=email, password=password)
    except ValidationError as exc:
        field, messages = next(iter(validation_errors(exc.errors()).items()))
        raise CLIError(f"{field} {messages[0]}") from None


async def _create_admin(settings: Settings, data: NewUser) -> str:
    from pressroom.admin.service import AdminAccounts
    from pressroom.auth.passwords import Passwords
    from pressroom.core.db import Database, create_engine
    from pressroom.users.errors import UsernameOrEmailTaken

    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            user = await AdminAccounts(session, Passwords(settings.auth)).create(data)
    except UsernameOrEmailTaken as exc:
        raise CLIError(" and ".join(f"{field} {exc.message}" for field in exc.errors)) from None
    finally:
        await database.dispose()
    return f"created admin {user.username} <{user.email}>"


async def _promote(settings: Settings, login: str) -> str:
    from pressroom.admin.service import AdminAccounts
    from pressroom.auth.passwords import Passwords
    from pressroom.core.db import Database, create_engine
    from pressroom.users.errors import UserNotFound

    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            promotion = await AdminAccounts(session, Passwords(settings.auth)).promote(login)
    except UserNotFound:
        raise CLIError(f"no user with username or email {login!r}") from None
    finally:
        await database.dispose()
    user = promotion.user
    if not promotion.changed:
        return f"{user.username} is already an admin"
    return f"promoted {user.username} <{user.email}> to admin"


@app.command()
def openapi(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path(
        "openapi.json"
    ),
) -> None:
    """Write the OpenAPI schema to a file."""
    from pressroom.main import create_app

    schema = create_app(_settings()).openapi()
    output.write_bytes(
        orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    typer.echo(f"wrote {output}")


@app.command("settings-reference")
def settings_reference(
    write: Annotated[
        bool, typer.Option("--write", help="Update the generated block in the document.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the document's block is out of date.")
    ] = False,
    document: Annotated[
        Path, typer.Option("--document", help="File with the settings-reference markers.")
    ] = Path("docs/operations.md"),
) -> None:
    """Print the configuration reference generated from the Settings model.

    --write puts it between the settings-reference markers of docs/operations.md.
    """
    from pressroom.core import settings_reference as reference

    try:
        if check:
            reference.check(document)
            typer.echo(f"{document} is up to date")
        elif write:
            changed = reference.write(document)
            typer.echo(f"{'updated' if changed else 'unchanged'}: {document}")
        else:
            typer.echo(reference.render(), nl=False)
    except (reference.ReferenceOutOfDate, OSError) as exc:
        raise CLIError(str(exc)) from None


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(130)
    except TyperException as exc:  # usage errors: unknown command or option, bad value
        format_message = getattr(exc, "format_message", None)
        message = format_message() if callable(format_message) else str(exc)
        typer.echo(f"error: {message}".splitlines()[0], err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except CLIError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # one clear line for anything unexpected, no traceback
        typer.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
