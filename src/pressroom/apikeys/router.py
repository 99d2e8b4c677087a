"""API keys for machine clients: made, listed and revoked with a session token only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from pressroom.apikeys import schemas
from pressroom.apikeys.dependencies import ApiKeyId, ApiKeyServiceDep
from pressroom.apikeys.models import ApiKey
from pressroom.apikeys.secrets import PUBLIC_PREFIX
from pressroom.auth.dependencies import SessionCaller
from pressroom.core.errors import error_responses
from pressroom.core.models import isoformat
from pressroom.core.responses import json_response

router = APIRouter(prefix="/auth/api-keys", tags=["api-keys"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _optional_time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


def _key(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": f"{PUBLIC_PREFIX}{row.prefix}",
        "scopes": row.scopes.split(),
        "createdAt": isoformat(row.created_at),
        "expiresAt": _optional_time(row.expires_at),
        "lastUsedAt": _optional_time(row.last_used_at),
        "revokedAt": _optional_time(row.revoked_at),
    }


@router.post(
    "",
    summary="Make an API key (its secret is in this answer only)",
    status_code=201,
    response_model=schemas.CreatedApiKeyResponse,
    responses=error_responses(401, 403, 409, 422),
)
async def create_api_key(
    body: schemas.NewApiKeyRequest, caller: SessionCaller, service: ApiKeyServiceDep
) -> Response:
    """Needs a session token: an API key cannot make keys. The key's scopes are a subset of
    the caller's own; at most 20 live (neither revoked nor expired) keys per account."""
    new = body.api_key
    created = await service.create(
        caller.id, caller.role, name=new.name, scopes=new.scopes, expires_at=new.expires_at
    )
    answer = {**_key(created.row), "key": created.plaintext}
    return json_response({"apiKey": answer}, status_code=201, headers=_NO_STORE)


@router.get(
    "",
    summary="The caller's API keys, revoked and expired ones included (never their secrets)",
    response_model=schemas.MultipleApiKeysResponse,
    responses=error_responses(401, 403),
)
async def list_api_keys(caller: SessionCaller, service: ApiKeyServiceDep) -> Response:
    rows = await service.list(caller.id)
    return json_response({"apiKeys": [_key(row) for row in rows]})


@router.delete(
    "/{key_id}",
    summary="Revoke one of the caller's API keys: it stops working at once",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_api_key(
    key_id: ApiKeyId, caller: SessionCaller, service: ApiKeyServiceDep
) -> Response:
    await service.revoke(caller.id, key_id)
    return Response(status_code=204)
