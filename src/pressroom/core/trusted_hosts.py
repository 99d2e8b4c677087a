"""Answer only to the configured host names (`api.example.com`, `*.example.com`)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import parse_host_header


class TrustedHosts:
    """Starlette's host patterns, checked without its middleware: `core.hardening` answers a
    foreign `Host` with a 400 in the envelope, and never redirects to a `www.` name."""

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        hosts = [host.lower() for host in allowed_hosts]
        self.exact = frozenset(host for host in hosts if not host.startswith("*"))
        self.suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))

    def allows(self, host_header: bytes | None) -> bool:
        if host_header is None:
            return False
        parsed = parse_host_header(host_header.decode("latin-1"))
        host = parsed.host.lower() if parsed is not None else None
        return host is not None and (host in self.exact or host.endswith(self.suffixes))
