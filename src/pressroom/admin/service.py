"""Administration: users (suspend, soft delete, restore), moderation, the audit log.

Every change writes its audit record in the same transaction, so the log never shows a change
that was rolled back and never misses one that was committed. A request that changes nothing
(suspending a suspended user) answers the current state and records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.admin.errors import CannotActOnSelf, DeadLetterNotFound
from pressroom.admin.models import AuditRecord
from pressroom.admin.repository import AdminRepository, DeadLetter, UserFilters
from pressroom.apikeys.repository import ApiKeyRepository
from pressroom.articles import events as article_events
from pressroom.articles.errors import ArticleNotFound
from pressroom.articles.repository import ArticleRepository
from pressroom.auth.passwords import Passwords
from pressroom.auth.repository import SessionRepository
from pressroom.comments import events as comment_events
from pressroom.comments.errors import CommentNotFound
from pressroom.comments.repository import CommentRepository
from pressroom.core.models import utcnow
from pressroom.users import events as user_events
from pressroom.users import schemas as user_schemas
from pressroom.users.errors import UserNotFound
from pressroom.users.models import Role, User
from pressroom.users.service import UserService

# Changes to an account that other readers see (a soft delete hides all its content).
MODERATION = frozenset({"user.suspend", "user.unsuspend", "user.delete", "user.restore"})


@dataclass(frozen=True, slots=True)
class UserPage:
    users: Sequence[User]
    count: int


@dataclass(frozen=True, slots=True)
class DeadLetterPage:
    dead_letters: Sequence[DeadLetter]
    count: int


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: Sequence[tuple[AuditRecord, str | None]]
    count: int


class AdminService:
    """What an admin (`actor_id`) may do; one transaction, the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.admin = AdminRepository(session)
        self.sessions = SessionRepository(session)
        self.api_keys = ApiKeyRepository(session)

    async def list_users(self, filters: UserFilters, *, limit: int, offset: int) -> UserPage:
        """Users matching the filters, newest first, in any state the filters allow."""
        users, count = await self.admin.users_page(filters, limit=limit, offset=offset)
        return UserPage(users, count)

    async def suspend(self, actor_id: int, username: str) -> User:
        """Suspend a user and end every session: their next request is a 401."""
        user = await self._target(actor_id, username, refuse_self=True)
        if user.suspended_at is not None:
            return user
        now = utcnow()
        user.suspended_at = now
        revoked = await self.sessions.revoke_all(user.id, now)
        await self.audit_user(actor_id, "user.suspend", user, {"sessionsRevoked": revoked}, now)
        return user

    async def unsuspend(self, actor_id: int, username: str) -> User:
        """Let a suspended user log in again (their API keys work again too)."""
        user = await self._target(actor_id, username)
        if user.suspended_at is None:
            return user
        now = utcnow()
        user.suspended_at = None
        await self.audit_user(actor_id, "user.unsuspend", user, None, now)
        return user

    async def delete(self, actor_id: int, username: str) -> User:
        """Soft delete: the user vanishes from every public answer and loses every session
        and API key; the rows stay (so the name and email stay taken) until a restore."""
        user = await self._target(actor_id, username, refuse_self=True)
        if user.deleted_at is not None:
            return user
        now = utcnow()
        user.deleted_at = now
        articles = await self.admin.articles_by(user.id)
        await self.admin.adjust_article_total(-articles)
        details = {
            "articles": articles,
            "sessionsRevoked": await self.sessions.revoke_all(user.id, now),
            "apiKeysRevoked": await self.api_keys.revoke_all(user.id, now),
        }
        await self.audit_user(actor_id, "user.delete", user, details, now)
        return user

    async def restore(self, actor_id: int, username: str) -> User:
        """Undo a soft delete: profile, articles and comments are public again. Sessions and
        API keys revoked by the delete stay revoked: the user logs in again."""
        user = await self._target(actor_id, username)
        if user.deleted_at is None:
            return user
        now = utcnow()
        user.deleted_at = None
        articles = await self.admin.articles_by(user.id)
        await self.admin.adjust_article_total(articles)
        await self.audit_user(actor_id, "user.restore", user, {"articles": articles}, now)
        return user

    async def delete_article(self, actor_id: int, slug: str) -> None:
        """Delete anyone's article, with its comments, favorites and tag links."""
        article = await self.admin.article(slug)
        if article is None:
            raise ArticleNotFound()
        author = await self.admin.lock_user(article.author_id)
        articles = ArticleRepository(self.session)
        view = await articles.reads.view(article.id, None)
        await articles.delete(article.id)
        if view is not None:
            await article_events.article_written(
                self.session, article_events.DELETED, article.id, view
            )
        if author is not None and author.deleted_at is not None:
            # The delete trigger took one off the total, which never counted this article.
            await self.admin.adjust_article_total(1)
        details = {"title": article.title, "author": article.author}
        await self._record(actor_id, "article.delete", "article", article.slug, details, utcnow())

    async def delete_comment(self, actor_id: int, comment_id: int) -> None:
        """Delete anyone's comment."""
        comment = await self.admin.comment(comment_id)
        if comment is None:
            raise CommentNotFound()
        await CommentRepository(self.session).delete(comment.id)
        await comment_events.comment_deleted(
            self.session, comment.id, comment.article_id, comment.slug, comment.author
        )
        details = {"article": comment.slug, "author": comment.author}
        await self._record(
            actor_id, "comment.delete", "comment", str(comment.id), details, utcnow()
        )

    async def dead_letters(self, *, limit: int, offset: int) -> DeadLetterPage:
        """Outbox events the relay gave up on, most recently dead first."""
        letters, count = await self.admin.dead_letters_page(limit=limit, offset=offset)
        return DeadLetterPage(letters, count)

    async def retry_dead_letter(self, actor_id: int, event_id: int) -> DeadLetter:
        """Queue a dead letter for delivery again, with a fresh count of attempts."""
        revived = await self.admin.revive_dead_letter(event_id)
        if revived is None:
            raise DeadLetterNotFound()
        before, after = revived
        details = {"kind": before.kind, "key": before.key, "attempts": before.attempts}
        await self._record(
            actor_id, "outbox.retry", "outbox_event", str(event_id), details, utcnow()
        )
        return after

    async def audit_log(self, action: str | None, *, limit: int, offset: int) -> AuditPage:
        """Audit records, newest first."""
        records, count = await self.admin.audit_page(action, limit=limit, offset=offset)
        return AuditPage(records, count)

    async def _target(self, actor_id: int, username: str, *, refuse_self: bool = False) -> User:
        user = await self.admin.user_for_update(username)
        if user is None:
            raise UserNotFound()
        if refuse_self and user.id == actor_id:
            raise CannotActOnSelf()
        return user

    async def audit_user(
        self, actor_id: int | None, action: str, user: User, details: Any, now: datetime
    ) -> None:
        user.updated_at = now
        await self._record(actor_id, action, "user", user.username, details, now)
        if action in MODERATION:
            await user_events.moderated(self.session, user.id, user.username, action)

    async def _record(
        self,
        actor_id: int | None,
        action: str,
        target_type: str,
        target_id: str,
        details: Any,
        now: datetime,
    ) -> None:
        await self.admin.record(
            AuditRecord(
                actor_id=actor_id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                details=None if details is None else orjson.dumps(details).decode(),
                created_at=now,
            )
        )


@dataclass(frozen=True, slots=True)
class Promotion:
    user: User
    changed: bool


class AdminAccounts:
    """Making admins, for `pressroom create-admin`: no caller, so the audit actor is null."""

    def __init__(self, session: AsyncSession, passwords: Passwords) -> None:
        self.users = UserService(session, passwords)
        self.service = AdminService(session)

    async def create(self, data: user_schemas.NewUser) -> User:
        """Register an account (the same rules as the API's registration) as an admin."""
        user = await self.users.register(data)
        user.role = Role.ADMIN
        await self.service.audit_user(
            None, "user.create_admin", user, {"email": user.email}, utcnow()
        )
        return user

    async def promote(self, login: str) -> Promotion:
        """Make the user with this username or email an admin; already one changes nothing."""
        user = await self.service.admin.user_by_login(login)
        if user is None:
            raise UserNotFound()
        if user.role == Role.ADMIN:
            return Promotion(user, changed=False)
        previous = user.role
        user.role = Role.ADMIN
        await self.service.audit_user(None, "user.promote", user, {"from": previous}, utcnow())
        return Promotion(user, changed=True)
