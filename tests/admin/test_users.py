"""Administering users: access, suspension, soft delete and restore, search, the audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.admin.models import AuditRecord
from pressroom.admin.repository import AdminRepository
from pressroom.users.models import User
from tests.factories import (
    BAD_TOKEN,
    TIMESTAMP,
    Person,
    assert_error,
    db_rows,
    login,
    make_admin,
    make_article,
    make_comment,
    register,
)

ROUTES = [
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users/bob/suspend"),
    ("POST", "/api/admin/users/bob/unsuspend"),
    ("DELETE", "/api/admin/users/bob"),
    ("POST", "/api/admin/users/bob/restore"),
    ("DELETE", "/api/admin/articles/{slug}"),
    ("DELETE", "/api/admin/comments/{comment_id}"),
    ("GET", "/api/admin/audit"),
]
USER_KEYS = {"id", "username", "email", "role", "createdAt", "suspendedAt", "deletedAt"}


async def audit_rows(app: FastAPI) -> list[tuple[Any, ...]]:
    query = select(
        AuditRecord.actor_id, AuditRecord.action, AuditRecord.target_type, AuditRecord.target_id
    )
    return await db_rows(app, query.order_by(AuditRecord.id))


async def user_id(app: FastAPI, username: str) -> int:
    rows = await db_rows(app, select(User.id).where(User.username == username))
    return int(rows[0][0])


async def admin_call(
    client: httpx.AsyncClient, admin: Person, method: str, path: str
) -> httpx.Response:
    return await client.request(method, path, headers=admin.auth)


@pytest.fixture
async def admin(client: httpx.AsyncClient, app: FastAPI) -> Person:
    return await make_admin(client, app, "root")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Person:
    return await register(client, "bob")


# ---------------------------------------------------------------- access
async def test_every_admin_route_refuses_anonymous_bad_token_and_plain_users(
    client: httpx.AsyncClient, bob: Person
) -> None:
    article = await make_article(client, bob)
    comment = await make_comment(client, bob, article["slug"])
    for method, template in ROUTES:
        path = template.format(slug=article["slug"], comment_id=comment["id"])
        assert_error(await client.request(method, path), 401, "token", "is missing")
        assert_error(await client.request(method, path, headers=BAD_TOKEN), 401, "token")
        forbidden = await client.request(method, path, headers=bob.auth)
        assert_error(forbidden, 403, "scope", "requires admin")
        assert 'error="insufficient_scope"' in forbidden.headers["WWW-Authenticate"]
    # Nothing happened to bob or his content.
    assert (await client.get(f"/api/articles/{article['slug']}")).status_code == 200
    assert (await login(client, bob.email)).status_code == 200


async def test_an_admin_token_from_before_the_promotion_has_no_admin_scope(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    early = await register(client, "early")
    from pressroom.admin.service import AdminAccounts

    async with app.state.database.session() as session:
        await AdminAccounts(session, app.state.passwords).promote("early")
    assert_error(await client.get("/api/admin/users", headers=early.auth), 403, "scope")
    fresh = (await login(client, early.email)).json()["user"]["token"]
    response = await client.get("/api/admin/users", headers={"Authorization": f"Token {fresh}"})
    assert response.status_code == 200


async def test_every_admin_route_works_for_an_admin(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, bob: Person
) -> None:
    article = await make_article(client, bob)
    comment = await make_comment(client, bob, article["slug"])
    expected = [200, 200, 200, 200, 200, 204, 204, 200]
    # The comment goes before its article (which would take it along).
    order = [0, 1, 2, 3, 4, 6, 5, 7]
    for index in order:
        method, template = ROUTES[index]
        path = template.format(slug=article["slug"], comment_id=comment["id"])
        response = await admin_call(client, admin, method, path)
        assert response.status_code == expected[index], (path, response.text)
    actions = [row[1] for row in await audit_rows(app)]
    assert actions == [
        "user.promote",
        "user.suspend",
        "user.unsuspend",
        "user.delete",
        "user.restore",
        "comment.delete",
        "article.delete",
    ]


# ---------------------------------------------------------------- suspension
async def test_suspending_ends_sessions_and_refuses_login(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, bob: Person
) -> None:
    assert (await client.get("/api/user", headers=bob.auth)).status_code == 200

    response = await admin_call(client, admin, "POST", "/api/admin/users/BOB/suspend")

    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert user["username"] == "bob"
    assert user["role"] == "user"
    assert TIMESTAMP.match(user["suspendedAt"])
    assert user["deletedAt"] is None
    assert_error(await client.get("/api/user", headers=bob.auth), 401, "token", "is invalid")
    assert_error(await login(client, bob.email), 403, "account", "is suspended")
    rows = await audit_rows(app)
    assert rows[-1] == (await user_id(app, "root"), "user.suspend", "user", "bob")


async def test_suspending_twice_changes_nothing_and_records_once(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, bob: Person
) -> None:
    first = await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")
    second = await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")
    assert first.json() == second.json()
    assert [row[1] for row in await audit_rows(app)].count("user.suspend") == 1


async def test_unsuspending_lets_the_user_log_in_again(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, bob: Person
) -> None:
    await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")

    response = await admin_call(client, admin, "POST", "/api/admin/users/bob/unsuspend")

    assert response.status_code == 200
    assert response.json()["user"]["suspendedAt"] is None
    again = await login(client, bob.email)
    assert again.status_code == 200
    token = {"Authorization": f"Token {again.json()['user']['token']}"}
    assert (await client.get("/api/user", headers=token)).status_code == 200
    # The old session stays ended: suspension is not undone by lifting it.
    assert (await client.get("/api/user", headers=bob.auth)).status_code == 401
    assert (await audit_rows(app))[-1][1] == "user.unsuspend"


@pytest.mark.parametrize(("method", "action"), [("POST", "/suspend"), ("DELETE", "")])
async def test_an_admin_cannot_suspend_or_delete_themselves(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, method: str, action: str
) -> None:
    response = await admin_call(client, admin, method, f"/api/admin/users/Root{action}")

    assert_error(response, 409, "user", "cannot suspend or delete your own account")
    assert (await client.get("/api/user", headers=admin.auth)).status_code == 200
    assert [row[1] for row in await audit_rows(app)] == ["user.promote"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/admin/users/nobody/suspend"),
        ("POST", "/api/admin/users/nobody/unsuspend"),
        ("DELETE", "/api/admin/users/nobody"),
        ("POST", "/api/admin/users/nobody/restore"),
    ],
)
async def test_unknown_users_are_404_and_leave_no_audit_record(
    client: httpx.AsyncClient, app: FastAPI, admin: Person, method: str, path: str
) -> None:
    assert_error(await admin_call(client, admin, method, path), 404, "user", "not found")
    assert [row[1] for row in await audit_rows(app)] == ["user.promote"]


async def test_a_failed_audit_write_undoes_the_change(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin: Person,
    bob: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: AdminRepository, record: AuditRecord) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(AdminRepository, "record", broken)

    response = await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")

    assert response.status_code == 500
    rows = await db_rows(app, select(User.suspended_at).where(User.username == "bob"))
    assert rows == [(None,)]
    assert (await client.get("/api/user", headers=bob.auth)).status_code == 200


# ---------------------------------------------------------------- listing
async def test_users_are_searched_by_username_or_email_ignoring_case(
    client: httpx.AsyncClient, admin: Person
) -> None:
    await register(client, "Alice_Smith", email="alice@corp.example.com")
    await register(client, "bob", email="bob@SMITHS.example.org")
    await register(client, "carol", email="carol@example.com")
    await register(client, "percent", email="per%cent@example.com")

    async def usernames(**params: Any) -> tuple[list[str], int]:
        response = await client.get("/api/admin/users", params=params, headers=admin.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"users", "usersCount"}
        return [user["username"] for user in body["users"]], body["usersCount"]

    assert await usernames(q="SMITH") == (["bob", "Alice_Smith"], 2)
    assert await usernames(q="corp") == (["Alice_Smith"], 1)
    # LIKE wildcards in the search are taken literally ("a_o" would match "carol").
    assert await usernames(q="%") == (["percent"], 1)
    assert await usernames(q="a_o") == ([], 0)
    assert await usernames(q="e_s") == (["Alice_Smith"], 1)
    assert await usernames(q="nobody") == ([], 0)
    everyone, total = await usernames()
    assert total == 5
    assert everyone == ["percent", "carol", "bob", "Alice_Smith", "root"]  # newest first
    assert await usernames(limit=2, offset=1) == (["carol", "bob"], 5)
    assert await usernames(limit=2, offset=10) == ([], 5)


async def test_users_are_filtered_by_state(client: httpx.AsyncClient, admin: Person) -> None:
    for name in ("active", "paused", "gone", "paused-gone"):
        await register(client, name)
    for name in ("paused", "paused-gone"):
        await admin_call(client, admin, "POST", f"/api/admin/users/{name}/suspend")
    for name in ("gone", "paused-gone"):
        await admin_call(client, admin, "DELETE", f"/api/admin/users/{name}")

    async def usernames(**params: Any) -> set[str]:
        response = await client.get("/api/admin/users", params=params, headers=admin.auth)
        assert response.status_code == 200, response.text
        assert response.json()["usersCount"] == len(response.json()["users"])
        return {user["username"] for user in response.json()["users"]}

    assert await usernames() == {"root", "active", "paused"}
    assert await usernames(include_deleted="true") == {
        "root",
        "active",
        "paused",
        "gone",
        "paused-gone",
    }
    assert await usernames(status="active") == {"root", "active"}
    assert await usernames(status="suspended") == {"paused"}
    assert await usernames(status="suspended", include_deleted="true") == {"paused", "paused-gone"}
    assert await usernames(status="deleted") == {"gone", "paused-gone"}
    assert_error(
        await client.get("/api/admin/users?status=banned", headers=admin.auth), 422, "status"
    )


# ---------------------------------------------------------------- the audit log
async def test_the_audit_log_lists_newest_first_by_action_and_page(
    client: httpx.AsyncClient, admin: Person, bob: Person
) -> None:
    await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")
    await admin_call(client, admin, "POST", "/api/admin/users/bob/unsuspend")
    await admin_call(client, admin, "POST", "/api/admin/users/bob/suspend")

    response = await client.get("/api/admin/audit", headers=admin.auth)
    body = response.json()
    assert body["auditRecordsCount"] == 4
    records = body["auditRecords"]
    assert [r["action"] for r in records] == [
        "user.suspend",
        "user.unsuspend",
        "user.suspend",
        "user.promote",
    ]
    newest = records[0]
    assert newest["actor"] == "root"
    assert newest["targetType"] == "user"
    assert newest["targetId"] == "bob"
    assert newest["details"] == {"sessionsRevoked": 0}  # the first suspension ended the one
    assert records[2]["details"] == {"sessionsRevoked": 1}
    assert TIMESTAMP.match(newest["createdAt"])
    promotion = records[3]
    assert (promotion["actor"], promotion["actorId"]) == (None, None)  # the CLI's service

    filtered = await client.get(
        "/api/admin/audit", params={"action": "user.suspend", "limit": 1}, headers=admin.auth
    )
    assert filtered.json()["auditRecordsCount"] == 2
    assert [r["id"] for r in filtered.json()["auditRecords"]] == [newest["id"]]
    past = await client.get("/api/admin/audit", params={"offset": 50}, headers=admin.auth)
    assert past.json() == {"auditRecords": [], "auditRecordsCount": 4}
