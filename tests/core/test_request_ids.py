"""Request ids: a sane incoming one is kept, anything else replaced; echoed on every answer."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI, Request

from pressroom.core.request_ids import current_request_id

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_an_id_is_made_when_none_is_sent(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/no-such-route")
    second = await client.get("/api/no-such-route")

    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["abc", "trace-1.2_3", "A" * 128])
async def test_a_sane_incoming_id_is_echoed(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/api/no-such-route", headers={"X-Request-ID": sent})

    assert response.headers.get_list("x-request-id") == [sent]


@pytest.mark.parametrize("sent", ["", "A" * 129, "has space", "semi;colon", "<script>", "é"])
async def test_an_insane_incoming_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/api/no-such-route", headers={b"X-Request-ID": sent.encode()})

    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_the_id_is_available_to_the_app(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def which_id(request: Request) -> dict[str, str | None]:
        return {"state": request.state.request_id, "context": current_request_id()}

    app.add_api_route("/api/which-id", which_id)

    response = await client.get("/api/which-id", headers={"X-Request-ID": "trace-7"})

    assert response.json() == {"state": "trace-7", "context": "trace-7"}
    assert current_request_id() is None  # nothing leaks out of the request


async def test_an_internal_error_answers_with_the_request_id_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret detail: postgres://admin:hunter2@db")

    app.add_api_route("/api/explode", explode)

    response = await client.get("/api/explode", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.json() == {"errors": {"server": ["internal error (request id trace-500)"]}}
    assert response.headers["x-request-id"] == "trace-500"
    assert response.headers["content-type"] == "application/json"
