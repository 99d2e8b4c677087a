"""Container health check: GET a path (default /healthz) on the local Pressroom server.

The slim image has no curl, so this is Python with the standard library only: it starts fast and
needs nothing from the application. Exit 0 on a 200, 1 otherwise, as Docker's HEALTHCHECK expects.

The server answers only to its allowed host names (`PRESSROOM_SECURITY__ALLOWED_HOSTS`), so the
request carries the first of them (a `*.example.com` pattern becomes `health.example.com`), or
`localhost` when any host is allowed.
"""

from __future__ import annotations

import http.client
import os
import sys

TIMEOUT_SECONDS = 4.0


def host_header(allowed_hosts: str) -> str:
    """A Host the server accepts, from the allowed hosts (a comma-separated or JSON list)."""
    for entry in allowed_hosts.strip().strip("[]").split(","):
        name = entry.strip().strip("\"'")
        if name and name != "*":
            return "health" + name[1:] if name.startswith("*.") else name
    return "localhost"


def check(path: str) -> int:
    port = int(os.environ.get("PRESSROOM_SERVER__PORT", "8000"))
    host = host_header(os.environ.get("PRESSROOM_SECURITY__ALLOWED_HOSTS", ""))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", path, headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"unhealthy: {path}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"unhealthy: {path} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else "/healthz"))
