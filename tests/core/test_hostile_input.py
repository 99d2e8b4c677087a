"""Nothing a client sends produces a 500: every endpoint, every field, every parameter.

Each test sends one family of hostile inputs to every endpoint it applies to (the list comes
from `app.routes`), authenticated as the author of the world's article so that bodies are
actually parsed, and reports every bad answer at once.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from tests.core import (
    VALID_BODIES,
    Endpoint,
    World,
    assert_no_problems,
    endpoints,
    envelope_problem,
    leaves,
    make_world,
    with_raw,
)

NOT_JSON = {"errors": {"body": ["is not valid JSON"]}}
DEEP = 100_000
UNPARSEABLE: dict[str, bytes] = {
    "garbage": b"{not json",
    "truncated": b'{"x": {"y": "z"',
    "trailing comma": b'{"x": 1,}',
    "trailing data": b"{} {}",
    "single quotes": b"{'x': 1}",
    "comment": b'{"x": 1 /* hi */}',
    "raw NUL byte in a string": b'{"x": "a\x00b"}',
    "invalid UTF-8": b'{"x": "\xff\xfe"}',
    "100k unclosed arrays": b"[" * DEEP,
    "5000-digit number": b'{"x": ' + b"9" * 5000 + b"}",
    "5000-digit number in a field": b'{"user": {"email": ' + b"9" * 5000 + b"}}",
}
TOO_DEEP_ANSWER = {"errors": {"body": ["is nested too deeply (maximum depth is 32)"]}}
TOO_DEEP: dict[str, bytes] = {
    "100k nested arrays": b"[" * DEEP + b"]" * DEEP,
    "100k nested objects": b'{"x":' * DEEP + b"1" + b"}" * DEEP,
    "100k nested arrays in a field": b'{"user": {"email": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
}
NOT_AN_OBJECT: dict[str, bytes] = {
    "empty": b"",
    "null": b"null",
    "array": b"[]",
    "array of objects": b"[{}]",
    "string": b'"user"',
    "number": b"42",
    "huge number": str(10**30).encode(),
    "true": b"true",
}
NOT_JSON_CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
]

# Raw JSON text put where a field's value goes.
WRAPPER_WRONG = ["null", "[]", "[{}]", '"text"', "42", "true"]
STRING_WRONG = [
    "42",
    "-1",
    "4.2",
    "true",
    "[]",
    '["text"]',
    "{}",
    '{"text": "x"}',
    str(10**30),
    "1e400",
    "NaN",
    "-Infinity",
    '"a\\u0000b"',
    '"\\u0000"',
    '"\\ud800"',
    '"x\\udfffx"',
    '"\\udc00\\ud800"',
    '"\ud800 sent as UTF-8 bytes"',
    '"' + "x" * 1_000_001 + '"',
]
LIST_WRONG = [
    '"news"',
    "42",
    "{}",
    "true",
    "[42]",
    "[null]",
    "[[]]",
    "[{}]",
    '["a\\u0000b"]',
    '["\\ud800"]',
    '["\ud800 sent as UTF-8 bytes"]',
    '["' + "t" * 33 + '"]',
    json.dumps([f"tag{n}" for n in range(51)]),
]

UNICODE: dict[str, str] = {
    "emoji": "Press 🦜📰 room",
    "emoji ZWJ sequence": "👩🏽‍💻 at work",
    "right-to-left": "مرحبا بالعالم",
    "RTL override": "\u202egnp.exe",
    "combining marks": "e\u0301 n\u0303 a\u030a",
    "zalgo": "Z" + "\u0336\u0337\u0338" * 10,
    "zero-width": "a\u200bb\u200cc\u200dd\u2060e",
    "only a zero-width space": "\u200b",
    "byte order mark": "\ufeffhello",
    "full-width": "ｐｒｅｓｓ１２３",
    "noncharacters": "\ufffe\uffff",
    "astral private use": "\U0010fffd",
    "replacement character": "\ufffd",
}


# ---------------------------------------------------------------- bodies
BODY_ENDPOINTS = endpoints(has_body=True)


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI) -> World:
    return await make_world(client, app)


async def send_raw(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    world: World,
    content: bytes,
    content_type: str | None = "application/json",
) -> httpx.Response:
    headers = {**world.author.auth, **({"Content-Type": content_type} if content_type else {})}
    return await client.request(
        endpoint.method, world.path(endpoint), content=content, headers=headers
    )


def test_every_endpoint_with_a_body_has_a_valid_example() -> None:
    assert {str(endpoint) for endpoint in BODY_ENDPOINTS} == set(VALID_BODIES)


async def test_a_body_that_is_not_a_json_object_is_422_naming_the_body(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in BODY_ENDPOINTS:
        for name, content in UNPARSEABLE.items():
            response = await send_raw(client, endpoint, world, content)
            if response.status_code != 422 or response.json() != NOT_JSON:
                problems.append(f"{endpoint} {name}: {response.status_code} {response.text[:200]}")
        for name, content in TOO_DEEP.items():
            response = await send_raw(client, endpoint, world, content)
            if response.status_code != 422 or response.json() != TOO_DEEP_ANSWER:
                problems.append(f"{endpoint} {name}: {response.status_code} {response.text[:200]}")
        for name, content in NOT_AN_OBJECT.items():
            response = await send_raw(client, endpoint, world, content)
            if problem := envelope_problem(response, "body", status_code=422):
                problems.append(f"{name}: {problem}")
        valid = json.dumps(VALID_BODIES[str(endpoint)]).encode()
        for content_type in [None, *NOT_JSON_CONTENT_TYPES]:
            response = await send_raw(client, endpoint, world, valid, content_type)
            if problem := envelope_problem(response, "body", status_code=422):
                problems.append(f"content type {content_type}: {problem}")
    assert_no_problems(problems)


def field_cases(endpoint: Endpoint) -> list[tuple[tuple[str, ...], str]]:
    """(where, raw JSON) for every wrong value of every field of the endpoint's body."""
    assert endpoint.body_model is not None
    fields = leaves(endpoint.body_model)
    cases = [
        (wrapper, raw) for wrapper in {leaf.at[:-1] for leaf in fields} for raw in WRAPPER_WRONG
    ]
    for leaf in fields:
        cases += [(leaf.at, raw) for raw in (LIST_WRONG if leaf.is_list else STRING_WRONG)]
    return cases


