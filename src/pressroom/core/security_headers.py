"""Security headers on every answer, errors included.

The header lists are built once: a request only picks one of them (API or docs page, HTTPS or
not, authenticated or not) and appends it to the answer's headers.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]

# API answers are JSON: nothing in them may load, run or be framed.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc (core/docs.py) load their scripts, styles and the schema from this
# origin; Swagger UI starts with an inline script, both set inline styles, ReDoc draws its
# logo from data: URIs and runs a blob: web worker.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    b"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
COMMON: Headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
NO_STORE = (b"cache-control", b"no-store")
# Either one makes an answer personal: no cache along the way may keep it.
CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key"})


def _carries_credentials(scope: Scope) -> bool:
    return any(name in CREDENTIAL_HEADERS for name, _ in scope["headers"])


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts_max_age: int, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        hsts = [(b"strict-transport-security", b"max-age=%d" % hsts_max_age)] * (hsts_max_age > 0)
        # [docs page][https][authenticated]
        self.headers: list[list[list[Headers]]] = [
            [
                [
                    [*COMMON, (b"content-security-policy", csp), *(hsts if https else [])]
                    + ([NO_STORE] if authenticated else [])
                    for authenticated in (False, True)
                ]
                for https in (False, True)
            ]
            for csp in (API_CSP, DOCS_CSP)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authenticated = _carries_credentials(scope)
        https = scope.get("scheme") == "https"
        extra = self.headers[self._is_docs_page(scope)][https][authenticated]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                if authenticated:  # no-store replaces whatever caching the answer allowed
                    headers = [item for item in headers if item[0].lower() != b"cache-control"]
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _is_docs_page(self, scope: Scope) -> bool:
        if not self.docs_paths:
            return False
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        return (path.removeprefix(root) if root else path) in self.docs_paths
