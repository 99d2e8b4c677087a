"""`GET /api/admin/exports/articles`: every article, for the `admin` scope only.

Who may call it is swept with every admin route in tests/test_function_access.py.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from pressroom.exports import schemas
from tests.exports.shapes import export_lines, of_type
from tests.factories import assert_error, make_admin, make_article, register

EXPORT = "/api/admin/exports/articles"


async def test_every_article_is_exported_in_id_order_with_its_author(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    slugs = [
        (await make_article(client, alice, title="One", tagList=["x"]))["slug"],
        (await make_article(client, bob, title="Two"))["slug"],
        (await make_article(client, alice, title="Three"))["slug"],
    ]

    lines = export_lines(await client.get(EXPORT, headers=admin.auth), schemas.ArticlesExportLine)

    assert lines[0]["kind"] == "articles"
    articles = of_type(lines, "article")
    assert [a["slug"] for a in articles] == slugs
    assert [a["author"] for a in articles] == [
        {"username": "alice", "deleted": False},
        {"username": "bob", "deleted": False},
        {"username": "alice", "deleted": False},
    ]
    assert articles[0]["tagList"] == ["x"]
    assert lines[-1] == {"type": "end", "complete": True, "lines": 3}


async def test_articles_of_soft_deleted_authors_are_exported_flagged(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    bob = await register(client, "bob")
    await make_article(client, bob)
    await client.delete("/api/admin/users/bob", headers=admin.auth)

    lines = export_lines(await client.get(EXPORT, headers=admin.auth), schemas.ArticlesExportLine)

    assert [a["author"] for a in of_type(lines, "article")] == [
        {"username": "bob", "deleted": True}
    ]


async def test_an_empty_site_exports_only_the_first_and_last_lines(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)

    lines = export_lines(await client.get(EXPORT, headers=admin.auth), schemas.ArticlesExportLine)

    assert [line["type"] for line in lines] == ["export", "end"]


async def test_a_user_without_the_admin_scope_is_refused(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")

    assert_error(await client.get(EXPORT, headers=alice.auth), 403, "scope", "requires admin")
