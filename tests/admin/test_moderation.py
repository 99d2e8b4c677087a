"""Admins delete anyone's articles and comments; each deletion is in the audit log."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.admin.models import AuditRecord
from tests.factories import assert_error, db_rows, make_admin, make_article, make_comment, register


async def test_an_admin_deletes_anyones_article(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await make_admin(client, app)
    bob = await register(client, "bob")
    article = await make_article(client, bob, title="Spam", tagList=["ads"])
    await make_comment(client, bob, article["slug"])
    await make_article(client, bob, title="Fine")

    response = await client.delete(f"/api/admin/articles/{article['slug']}", headers=admin.auth)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/articles/{article['slug']}")).status_code == 404
    listing = (await client.get("/api/articles")).json()
    assert [a["title"] for a in listing["articles"]] == ["Fine"]
    assert listing["articlesCount"] == 1
    assert (await client.get("/api/tags")).json()["tags"] == []
    rows = await db_rows(
        app, select(AuditRecord.action, AuditRecord.target_type, AuditRecord.target_id)
    )
    assert rows[-1] == ("article.delete", "article", article["slug"])


async def test_an_admin_deletes_anyones_comment(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await make_admin(client, app)
    bob = await register(client, "bob")
    article = await make_article(client, bob)
    rude = await make_comment(client, bob, article["slug"], "rude")
    await make_comment(client, bob, article["slug"], "polite")

    response = await client.delete(f"/api/admin/comments/{rude['id']}", headers=admin.auth)

    assert response.status_code == 204
    comments = (await client.get(f"/api/articles/{article['slug']}/comments")).json()
    assert [c["body"] for c in comments["comments"]] == ["polite"]
    rows = await db_rows(app, select(AuditRecord.action, AuditRecord.target_id))
    assert rows[-1] == ("comment.delete", str(rude["id"]))


async def test_unknown_content_is_404_and_leaves_no_audit_record(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)

    missing_article = await client.delete("/api/admin/articles/nothing-here", headers=admin.auth)
    missing_comment = await client.delete("/api/admin/comments/12345", headers=admin.auth)

    assert_error(missing_article, 404, "article", "not found")
    assert_error(missing_comment, 404, "comment", "not found")
    actions = await db_rows(app, select(AuditRecord.action))
    assert actions == [("user.promote",)]
