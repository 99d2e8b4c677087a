"""One export per user at a time, and everything an export holds released whatever ends it:
the last line, a client that goes away, a server that shuts down, a database that fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from pressroom.core.settings import Settings
from pressroom.exports.gate import ExportGate
from pressroom.exports.repository import LOCK_NAMESPACE
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.exports.shapes import export_lines, lines_of
from tests.exports.streams import HeldStream
from tests.factories import Person, assert_error, make_admin, make_article, register

EXPORT = "/api/user/export"
# Export locks in this test's database: the server is shared with other test runs.
EXPORT_LOCKS = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE l.locktype = 'advisory' AND d.datname = current_database() "
    "AND l.classid = $1"
)
ADMIN_EXPORT = "/api/admin/exports/articles"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # One row per chunk: a few articles make a stream of several chunks to stop between.
    return base_settings(tmp_path, database_url, exports={"batch_rows": 1, "max_per_worker": 2})


def checked_out(app: FastAPI) -> int:
    """Connections the app's pool has handed out and not had back."""
    count: int = app.state.database.engine.sync_engine.pool.checkedout()
    return count


def running(app: FastAPI) -> int:
    gate: ExportGate = app.state.exports
    return gate.running


async def pg_export_locks(app: FastAPI) -> int:
    """Export locks held in the test database (Postgres), seen from outside the app."""
    url = app.state.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(EXPORT_LOCKS, LOCK_NAMESPACE)
    finally:
        await connection.close()
    return count


async def writer(client: httpx.AsyncClient, name: str = "alice", articles: int = 4) -> Person:
    person = await register(client, name)
    for number in range(articles):
        await make_article(client, person, title=f"Article {number}")
    return person


async def held(app: FastAPI, person: Person, path: str = EXPORT) -> HeldStream:
    stream = await HeldStream(app, path, person.auth).start()
    assert stream.status == 200
    assert not stream.finished
    return stream


async def test_a_second_export_while_the_first_streams_is_refused_with_409(
    client: httpx.AsyncClient, app: FastAPI, backend: str
) -> None:
    alice = await writer(client)
    bob = await register(client, "bob")
    first = await held(app, alice)

    second = await client.get(EXPORT, headers=alice.auth)

    assert_error(second, 409, "export")
    assert second.headers["retry-after"] == "30"
    # Someone else's export is not held up.
    export_lines(await client.get(EXPORT, headers=bob.auth))
    if backend == "postgres":
        assert await pg_export_locks(app) == 1
    await first.read_to_end()
    assert lines_of(bytes(first.body))[-1]["complete"] is True
    # Released with the last line: the next export is served.
    export_lines(await client.get(EXPORT, headers=alice.auth))
    assert checked_out(app) == 0
    if backend == "postgres":
        assert await pg_export_locks(app) == 0


