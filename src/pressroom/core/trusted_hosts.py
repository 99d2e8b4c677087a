"""Answer only to the configured host names: a foreign `Host` gets a 400 in the envelope."""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import parse_host_header
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pressroom.core.errors import error_response


class TrustedHosts(TrustedHostMiddleware):
    """Starlette's host patterns (`api.example.com`, `*.example.com`), answered in the Conduit
    envelope, and never with a redirect to a `www.` name."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        super().__init__(app, allowed_hosts, www_redirect=False)
        self.exact = frozenset(host for host in self.allowed_hosts if not host.startswith("*"))
        self.suffixes = tuple(host[1:] for host in self.allowed_hosts if host.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parsed = parse_host_header(Headers(scope=scope).get("host"))
        host = parsed.host.lower() if parsed is not None else None
        if host is not None and (host in self.exact or host.endswith(self.suffixes)):
            await self.app(scope, receive, send)
            return
        await error_response(400, {"host": ["is not allowed"]})(scope, receive, send)
