"""Registration, login and account changes."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth.passwords import Passwords
from pressroom.core.errors import InvalidCredentials, InvalidToken
from pressroom.core.models import utcnow
from pressroom.users import events, schemas
from pressroom.users.errors import AccountSuspended, UsernameOrEmailTaken
from pressroom.users.models import User
from pressroom.users.repository import UserRepository


class UserService:
    def __init__(self, session: AsyncSession, passwords: Passwords) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.passwords = passwords

    async def register(self, data: schemas.NewUser) -> User:
        """Create an account; 409 naming every field that is already taken."""
        # Hash before the first statement: on SQLite that statement takes the write lock,
        # which must not be held through an argon2 computation.
        password_hash = await self.passwords.hash(data.password)
        await self._ensure_free(username=data.username, email=data.email)
        user = User(username=data.username, email=data.email, password_hash=password_hash)
        saved = await self._save(user, username=data.username, email=data.email)
        await events.registered(self.session, saved.id, saved.username, saved.email)
        return saved

    async def login_key(self, login: str) -> str:
        """What login attempts for `login` are counted under: the account's email when a
        username names an account, so a username and an email share one budget."""
        if "@" in login:
            return login
        user = await self.users.get_by_username(login)
        return user.email if user is not None else login

    async def authenticate(self, login: str, password: str) -> User:
        """The account for these credentials (`login` is an email or a username); the same
        error and cost for any mismatch, and for a deleted account."""
        if "@" in login:
            user = await self.users.get_by_email(login)
        else:
            user = await self.users.get_by_username(login)
        matches, new_hash = await self.passwords.verify(
            password, user.password_hash if user else None
        )
        if user is None or not matches or user.deleted_at is not None:
            raise InvalidCredentials()
        if user.suspended_at is not None:
            # Said only to whoever knows the password.
            raise AccountSuspended()
        if new_hash is not None:
            user.password_hash = new_hash
            await self.session.flush()
        return user

    async def update(self, user_id: int, data: schemas.UpdateUser) -> User:
        """Change only the fields that were sent."""
        user = await self.users.get(user_id)
        if user is None:  # the account went away after the token was checked
            raise InvalidToken()
        sent = data.model_fields_set
        previous_username = user.username
        username = data.username if "username" in sent else None
        email = data.email if "email" in sent else None
        if username is not None and username == user.username:
            username = None
        if email is not None and email.lower() == user.email.lower():
            user.email = email
            email = None
        await self._ensure_free(username=username, email=email, exclude_id=user.id)
        if username is not None:
            user.username = username
        if email is not None:
            user.email = email
            user.email_verified_at = None  # the new address is not verified yet
        if "password" in sent and data.password is not None:
            user.password_hash = await self.passwords.hash(data.password)
        if "bio" in sent:
            user.bio = data.bio
        if "image" in sent:
            user.image = data.image
        user.updated_at = utcnow()
        saved = await self._save(user, username=username, email=email)
        await events.updated(
            self.session, saved.id, saved.username, previous_username, sorted(sent)
        )
        return saved

    async def _ensure_free(
        self, *, username: str | None, email: str | None, exclude_id: int | None = None
    ) -> None:
        taken = await self.users.taken(username=username, email=email, exclude_id=exclude_id)
        if taken:
            raise UsernameOrEmailTaken(sorted(taken))

    async def _save(self, user: User, *, username: str | None, email: str | None) -> User:
        try:
            return await self.users.add(user)
        except IntegrityError as exc:
            # A concurrent request took the name between our check and our insert.
            message = str(exc.orig).lower()
            fields = [name for name, value in (("username", username), ("email", email)) if value]
            fields = [name for name in fields if name in message] or fields or ["username"]
            raise UsernameOrEmailTaken(fields) from None
