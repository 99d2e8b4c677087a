"""What a credential may do: OAuth2 scopes, and which ones each role can hold."""

from __future__ import annotations

from collections.abc import Iterable

from pressroom.users.models import Role

ARTICLES_WRITE = "articles:write"
COMMENTS_WRITE = "comments:write"
PROFILE_WRITE = "profile:write"
ADMIN = "admin"

DESCRIPTIONS: dict[str, str] = {
    ARTICLES_WRITE: "Create, edit, delete and favorite articles",
    COMMENTS_WRITE: "Add and delete comments",
    PROFILE_WRITE: "Change your account and follow people",
    ADMIN: "Administer users and moderate content (admins only)",
}

USER_SCOPES = frozenset({ARTICLES_WRITE, COMMENTS_WRITE, PROFILE_WRITE})
_BY_ROLE: dict[str, frozenset[str]] = {
    Role.USER: USER_SCOPES,
    Role.ADMIN: USER_SCOPES | {ADMIN},
}


def for_role(role: str) -> frozenset[str]:
    """Every scope a user of this role may hold; an unknown role holds none."""
    return _BY_ROLE.get(role, frozenset())


def parse(text: str | None) -> frozenset[str]:
    """`"articles:write admin"` -> a set; unknown names are kept (callers validate)."""
    return frozenset(part for part in (text or "").split() if part)


def render(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))
