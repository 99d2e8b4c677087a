"""`pressroom seed`: what a user of the seeded API sees, on SQLite and on Postgres."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom import seeding
from pressroom.articles import slugs
from pressroom.cli import main
from pressroom.core.db import Database
from pressroom.core.settings import Settings
from pressroom.users.models import User

SMALL = seeding.SeedPlan(
    articles=30,
    users=6,
    comments_per_article=2,
    favorites_per_article=2,
    follows_per_user=2,
    days=30,
    seed_value=7,
)
VARIANT = re.compile(r"^(?P<base>.+)-[0-9a-f]{8}$")


async def all_articles(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get("/api/articles", params={"limit": "100", **params})
    assert response.status_code == 200, response.text
    listing: dict[str, Any] = response.json()
    return listing


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


async def usernames(app: FastAPI) -> list[str]:
    database: Database = app.state.database
    async with database.session(readonly=True) as session:
        return list(await session.scalars(select(User.username)))


def moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def follows_slug_rules(slug: str, title: str) -> bool:
    base = slugs.base_slug(title)
    variant = VARIANT.match(slug)
    return slug == base or (variant is not None and variant["base"] == base)


async def test_the_api_lists_what_was_seeded(settings: Settings, client: httpx.AsyncClient) -> None:
    result = await seeding.seed(settings, SMALL)

    listing = await all_articles(client)
    articles = listing["articles"]
    assert listing["articlesCount"] == len(articles) == result.articles == 30
    assert len({article["slug"] for article in articles}) == 30
    assert all(follows_slug_rules(article["slug"], article["title"]) for article in articles)
    assert all(1 <= len(article["tagList"]) <= 4 for article in articles)
    assert any(len(article["tagList"]) > 1 for article in articles)

    created = sorted(moment(article["createdAt"]) for article in articles)
    now = datetime.now(UTC)
    assert created[-1] <= now
    assert created[0] < now - timedelta(days=1)

    tags = (await client.get("/api/tags")).json()["tags"]
    assert set(tags) == {tag for article in articles for tag in article["tagList"]}
    by_tag = await all_articles(client, tag=tags[0])
    assert by_tag["articlesCount"] == sum(tags[0] in article["tagList"] for article in articles)

    comments = 0
    for article in articles:
        response = await client.get(f"/api/articles/{article['slug']}/comments")
        assert response.status_code == 200
        comments += len(response.json()["comments"])
    assert comments == result.comments > 0


async def test_favorites_count_is_the_number_of_fans(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient
) -> None:
    result = await seeding.seed(settings, SMALL)

    fans: Counter[str] = Counter()
    for username in await usernames(app):
        favorited = await all_articles(client, favorited=username)
        fans.update(article["slug"] for article in favorited["articles"])
    articles = (await all_articles(client))["articles"]
    assert {a["slug"]: a["favoritesCount"] for a in articles} == {
        a["slug"]: fans[a["slug"]] for a in articles
    }
    assert fans.total() == result.favorites > 0


async def test_the_demo_login_works_and_has_a_feed(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    result = await seeding.seed(settings, SMALL)

    assert (result.demo_email, result.password) == ("demo@example.com", seeding.DEMO_PASSWORD)
    headers = await login(client, result.demo_email, result.password)
    feed = (await client.get("/api/articles/feed", headers=headers)).json()
    assert feed["articlesCount"] > 0
    assert all(article["author"]["following"] for article in feed["articles"])


async def test_seeding_again_appends_without_collisions(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await seeding.seed(settings, SMALL)
    # Registered by hand under the name the next run would pick for its demo user:
    # "demo" and the id after the highest, which this very account is about to take.
    next_demo = f"demo{len(await usernames(app)) + 2}"
    taken = {"username": next_demo, "email": f"{next_demo}@example.com", "password": "long-enough"}
    assert (await client.post("/api/users", json={"user": taken})).status_code == 201

    second = await seeding.seed(settings, SMALL)

    assert second.demo_username.startswith(f"{next_demo}x")
    assert second.demo_email not in {first.demo_email, taken["email"]}
    await login(client, first.demo_email, first.password)
    await login(client, second.demo_email, second.password)
    await login(client, taken["email"], taken["password"])
    articles = (await all_articles(client))["articles"]
    assert len(articles) == len({article["slug"] for article in articles}) == 60
    # The same seed value wrote the same titles again: every title shows up an even number of times.
    assert all(count % 2 == 0 for count in Counter(a["title"] for a in articles).values())


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """`pressroom <args>` in this process; its exit code."""
    monkeypatch.setattr(sys, "argv", ["pressroom", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 1


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    ("database_url", "args", "message"),
    [
        (None, [], "the database schema is not migrated: run `pressroom migrate` first"),
        (
            "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
            [],
            "cannot connect to the database: ",
        ),
        (None, ["--password", "short"], "the password must have 8 to 256 characters"),
    ],
    ids=["unmigrated", "unreachable", "short-password"],
)
def test_seed_refuses_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str | None,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path))
    if database_url is not None:
        monkeypatch.setenv("PRESSROOM_DATABASE__URL", database_url)

    code = run_main(monkeypatch, "seed", "--articles", "5", *args)

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: {message}")


@pytest.mark.usefixtures("clean_environment")
def test_seed_command_prints_the_demo_login(
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copy(sqlite_template, tmp_path / "pressroom.db")  # the default file in the data dir
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path))

    code = run_main(monkeypatch, "seed", "--articles", "5", "--users", "3", "--seed-value", "1")

    out = capsys.readouterr().out
    assert code == 0
    assert "seeded 3 users, 5 articles" in out
    assert "(seed value 1)" in out
    assert out.rstrip().endswith(f"demo login: demo@example.com / {seeding.DEMO_PASSWORD}")
    with sqlite3.connect(tmp_path / "pressroom.db") as connection:
        assert connection.execute("SELECT count(*) FROM articles").fetchone() == (5,)
    connection.close()


async def test_seed_command_in_its_own_process(
    settings: Settings, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    inherited = {key: value for key, value in os.environ.items() if "PRESSROOM_" not in key}
    env = {
        **inherited,
        "PRESSROOM_DATA_DIR": str(tmp_path),
        "PRESSROOM_DATABASE__URL": settings.database_url,
    }
    args = ["seed", "--articles", "12", "--users", "4", "--seed-value", "3"]
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [sys.executable, "-m", "pressroom", *args], env=env, cwd=tmp_path, check=False
        )
    stdout, stderr = done.stdout.decode(), done.stderr.decode()

    assert done.returncode == 0, stderr
    assert "seeded 4 users, 12 articles" in stdout
    found = re.search(r"^demo login: (\S+) / (\S+)$", stdout, re.MULTILINE)
    assert found is not None, stdout
    await login(client, found[1], found[2])
    assert (await all_articles(client))["articlesCount"] == 12
