"""The unfiltered articlesCount comes from a trigger-kept total: it must equal a real count."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from pressroom.articles.models import Article, Counter
from pressroom.core.settings import Settings
from pressroom.users.models import User
from tests.conftest import base_settings
from tests.factories import make_article, register


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The test deletes rows straight in the database, past the events that invalidate the
    # read cache (docs/caching.md): it reads the database's own count.
    return base_settings(tmp_path, database_url, cache={"enabled": False})


async def _kept_and_real(app: FastAPI) -> tuple[int, int]:
    async with app.state.database.session(readonly=True) as session:
        kept = await session.scalar(select(Counter.value).where(Counter.name == "articles"))
        real = await session.scalar(select(func.count()).select_from(Article))
    assert kept is not None
    assert real is not None
    return kept, real


async def test_total_stays_exact_through_concurrent_writes_and_cascades(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    created = await asyncio.gather(
        *(
            make_article(client, person, title=f"Post {n}")
            for n in range(6)
            for person in (alice, bob)
        )
    )
    for article in created[:3]:
        author = alice if article["author"]["username"] == "alice" else bob
        response = await client.delete(f"/api/articles/{article['slug']}", headers=author.auth)
        assert response.status_code == 204
    assert await _kept_and_real(app) == (9, 9)
    assert (await client.get("/api/articles")).json()["articlesCount"] == 9

    # Deleting a user removes their articles by ON DELETE CASCADE: the total follows.
    async with app.state.database.session() as session:
        await session.execute(delete(User).where(User.username == "bob"))
    kept, real = await _kept_and_real(app)
    assert kept == real < 9
    assert (await client.get("/api/articles")).json()["articlesCount"] == real
