"""Conditional requests and cached answers for the public reads.

For the GET routes of articles, lists, the feed, comments, profiles and tags:

- every 200 answer carries a weak `ETag` (a hash of its body), `Cache-Control` and `Vary`;
  a matching `If-None-Match` gets a 304 without a body;
- an anonymous answer (no `Authorization`, no `X-API-Key`) is served from the cache when its
  counters still match (core/cache/versions.py), before routing, dependencies or the database;
  a miss goes through the app as usual and its answer is stored.

Requests that carry credentials are never answered from the cache: their answers hold
per-viewer fields (`favorited`, `following`) and always come from the database. The layer sits
inside the rate limits and the hardening layer (request ids, security headers, access log,
metrics), which see a cached answer like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.core.cache import Cache, versions

ETAG = b"etag"
CACHE_CONTROL = b"cache-control"
PUBLIC = b"public, max-age=0, must-revalidate"
PRIVATE = b"private, no-cache"
VARY = (b"vary", b"Authorization, X-API-Key")
JSON_TYPE = (b"content-type", b"application/json")
CREDENTIALS = frozenset({b"authorization", b"x-api-key"})
MAX_KEY = 1024
API = "/api/"


def etag_of(body: bytes) -> bytes:
    # SHA-256 runs in hardware on current CPUs: 2-3 times faster than BLAKE2 or MD5 here.
    return b'W/"' + sha256(body).hexdigest()[:32].encode() + b'"'


def none_match(header: bytes, etag: bytes) -> bool:
    """Whether `If-None-Match: header` matches `etag` (weak comparison, RFC 9110 13.1.2)."""
    header = header.strip()
    if header == b"*":
        return True
    opaque = etag.removeprefix(b"W/")
    return any(part.strip().removeprefix(b"W/") == opaque for part in header.split(b","))


# The route template each family's path matches: a cached answer is labelled with it (metrics).
TEMPLATES = {
    "tags": "/api/tags",
    "articles": "/api/articles",
    "feed": "/api/articles/feed",
    "article": "/api/articles/{slug}",
    "comments": "/api/articles/{slug}/comments",
    "profile": "/api/profiles/{username}",
}


def family(path: str) -> tuple[str, list[str] | None] | None:
    """The read family of an API path, and the counters its cached answer depends on (None:
    answers are never cached); None for paths this layer leaves alone."""
    if not path.startswith(API):
        return None
    parts = path[len(API) :].split("/")
    found: tuple[str, list[str] | None] | None = None
    match parts:
        case ["tags"]:
            found = "tags", versions.for_lists()
        case ["articles"]:
            found = "articles", versions.for_lists()
        case ["articles", "feed"]:
            found = "feed", None
        case ["articles", slug] if slug:
            found = "article", versions.for_article(slug)
        case ["articles", slug, "comments"] if slug:
            found = "comments", versions.for_comments(slug)
        case ["profiles", username] if username:
            found = "profile", versions.for_profile(username)
    return found


def _pack(stamp: bytes, etag: bytes, body: bytes) -> bytes:
    return stamp + b"\n" + etag + b"\n" + body


class CachedReads:
    def __init__(self, app: ASGIApp, cache: Cache | None, routes: Sequence[Any] = ()) -> None:
        self.app = app
        self.cache = cache
        # The app's routes (filled in before the first request), so that a cached answer
        # carries the route a fresh one would match: metrics label it alike.
        self.app_routes = routes
        self._routes: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path: str = scope["path"]
        found = family(path.removeprefix(root) if root else path)
        if found is None:
            await self.app(scope, receive, send)
            return
        name, depends_on = found
        personal = False
        condition: bytes | None = None
        for header, value in scope["headers"]:
            if header in CREDENTIALS:
                personal = True
            elif header == b"if-none-match":
                condition = value
        cache = self.cache
        key = stamp = None
        if cache is not None and not personal and depends_on is not None:
            key = f"a:{path}?{scope['query_string'].decode('latin-1')}"
            if len(key) <= MAX_KEY:
                values = await cache.store.get_many([*depends_on, key])
                if values is not None:
                    stamp = b" ".join(value or b"0" for value in values[:-1])
                    entry = values[-1].split(b"\n", 2) if values[-1] is not None else ()
                    if len(entry) == 3 and entry[0] == stamp:
                        scope["route"] = self.routes.get(name)
                        await _answer(send, entry[1], entry[2], PUBLIC, condition)
                        return
        fresh = await self._through_app(scope, receive, send, personal, condition)
        if fresh is None or key is None or stamp is None or cache is None:
            return  # not a 200, not anonymous, or the cache is off or down
        if len(fresh) <= cache.max_entry_bytes:
            await cache.store.set(key, _pack(stamp, etag_of(fresh), fresh))

    @property
    def routes(self) -> dict[str, Any]:
        if self._routes is None:
            by_path = {
                getattr(route, "path", None): route
                for route in self.app_routes
                if "GET" in (getattr(route, "methods", None) or ())
            }
            self._routes = {name: by_path.get(path) for name, path in TEMPLATES.items()}
        return self._routes

    async def _through_app(
        self, scope: Scope, receive: Receive, send: Send, personal: bool, condition: bytes | None
    ) -> bytes | None:
        """Runs the app; a 200 answer is held until complete, then sent with its validators
        (or as a 304). Returns the body of a 200, None for any other answer."""
        start: Message | None = None
        parts: list[bytes] = []
        done = False

        async def send_held(message: Message) -> None:
            nonlocal start, done
            if message["type"] == "http.response.start" and message["status"] == 200:
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            done = True
            body = b"".join(parts)
            etag = etag_of(body)
            control = PRIVATE if personal else PUBLIC
            if condition is not None and none_match(condition, etag):
                await _not_modified(send, etag, control)
                return
            headers = [*start.get("headers", ()), (ETAG, etag), (CACHE_CONTROL, control), VARY]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_held)
        return b"".join(parts) if start is not None and done else None


async def _answer(
    send: Send, etag: bytes, body: bytes, control: bytes, condition: bytes | None
) -> None:
    if condition is not None and none_match(condition, etag):
        await _not_modified(send, etag, control)
        return
    headers = [
        (b"content-length", b"%d" % len(body)),
        JSON_TYPE,
        (ETAG, etag),
        (CACHE_CONTROL, control),
        VARY,
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _not_modified(send: Send, etag: bytes, control: bytes) -> None:
    headers = [(ETAG, etag), (CACHE_CONTROL, control), VARY]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
