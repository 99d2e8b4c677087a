"""The security headers of every answer, built once: a request only picks its list.

`core.hardening` appends the list that fits the request (API answer or docs page, HTTPS or not,
carrying credentials or not).
"""

from __future__ import annotations

from collections.abc import Iterable

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


class SecurityHeaders:
    def __init__(self, *, hsts_max_age: int, docs_paths: Iterable[str] = ()) -> None:
        self.docs_paths = frozenset(docs_paths)
        hsts = [(b"strict-transport-security", b"max-age=%d" % hsts_max_age)] * (hsts_max_age > 0)
        # [docs page][https][authenticated]
        self._table: list[list[list[Headers]]] = [
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

    def for_request(self, path: str, root_path: str, *, https: bool, personal: bool) -> Headers:
        docs = (
            bool(self.docs_paths)
            and (path.removeprefix(root_path) if root_path else path) in self.docs_paths
        )
        return self._table[docs][https][personal]


def with_security_headers(
    headers: Iterable[tuple[bytes, bytes]], extra: Headers, *, personal: bool
) -> Headers:
    """The answer's headers plus `extra`; for a personal answer, no-store replaces whatever
    caching the answer allowed, unless it allowed only a private cache (core/cache: a
    personal read may be revalidated with its ETag, never kept by a shared cache)."""
    if personal:
        kept = [
            item
            for item in headers
            if item[0].lower() != b"cache-control" or item[1].startswith(b"private")
        ]
        if any(item[0].lower() == b"cache-control" for item in kept):
            return kept + [item for item in extra if item != NO_STORE]
        return kept + extra
    return [*headers, *extra]
