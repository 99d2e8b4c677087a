"""Shared by the core tests: the app's API endpoints, a populated world, the envelope check.

The endpoint list comes from `app.routes`, so a new route is swept by the hostile-input and
error-envelope tests without anyone remembering to add it.
"""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from pressroom.auth import account_tokens
from pressroom.auth.dependencies import current_caller, optional_caller
from pressroom.auth.models import AccountToken
from pressroom.main import create_app
from pressroom.users.repository import UserRepository
from tests.conftest import base_settings
from tests.factories import PASSWORD, Person, make_admin, make_article, make_comment, register


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: Mapping[str, bool]  # name -> takes an integer
    text_query_params: tuple[str, ...]  # free text (not a number, a flag or a choice)
    body_model: type[BaseModel] | None
    reads_token: bool
    requires_auth: bool
    pattern: re.Pattern[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _takes_int(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return int in typing.get_args(annotation)
    return annotation is int


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_in(arg)
        if model is not None:
            return model
    return None


def _takes_text(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_text(arg) for arg in typing.get_args(annotation))
    if typing.get_origin(annotation) is typing.Annotated:
        return _takes_text(typing.get_args(annotation)[0])
    return annotation is str


def _query(param: Any) -> Iterator[tuple[str, bool]]:
    """(name, takes an integer) of a query parameter, or of each field of a query model."""
    annotation = param.field_info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield field.alias or name, _takes_int(field.annotation)
    else:
        yield param.alias, _takes_int(annotation)


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list or any(
        _is_list(arg) for arg in typing.get_args(annotation)
    )


def _endpoint(method: str, path: str, pattern: re.Pattern[str], root: Dependant) -> Endpoint:
    dependants = list(_dependants(root))
    bodies = [
        _model_in(param.field_info.annotation) for dep in dependants for param in dep.body_params
    ]
    calls = {dep.call for dep in dependants}
    return Endpoint(
        method=method,
        path=path,
        path_params=tuple(param.alias for dep in dependants for param in dep.path_params),
        query_params=dict(
            item for dep in dependants for param in dep.query_params for item in _query(param)
        ),
        text_query_params=tuple(
            param.alias
            for dep in dependants
            for param in dep.query_params
            if _takes_text(param.field_info.annotation)
        )
        + tuple(
            field.alias or name
            for dep in dependants
            for param in dep.query_params
            if isinstance(param.field_info.annotation, type)
            and issubclass(param.field_info.annotation, BaseModel)
            for name, field in param.field_info.annotation.model_fields.items()
            if _takes_text(field.annotation)
        ),
        body_model=bodies[0] if bodies else None,
        reads_token=optional_caller in calls or current_caller in calls,
        requires_auth=current_caller in calls,
        pattern=pattern,
    )


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) under /api, as the router and the OpenAPI generator see them."""
    endpoints = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not isinstance(context.original_route, APIRoute) or not path.startswith("/api/"):
            continue
        for method in sorted(context.methods or ()):
            endpoints.append(_endpoint(method, path, context.path_regex, context.dependant))
    return endpoints


# Built once at import, so that tests can be parametrized by endpoint; never started.
ENDPOINTS = api_endpoints(create_app(base_settings(Path("unused"))))


def endpoints(**where: bool) -> list[Endpoint]:
    """The endpoints with the given flags: `endpoints(has_body=True, reads_token=True)`."""
    flags: dict[str, Callable[[Endpoint], bool]] = {
        "has_body": lambda e: e.body_model is not None,
        "has_query": lambda e: bool(e.query_params),
        "has_text_query": lambda e: bool(e.text_query_params),
        "has_path_params": lambda e: bool(e.path_params),
        "reads_token": lambda e: e.reads_token,
        "requires_auth": lambda e: e.requires_auth,
    }
    return [e for e in ENDPOINTS if all(flags[name](e) == value for name, value in where.items())]


@dataclass
class World:
    """One user, their article (tagged "news") and their comment on it: every path resolves.

    The user is an admin, so that the admin routes parse their input too.
    """

    author: Person
    slug: str
    comment_id: int

    def path(self, endpoint: Endpoint, **overrides: str) -> str:
        values = {
            "slug": self.slug,
            "username": self.author.username,
            "comment_id": str(self.comment_id),
            "key_id": "1",
            "session_id": "s" * 22,  # shaped like one; no such session
            **overrides,
        }
        # Any other id (a session, a key) is one that does not exist: "1".
        return endpoint.path.format(
            **{name: values.get(name, "1") for name in endpoint.path_params}
        )


async def make_world(client: httpx.AsyncClient, app: FastAPI) -> World:
    author = await make_admin(client, app, "alice")
    article = await make_article(client, author, title="Hostile input", tagList=["news"])
    comment = await make_comment(client, author, article["slug"])
    await _mailed_tokens(client, app)
    return World(author=author, slug=article["slug"], comment_id=comment["id"])


# Tokens as if mailed to another user (a reset ends the author's sessions otherwise).
WORLD_RESET_TOKEN = "world-reset-token"
WORLD_VERIFY_TOKEN = "world-verify-token"


async def _mailed_tokens(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client, "mailbob")
    async with app.state.database.session() as session:
        user = await UserRepository(session).get_by_username("mailbob")
        assert user is not None
        for token, purpose in (
            (WORLD_RESET_TOKEN, account_tokens.PASSWORD_RESET),
            (WORLD_VERIFY_TOKEN, account_tokens.VERIFY_EMAIL),
        ):
            session.add(
                AccountToken(
                    token_hash=account_tokens.token_hash(token),
                    user_id=user.id,
                    purpose=purpose,
                    fingerprint=account_tokens.fingerprint(purpose, user),
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )


# ---------------------------------------------------------------- request bodies
VALID_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/users/login": {"user": {"email": "alice@example.com", "password": PASSWORD}},
    "POST /api/users": {
        "user": {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    },
    "PUT /api/user": {"user": {"bio": "Prints things."}},
    "POST /api/articles": {
        "article": {"title": "Fresh", "description": "new", "body": "text", "tagList": ["news"]}
    },
    "PUT /api/articles/{slug}": {"article": {"body": "Edited"}},
    "POST /api/articles/{slug}/comments": {"comment": {"body": "Well said"}},
    "POST /api/auth/api-keys": {
        "apiKey": {
            "name": "deploy bot",
            "scopes": ["articles:write"],
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
    },
    "POST /api/auth/password-reset": {"user": {"email": "mailbob@example.com"}},
    "POST /api/auth/password-reset/confirm": {"token": WORLD_RESET_TOKEN, "password": PASSWORD},
    "POST /api/auth/verify-email": {"token": WORLD_VERIFY_TOKEN},
}
"""A body each endpoint accepts from the world's author; the hostile tests change one field."""


@dataclass(frozen=True)
class Leaf:
    """A field of a request body that holds a value, not another object."""

    at: tuple[str, ...]  # wire names from the top: ("article", "tagList")
    is_list: bool
    required: bool


def leaves(model: type[BaseModel], at: tuple[str, ...] = ()) -> list[Leaf]:
    """Every value field of a request model, by its wire name."""
    found = []
    for name, field in model.model_fields.items():
        where = (*at, field.alias or name)
        inner = _model_in(field.annotation)
        if inner is not None:
            found.extend(leaves(inner, where))
        else:
            found.append(Leaf(where, _is_list(field.annotation), field.is_required()))
    return found


def with_raw(body: dict[str, Any], at: tuple[str, ...], raw: str | None) -> bytes:
    """`body` as JSON with the value at `at` replaced by the raw JSON text `raw` (None: removed).

    A lone surrogate in `raw` goes out as its three UTF-8-style bytes (ED A0 80): Python's
    JSON parser lets them through, so they must be refused by the field's validation.
    """
    hole = "@@hostile@@"
    document = copy.deepcopy(body)
    target = document
    for key in at[:-1]:
        target = target.setdefault(key, {})
    if raw is None:
        target.pop(at[-1], None)
    else:
        target[at[-1]] = hole
    text = json.dumps(document, ensure_ascii=False).replace(json.dumps(hole), raw or "")
    return text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- checking answers
def _shape_problem(body: Any, fields: tuple[str, ...]) -> str | None:
    if not isinstance(body, dict) or set(body) != {"errors"}:
        return "not the envelope"
    errors = body["errors"]
    if not isinstance(errors, dict) or not errors:
        return "no errors listed"
    for key, messages in errors.items():
        if not isinstance(messages, list) or not messages:
            return f"{key!r} has no list of messages"
        if not all(isinstance(message, str) and message for message in messages):
            return f"{key!r} has a message that is not text"
    missing = [name for name in fields if name not in errors]
    return f"errors do not name {missing}" if missing else None


def envelope_problem(
    response: httpx.Response, *fields: str, status_code: int | None = None
) -> str | None:
    """Why `response` is not a 4xx in the Conduit envelope naming `fields`; None when it is."""
    request = response.request
    where = f"{request.method} {str(request.url)[:120]} -> {response.status_code}"
    if not 400 <= response.status_code < 500:
        problem: str | None = "not a 4xx"
    elif status_code is not None and response.status_code != status_code:
        problem = f"expected {status_code}"
    elif response.headers.get("content-type") != "application/json":
        problem = f"content type {response.headers.get('content-type')!r}"
    else:
        try:
            problem = _shape_problem(response.json(), fields)
        except ValueError:
            problem = "body is not JSON"
    return f"{where}: {problem}: {response.text[:300]}" if problem else None


def assert_no_problems(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)