async def test_hostile_field_values_are_422_naming_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in BODY_ENDPOINTS:
        valid = VALID_BODIES[str(endpoint)]
        control = await send_raw(client, endpoint, world, json.dumps(valid).encode())
        assert control.status_code < 300, f"{endpoint} refuses its valid example: {control.text}"
        for at, raw in field_cases(endpoint):
            response = await send_raw(client, endpoint, world, with_raw(valid, at, raw))
            if problem := envelope_problem(response, at[-1], status_code=422):
                problems.append(f"{'.'.join(at)} = {raw[:40]}: {problem}")
    assert_no_problems(problems)


async def test_unicode_edge_cases_in_fields_never_fail_the_server(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in BODY_ENDPOINTS:
        assert endpoint.body_model is not None
        valid = VALID_BODIES[str(endpoint)]
        for leaf in leaves(endpoint.body_model):
            for name, text in UNICODE.items():
                raw = json.dumps([text[:32]] if leaf.is_list else text, ensure_ascii=False)
                response = await send_raw(client, endpoint, world, with_raw(valid, leaf.at, raw))
                if response.status_code < 300:
                    # A new title gives the article a new slug: keep addressing it.
                    world.slug = response.json().get("article", {}).get("slug", world.slug)
                elif problem := envelope_problem(response):
                    problems.append(f"{'.'.join(leaf.at)} = {name}: {problem}")
    assert_no_problems(problems)


async def test_unicode_text_comes_back_unchanged(client: httpx.AsyncClient, world: World) -> None:
    for name, text in UNICODE.items():
        fields = {"title": text, "description": text, "body": text, "tagList": [text[:32]]}
        created = await client.post(
            "/api/articles", json={"article": fields}, headers=world.author.auth
        )
        assert created.status_code == 201, (name, created.text)
        slug = created.json()["article"]["slug"]
        article = (await client.get(f"/api/articles/{quote(slug)}")).json()["article"]
        assert [article[key] for key in fields] == list(fields.values()), name
        found = await client.get("/api/articles", params={"tag": text[:32]})
        assert slug in [item["slug"] for item in found.json()["articles"]], name

        comment = await client.post(
            f"/api/articles/{quote(slug)}/comments",
            json={"comment": {"body": text}},
            headers=world.author.auth,
        )
        assert comment.json()["comment"]["body"] == text, name
        await client.put("/api/user", json={"user": {"bio": text}}, headers=world.author.auth)
        me = await client.get("/api/user", headers=world.author.auth)
        assert me.json()["user"]["bio"] == text, name


LINE_BREAKS: dict[str, str] = {
    "newline": "a\nb",
    "carriage return": "a\rb",
    "tab": "a\tb",
    "next line (C1)": "a\x85b",
    "C1 control": "a\x9bb",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
}


async def test_single_line_fields_refuse_line_breaks_but_bodies_keep_them(
    client: httpx.AsyncClient, world: World
) -> None:
    valid = VALID_BODIES["POST /api/articles"]["article"]
    problems = []
    for name, text in LINE_BREAKS.items():
        for field, value in [("title", text), ("tagList", [text])]:
            article = {**valid, field: value}
            response = await client.post(
                "/api/articles", json={"article": article}, headers=world.author.auth
            )
            if problem := envelope_problem(response, field, status_code=422):
                problems.append(f"{field} with {name}: {problem}")
        filtered = await client.get("/api/articles", params={"tag": text})
        if problem := envelope_problem(filtered, "tag", status_code=422):
            problems.append(f"tag filter with {name}: {problem}")
        article = {**valid, "body": text}
        created = await client.post(
            "/api/articles", json={"article": article}, headers=world.author.auth
        )
        if created.status_code != 201 or created.json()["article"]["body"] != text:
            problems.append(f"body with {name}: {created.status_code} {created.text:.200}")
    assert_no_problems(problems)


# ---------------------------------------------------------------- query parameters
INT_BAD: dict[str, str] = {
    "word": "ten",
    "empty": "",
    "decimal": "1.5",
    "exponent": "1e3",
    "negative": "-1",
    "10**30": str(10**30),
    "5000 digits": "9" * 5000,
    "full-width digits": "１０",
    "Arabic-Indic digits": "١٠",
    "superscript": "²",
    "hex": "0x10",
    "NaN": "nan",
    "infinity": "inf",
    "NUL": "1\x00",
    "emoji": "🔟",
}
TEXT_BAD: dict[str, str] = {
    "NUL": "a\x00b",
    "only NUL": "\x00",
    "newline": "a\nb",
    "escape": "a\x1bb",
    "too long": "a" * 1000,
}
# Percent-encoded bytes that are not UTF-8 reach the app as U+FFFD: unknown values, no error.
RAW_ODD: dict[str, str] = {
    "lone surrogate": "%ED%A0%80",
    "invalid UTF-8": "%FF%FE",
    "overlong NUL": "%C0%80",
}


def query_url(path: str, name: str, value: str, *, encoded: bool = False) -> str:
    return f"{path}?{name}={value if encoded else quote(value, safe='')}"


async def test_bad_query_values_are_422_naming_the_parameter(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in endpoints(has_query=True):
        for name, takes_int in endpoint.query_params.items():
            for label, value in (INT_BAD if takes_int else TEXT_BAD).items():
                url = query_url(world.path(endpoint), name, value)
                response = await client.get(url, headers=world.author.auth)
                if problem := envelope_problem(response, name, status_code=422):
                    problems.append(f"{name} = {label}: {problem}")
    assert_no_problems(problems)


async def test_odd_text_in_query_filters_finds_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    cases = {**{label: quote(text, safe="") for label, text in UNICODE.items()}, **RAW_ODD}
    problems = []
    # The event stream stays open (tests/live checks its filters): lists only.
    for endpoint in (e for e in endpoints(has_text_query=True) if str(e) != "GET /api/events"):
        for name in endpoint.text_query_params:
            for label, value in cases.items():
                url = query_url(world.path(endpoint), name, value, encoded=True)
                response = await client.get(url, headers=world.author.auth)
                # Every list answers its total as `<items>Count`: `articlesCount`, `usersCount`.
                counts = [v for k, v in response.json().items() if k.endswith("Count")]
                if response.status_code != 200 or counts != [0]:
                    problems.append(f"{name}={label}: {response.status_code} {response.text:.200}")
    assert_no_problems(problems)


# ---------------------------------------------------------------- path parameters
PATH_TEXT_BAD: dict[str, str] = {
    "NUL": "a%00b",
    "only NUL": "%00",
    "newline": "a%0Ab",
    "tab": "a%09b",
    "escape": "a%1Bb",
    "delete": "a%7Fb",
    "too long": "a" * 1000,
}
PATH_UNICODE = ["emoji ZWJ sequence", "right-to-left", "RTL override", "combining marks"]
PATH_UNICODE += ["zero-width", "byte order mark", "full-width", "noncharacters"]
PATH_TEXT_UNKNOWN: dict[str, str] = {
    **RAW_ODD,
    **{label: quote(UNICODE[label], safe="") for label in PATH_UNICODE},
    "encoded slash": "a%2Fb",
    "space": "%20",
}
PATH_ID_BAD: dict[str, str] = {
    "zero": "0",
    "negative": "-1",
    "decimal": "1.5",
    "exponent": "1e3",
    "word": "abc",
    "full-width digit": quote("１"),
    "Arabic-Indic digit": quote("١"),
    "10**20": str(10**20),
    "above 2**31-1": str(2**31),
    "5000 digits": "9" * 5000,
    "NUL": "1%00",
    "hex": "0x1",
}
# Outbox event ids are 64-bit (BIGINT: a busy outbox may pass 2**31): their bound is 2**63-1.
PATH_EVENT_ID_BAD = {
    **{label: value for label, value in PATH_ID_BAD.items() if label != "above 2**31-1"},
    "above 2**63-1": str(2**63),
}


def _bad_values(name: str) -> dict[str, str]:
    if name == "event_id":
        return PATH_EVENT_ID_BAD
    return PATH_ID_BAD if name.endswith("_id") else PATH_TEXT_BAD


async def _with_path_value(
    client: httpx.AsyncClient, world: World, endpoint: Endpoint, name: str, value: str
) -> httpx.Response:
    return await client.request(
        endpoint.method,
        world.path(endpoint, **{name: value}),
        json=VALID_BODIES.get(str(endpoint)),
        headers=world.author.auth,
    )


async def test_bad_path_values_are_422_naming_the_parameter(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in endpoints(has_path_params=True):
        for name in endpoint.path_params:
            for label, value in _bad_values(name).items():
                response = await _with_path_value(client, world, endpoint, name, value)
                if problem := envelope_problem(response, name, status_code=422):
                    problems.append(f"{name} = {label}: {problem}")
    assert_no_problems(problems)


async def test_odd_text_in_paths_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    problems = []
    for endpoint in endpoints(has_path_params=True):
        for name in [name for name in endpoint.path_params if not name.endswith("_id")]:
            for label, value in PATH_TEXT_UNKNOWN.items():
                response = await _with_path_value(client, world, endpoint, name, value)
                if problem := envelope_problem(response, status_code=404):
                    problems.append(f"{name} = {label}: {problem}")
    assert_no_problems(problems)
