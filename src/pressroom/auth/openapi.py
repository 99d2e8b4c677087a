"""The other credentials, as alternatives in the OpenAPI document.

Routes declare one security dependency (documented as OAuth2, with scopes). A request may
equally carry a Conduit `Token <jwt>` or an `X-API-Key`; this adds both schemes and lists them
beside OAuth2 on every operation that takes credentials.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PRIMARY = "OAuth2"
SCHEMES: dict[str, dict[str, Any]] = {
    "ConduitToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Paste the `token` from Conduit login or registration. Conduit clients "
        "send `Authorization: Token <jwt>`; `Bearer <jwt>` works too.",
    },
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key made at `POST /api/auth/api-keys` (`prk_...`). It grants "
        "the scopes chosen when it was made.",
    },
}


def add_alternatives(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    components.update(SCHEMES)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            security = operation.get("security")
            if not isinstance(security, list):
                continue
            for requirement in list(security):
                if PRIMARY in requirement:
                    scopes = requirement[PRIMARY]
                    at = security.index(requirement) + 1
                    security[at:at] = [{"ConduitToken": []}, {"ApiKey": list(scopes)}]
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_alternatives(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