async def test_an_admins_two_exports_share_the_one_per_user_rule(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    await writer(client)
    first = await held(app, admin, ADMIN_EXPORT)

    assert_error(await client.get(EXPORT, headers=admin.auth), 409, "export")
    assert_error(await client.get(ADMIN_EXPORT, headers=admin.auth), 409, "export")

    await first.read_to_end()
    export_lines(await client.get(EXPORT, headers=admin.auth))


@pytest.mark.parametrize("chunks_read", [0, 3], ids=["before-the-rows", "mid-cursor"])
async def test_a_client_that_goes_away_releases_the_connection_and_the_lock_at_once(
    client: httpx.AsyncClient, app: FastAPI, backend: str, chunks_read: int
) -> None:
    alice = await writer(client)
    stream = await held(app, alice)
    await stream.advance(chunks_read)  # header, profile, then articles from the open cursor
    assert checked_out(app) == 1
    assert running(app) == 1

    await stream.disconnect()

    assert checked_out(app) == 0
    assert running(app) == 0
    if backend == "postgres":
        assert await pg_export_locks(app) == 0
    lines = export_lines(await client.get(EXPORT, headers=alice.auth))
    assert lines[-1]["complete"] is True


async def test_exports_end_with_an_incomplete_last_line_when_the_server_shuts_down(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await writer(client)
    stream = await held(app, alice)

    app.state.lifecycle.close()
    await stream.read_to_end()

    assert stream.finished
    lines = lines_of(bytes(stream.body))
    assert lines[-1] == {
        "type": "end",
        "complete": False,
        "lines": lines[-1]["lines"],
        "reason": "the server is shutting down",
    }
    assert lines[-1]["lines"] < 1 + 4
    assert checked_out(app) == 0
    assert running(app) == 0


async def test_a_client_that_stopped_reading_is_cut_off_at_shutdown(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await writer(client)
    stream = await held(app, alice)  # and never read again

    app.state.lifecycle.close()
    await stream.wait()  # the app returns by itself, shortly after closing

    assert not stream.finished
    assert checked_out(app) == 0
    assert running(app) == 0


async def test_a_worker_streams_at_most_max_per_worker_exports(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    people = [await writer(client, name, articles=2) for name in ("alice", "bob", "carol")]
    streams = [await held(app, person) for person in people[:2]]

    refused = await client.get(EXPORT, headers=people[2].auth)

    assert_error(refused, 503, "export")
    assert refused.headers["retry-after"] == "30"
    for stream in streams:
        await stream.read_to_end()
    export_lines(await client.get(EXPORT, headers=people[2].auth))


# ---------------------------------------------------------------- Postgres: across workers
# Workers share the lock through Postgres; SQLite serves from one process.
postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
async def second_worker(settings: Settings) -> AsyncIterator[FastAPI]:
    """Another app on the same database, as another worker process of the fleet would be."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        yield other


@postgres_only
async def test_another_worker_refuses_an_export_already_running_elsewhere(
    client: httpx.AsyncClient, app: FastAPI, second_worker: FastAPI
) -> None:
    alice = await writer(client)
    transport = httpx.ASGITransport(app=second_worker)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as elsewhere:
        first = await held(app, alice)

        refused = await elsewhere.get(EXPORT, headers=alice.auth)

        assert_error(refused, 409, "export")
        assert checked_out(second_worker) == 0
        await first.disconnect()
        export_lines(await elsewhere.get(EXPORT, headers=alice.auth))


@postgres_only
async def test_a_database_failure_mid_export_ends_it_with_an_incomplete_last_line(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await writer(client)
    stream = await held(app, alice)
    url = app.state.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'pressroom' "
            "AND state = 'idle in transaction'"
        )
    finally:
        await admin.close()
    assert ended == 1

    await stream.read_to_end()

    last = lines_of(bytes(stream.body))[-1]
    assert last["complete"] is False
    assert "database" in last["reason"]
    assert checked_out(app) == 0
    assert await pg_export_locks(app) == 0
    export_lines(await client.get(EXPORT, headers=alice.auth))


async def test_the_exports_connection_goes_back_to_the_pool_fit_for_writing(
    database_url: str, tmp_path: Path
) -> None:
    # One connection in the pool: the export's read-only, repeatable-read connection is the
    # very one the next write gets.
    one_connection = {"pool_size": 1, "max_overflow": 0}
    application = create_app(base_settings(tmp_path, database_url, database=one_connection))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            alice = await writer(http, articles=1)
            export_lines(await http.get(EXPORT, headers=alice.auth))

            await make_article(http, alice, title="Written after the export")
            lines = export_lines(await http.get(EXPORT, headers=alice.auth))

    assert "Written after the export" in [line.get("title") for line in lines]


async def test_an_export_reads_one_snapshot_taken_when_it_starts(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await writer(client, articles=2)
    bob = await register(client, "bob")
    stream = await held(app, alice)  # the first line sent: the snapshot is taken

    # Written while the export runs: after its snapshot, so not in it.
    late = await make_article(client, alice, title="Too late")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    updated = await client.put(
        "/api/user", json={"user": {"bio": "changed mid-export"}}, headers=alice.auth
    )
    assert updated.status_code == 200, updated.text
    await stream.read_to_end()

    lines = lines_of(bytes(stream.body))
    assert [line["title"] for line in lines if line["type"] == "article"] == [
        "Article 0",
        "Article 1",
    ]
    assert late["slug"] not in stream.body.decode()
    assert [line for line in lines if line["type"] == "follow"] == []
    assert lines[1]["bio"] is None
    assert bob.username not in stream.body.decode()
    # The next export sees it all.
    again = export_lines(await client.get(EXPORT, headers=alice.auth))
    assert [line["title"] for line in again if line["type"] == "article"][-1] == "Too late"
