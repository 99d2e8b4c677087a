"""What one worker does, every other worker sees: data, rate limit budgets, ended sessions."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, Person, assert_error, make_article, register
from tests.fleet.cluster import Cluster

pytestmark = pytest.mark.slow


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )


async def works(client: httpx.AsyncClient, person: Person) -> bool:
    response = await client.get("/api/user", headers=person.auth)
    if response.status_code == 401:
        assert_error(response, 401, "token", "is invalid")
        return False
    assert response.status_code == 200, response.text
    return True


async def test_the_login_budget_is_one_for_the_whole_fleet(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    alice = await register(workers[0], "alice")

    # login_per_account is left at its default, 5 per 15 minutes, counted in Redis.
    answers = [await login(workers[i % len(workers)], alice.email, f"guess-{i}") for i in range(8)]

    assert [a.status_code for a in answers] == [401] * 5 + [429] * 3, cluster.logs()
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"5"}
    assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    for refused in answers[5:]:
        assert_error(refused, 429, "rate_limit")
        assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    # The right password, on any worker, waits like the guesses.
    for client in workers:
        assert_error(await login(client, alice.email, PASSWORD), 429, "rate_limit")
    assert cluster.redis_keys()


async def test_a_write_through_one_worker_is_read_through_the_others(
    workers: list[httpx.AsyncClient],
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    bob = await register(b, "bob")

    article = await make_article(a, alice, title="Across the fleet", tagList=["fleet"])
    slug = article["slug"]
    read = await b.get(f"/api/articles/{slug}")
    assert read.status_code == 200, read.text
    assert read.json()["article"]["body"] == "the body"
    listed = await c.get("/api/articles", params={"tag": "fleet"})
    assert [x["slug"] for x in listed.json()["articles"]] == [slug]

    commented = await b.post(
        f"/api/articles/{slug}/comments",
        json={"comment": {"body": "seen from b"}},
        headers=bob.auth,
    )
    assert commented.status_code == 201, commented.text
    comments = (await c.get(f"/api/articles/{slug}/comments")).json()["comments"]
    assert [x["body"] for x in comments] == ["seen from b"]

    followed = await c.post("/api/profiles/alice/follow", headers=bob.auth)
    assert followed.status_code == 200, followed.text
    profile = await a.get("/api/profiles/alice", headers=bob.auth)
    assert profile.json()["profile"]["following"] is True
    feed = await b.get("/api/articles/feed", headers=bob.auth)
    assert [x["slug"] for x in feed.json()["articles"]] == [slug]


async def test_an_ended_session_is_refused_by_every_worker(
    workers: list[httpx.AsyncClient],
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    laptop_login = await login(b, alice.email, PASSWORD)
    phone_login = await login(c, alice.email, PASSWORD)
    laptop = Person(alice.username, alice.email, laptop_login.json()["user"]["token"])
    phone = Person(alice.username, alice.email, phone_login.json()["user"]["token"])
    for client in workers:
        assert await works(client, laptop)

    # Logged out through A: B and C refuse the token at once; the other sessions live on.
    assert (await a.post("/api/auth/logout", headers=laptop.auth)).status_code == 204
    for client in workers:
        assert not await works(client, laptop)
        assert await works(client, phone)

    # A new password set through B ends every other session, on every worker.
    changed = await b.put(
        "/api/user", json={"user": {"password": "a brand new password"}}, headers=phone.auth
    )
    assert changed.status_code == 200, changed.text
    for client in workers:
        assert not await works(client, alice)
        assert await works(client, phone)

    # Logged out everywhere through C: A refuses the last token.
    assert (await c.post("/api/auth/logout-all", headers=phone.auth)).status_code == 204
    for client in workers:
        assert not await works(client, phone)
