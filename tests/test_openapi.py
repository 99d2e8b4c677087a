"""The OpenAPI schema documents every operation fully, and every change to it is deliberate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from pressroom.main import create_app
from tests.conftest import base_settings
from tests.core import ENDPOINTS, Endpoint

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
REGENERATE = ".venv/bin/pressroom openapi -o docs/openapi.json"
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
SCHEMA: dict[str, Any] = create_app(base_settings(Path("unused"))).openapi()
OPERATIONS: dict[str, dict[str, Any]] = {
    f"{method.upper()} {path}": operation
    for path, item in SCHEMA["paths"].items()
    if path.startswith("/api/")
    for method, operation in item.items()
}
ERROR_CODES = {"400", "401", "403", "404", "409", "422", "429"}
# The OAuth2 token endpoints take forms (RFC 6749), everything else JSON.
FORM = "application/x-www-form-urlencoded"
FORM_BODIES = {"POST /api/auth/token", "POST /api/auth/refresh"}
# Outcomes that depend on who owns what or on what is taken: no signature reveals them.
FORBIDDEN_FOR_NON_AUTHORS = [
    "PUT /api/articles/{slug}",
    "DELETE /api/articles/{slug}",
    "DELETE /api/articles/{slug}/comments/{comment_id}",
]
CONFLICT_ON_TAKEN_NAMES = ["POST /api/users", "PUT /api/user"]
# Answers that are a stream of text, not one JSON document.
EVENT_STREAMS = {"GET /api/events"}

each_operation = pytest.mark.parametrize("name", sorted(OPERATIONS))


def _json_schema(response_or_body: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response_or_body["content"]["application/json"]["schema"]
    return schema


def _component(ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    component: dict[str, Any] = SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return component


def test_every_api_route_is_documented() -> None:
    assert set(OPERATIONS) == {str(endpoint) for endpoint in ENDPOINTS}


@each_operation
def test_every_operation_has_a_tag_and_a_summary(name: str) -> None:
    operation = OPERATIONS[name]
    assert operation.get("tags"), name
    assert operation.get("summary", "").strip(), name


@each_operation
def test_the_success_response_is_typed(name: str) -> None:
    responses = OPERATIONS[name]["responses"]
    successes = [code for code in responses if code.startswith("2")]
    assert len(successes) == 1, (name, successes)
    response = responses[successes[0]]
    if successes[0] == "204":
        assert "content" not in response
    elif name in EVENT_STREAMS:
        assert response["content"]["text/event-stream"]["schema"] == {"type": "string"}
    else:
        assert _component(_json_schema(response)["$ref"])["type"] == "object"


@each_operation
def test_every_error_response_is_the_envelope(name: str) -> None:
    errors = {code: r for code, r in OPERATIONS[name]["responses"].items() if code[0] in "45"}
    assert set(errors) <= ERROR_CODES, name
    for code, response in errors.items():
        assert _json_schema(response) == {"$ref": ENVELOPE_REF}, (name, code)


def test_the_envelope_schema_is_a_map_of_message_lists() -> None:
    envelope = _component(ENVELOPE_REF)
    assert envelope["required"] == ["errors"]
    assert envelope["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_fastapi_validation_error_shape_is_not_advertised() -> None:
    # The app never answers in FastAPI's {"detail": [...]} shape, so the schema must not say so.
    assert not {"HTTPValidationError", "ValidationError"} & set(SCHEMA["components"]["schemas"])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_operations_that_read_a_token_declare_it_and_its_401(endpoint: Endpoint) -> None:
    operation = OPERATIONS[str(endpoint)]
    if endpoint.reads_token:
        assert {"ConduitToken": []} in operation["security"]
        assert "401" in operation["responses"]
    else:
        assert "security" not in operation


def test_swagger_ui_can_authorize_with_a_bearer_token() -> None:
    schemes = SCHEMA["components"]["securitySchemes"]
    assert schemes["ConduitToken"]["type"] == "http"
    assert schemes["ConduitToken"]["scheme"] == "bearer"


@each_operation
def test_operations_with_input_declare_422_and_with_a_path_404(name: str) -> None:
    operation = OPERATIONS[name]
    responses = operation["responses"]
    has_input = bool(operation.get("parameters")) or "requestBody" in operation
    assert ("422" in responses) == has_input, name
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        assert "404" in responses, name


@pytest.mark.parametrize("name", FORBIDDEN_FOR_NON_AUTHORS)
def test_author_only_operations_declare_403(name: str) -> None:
    assert "403" in OPERATIONS[name]["responses"]


@pytest.mark.parametrize("name", CONFLICT_ON_TAKEN_NAMES)
def test_operations_that_can_take_a_name_declare_409(name: str) -> None:
    assert "409" in OPERATIONS[name]["responses"]


@each_operation
def test_request_bodies_are_typed_and_required(name: str) -> None:
    body = OPERATIONS[name].get("requestBody")
    if body is not None:
        assert body["required"] is True
        media = FORM if name in FORM_BODIES else "application/json"
        assert list(body["content"]) == [media], name
        assert _component(body["content"][media]["schema"]["$ref"])["type"] == "object"


def _types(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from schema.get("anyOf", [schema])


@each_operation
def test_parameters_document_their_bounds(name: str) -> None:
    for parameter in OPERATIONS[name].get("parameters", []):
        for schema in _types(parameter["schema"]):
            if schema["type"] == "string":
                assert "maxLength" in schema, (name, parameter["name"])
            if schema["type"] == "integer":
                assert {"minimum", "maximum"} <= set(schema), (name, parameter["name"])


def _differences(live: Any, committed: Any, where: str = "") -> Iterator[str]:
    if isinstance(live, dict) and isinstance(committed, dict):
        for key in sorted(set(live) | set(committed)):
            if key not in committed:
                yield f"added {where}/{key}"
            elif key not in live:
                yield f"removed {where}/{key}"
            else:
                yield from _differences(live[key], committed[key], f"{where}/{key}")
    elif live != committed:
        yield f"changed {where or '/'}"


def test_the_committed_snapshot_is_the_live_schema() -> None:
    assert SNAPSHOT.exists(), f"no {SNAPSHOT.name}: run `{REGENERATE}`"
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    differences = list(_differences(SCHEMA, committed))
    assert not differences, (
        f"the API changed; if that is deliberate, run `{REGENERATE}` and commit the result:\n"
        + "\n".join(differences[:30])
    )


# The contract's "optional" endpoints: a token personalises the answer but is not required.
OPTIONAL_AUTH = [
    "GET /api/articles",
    "GET /api/articles/{slug}",
    "GET /api/articles/{slug}/comments",
    "GET /api/events",
    "GET /api/profiles/{username}",
]


@each_operation
def test_optional_authentication_is_documented_as_optional(name: str) -> None:
    # An empty requirement `{}` means "or no credentials at all".
    security = OPERATIONS[name].get("security", [])
    assert ({} in security) == (name in OPTIONAL_AUTH), security


def test_operation_ids_are_the_route_function_names() -> None:
    app = create_app(base_settings(Path("unused")))
    names = {
        f"{method} {context.path}": context.original_route.name
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and (context.path or "").startswith("/api/")
        for method in context.methods or ()
    }
    assert {name: operation["operationId"] for name, operation in OPERATIONS.items()} == names


def test_the_optional_endpoints_are_the_contracts() -> None:
    optional = {str(e) for e in ENDPOINTS if e.reads_token and not e.requires_auth}
    assert optional == set(OPTIONAL_AUTH)
