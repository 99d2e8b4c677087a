from __future__ import annotations

import httpx
from sqlalchemy import select

from pressroom.core.settings import Settings
from pressroom.main import create_app
from pressroom.users.models import User
from tests.factories import PASSWORD, register


async def _stored_hash(settings: Settings, username: str) -> str:
    app = create_app(settings)
    async with app.router.lifespan_context(app), app.state.database.session(readonly=True) as db:
        stored = await db.scalar(select(User.password_hash).where(User.username == username))
    assert isinstance(stored, str)
    return stored


async def test_login_upgrades_a_hash_made_with_weaker_parameters(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await register(client, "alice")
    assert "t=2" in await _stored_hash(settings, "alice")

    stronger = settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"argon2_time_cost": 3})}
    )
    app = create_app(stronger)
    login = {"user": {"email": "alice@example.com", "password": PASSWORD}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as upgraded:
            assert (await upgraded.post("/api/users/login", json=login)).status_code == 200
            # The upgraded hash was stored, and it still verifies the same password.
            assert "t=3" in await _stored_hash(stronger, "alice")
            assert (await upgraded.post("/api/users/login", json=login)).status_code == 200


async def test_failed_login_changes_no_hash(client: httpx.AsyncClient, settings: Settings) -> None:
    await register(client, "alice")
    before = await _stored_hash(settings, "alice")
    wrong = {"user": {"email": "alice@example.com", "password": "not the password"}}
    assert (await client.post("/api/users/login", json=wrong)).status_code == 401
    assert await _stored_hash(settings, "alice") == before
