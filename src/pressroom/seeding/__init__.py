"""Demo data for `pressroom seed`: users, articles, tags, comments, follows and favorites.

Rows go in with Core `executemany` inserts through the app's own engine, one transaction for
the users, tags and follows, then one transaction per batch of articles together with their
tag links, favorites and comments (so every committed article has exactly the favorites its
`favorites_count` says). Seeding appends: existing rows are never touched, and new usernames,
emails and slugs are chosen so that they do not collide with any that exist.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pressroom.articles import slugs
from pressroom.articles.models import Article, Favorite
from pressroom.auth.passwords import Passwords
from pressroom.comments.models import Comment
from pressroom.core import migrations
from pressroom.core.db import create_engine, transactional
from pressroom.core.models import utcnow
from pressroom.core.settings import Settings
from pressroom.profiles.models import Follow
from pressroom.seeding.writing import Writer
from pressroom.tags.models import ArticleTag, Tag
from pressroom.users.models import User

DEMO_PASSWORD = "pressroom-demo"  # noqa: S105  (printed for the demo login, not a secret)
DEMO_USERNAME = "demo"
EMAIL_DOMAIN = "example.com"
MIN_PASSWORD, MAX_PASSWORD = 8, 256  # what registration accepts
ARTICLES_PER_USER = 20
MIN_USERS = 10
BATCH = 1000
_LOOKUP_CHUNK = 500
_MAX_USERNAME = 32

Progress = Callable[[str, int, int], None]
"""Called as (stage, done, total) while seeding: stages are "users" and "articles"."""


class SeedError(Exception):
    """Seeding cannot start or go on; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """How much to create: counts, averages (`*_per_*`), the time span and the seed value."""

    articles: int = 1000
    users: int | None = None
    comments_per_article: float = 3.0
    favorites_per_article: float = 3.0
    follows_per_user: float = 5.0
    days: int = 365
    seed_value: int = 0
    password: str = DEMO_PASSWORD

    @property
    def user_count(self) -> int:
        """One author per ARTICLES_PER_USER articles unless given, never fewer than MIN_USERS."""
        if self.users is not None:
            return self.users
        return max(MIN_USERS, self.articles // ARTICLES_PER_USER)


@dataclass(frozen=True, slots=True)
class SeedResult:
    users: int
    articles: int
    tags: int
    article_tags: int
    comments: int
    follows: int
    favorites: int
    demo_username: str
    demo_email: str
    password: str


async def seed(settings: Settings, plan: SeedPlan, progress: Progress | None = None) -> SeedResult:
    """Insert the demo data of `plan` into the (migrated) database of `settings`."""
    if plan.user_count < 2:
        raise SeedError("seeding needs at least 2 users")
    if not MIN_PASSWORD <= len(plan.password) <= MAX_PASSWORD:
        raise SeedError(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    engine = create_engine(settings)
    try:
        await _check_schema(engine, migrations.head_revision(settings))
        password_hash = await Passwords(settings.auth).hash(plan.password)
        seeder = _Seeder(transactional(engine), plan, password_hash, progress or _silent)
        return await seeder.run()
    finally:
        await engine.dispose()


def _silent(_stage: str, _done: int, _total: int) -> None:
    return None


async def _check_schema(engine: AsyncEngine, head: str | None) -> None:
    def current_heads(connection: Connection) -> tuple[str, ...]:
        return MigrationContext.configure(connection).get_current_heads()

    try:
        async with engine.connect() as connection:
            heads = await connection.run_sync(current_heads)
    except (OSError, DBAPIError) as exc:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        raise SeedError(f"cannot connect to the database: {detail}") from None
    if head in heads:
        return
    where = f"at revision {', '.join(heads)}" if heads else "not migrated"
    raise SeedError(f"the database schema is {where}: run `pressroom migrate` first")


class _Seeder:
    def __init__(
        self, engine: AsyncEngine, plan: SeedPlan, password_hash: str, progress: Progress
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.password_hash = password_hash
        self.progress = progress
        # Reproducible demo data, not secrets: seeded generators are the point. Renaming around
        # existing rows draws from its own, so the content is the same whatever is already there.
        self.rng = random.Random(plan.seed_value)  # noqa: S311
        self.renames = random.Random(f"{plan.seed_value}:renames")  # noqa: S311
        self.writer = Writer(self.rng)
        self.now = utcnow()
        self.user_ids: list[int] = []
        self.author_weights: list[float] = []
        self.tag_ids: dict[str, int] = {}
        self.tag_names: list[str] = []
        self.tag_weights: list[float] = []
        self.counts = {"article_tags": 0, "comments": 0, "favorites": 0, "follows": 0}

    async def run(self) -> SeedResult:
        total = self.plan.articles
        self.progress("users", 0, 1)
        async with self.engine.begin() as connection:
            demo = await self._users(connection)
            await self._tags(connection)
            await self._follows(connection)
            had_articles = bool(await connection.scalar(select(func.count()).select_from(Article)))
        self.progress("users", 1, 1)
        self.progress("articles", 0, total)
        used_slugs: set[str] = set()
        for start in range(0, total, BATCH):
            size = min(BATCH, total - start)
            async with self.engine.begin() as connection:
                await self._articles(connection, size, used_slugs, check_db=had_articles)
            self.progress("articles", start + size, total)
        return SeedResult(
            users=len(self.user_ids),
            articles=total,
            tags=len(self.tag_ids),
            article_tags=self.counts["article_tags"],
            comments=self.counts["comments"],
            follows=self.counts["follows"],
            favorites=self.counts["favorites"],
            demo_username=demo,
            demo_email=_email(demo),
            password=self.plan.password,
        )

    # ------------------------------------------------------------ users, tags, follows
    async def _users(self, connection: AsyncConnection) -> str:
        """Insert the users; returns the demo user's name (the first one)."""
        last_id = await connection.scalar(select(func.max(User.id))) or 0
        names = [DEMO_USERNAME if last_id == 0 else f"{DEMO_USERNAME}{last_id + 1}"]
        names += [
            _username(self.writer.person(), last_id + number)
            for number in range(2, self.plan.user_count + 1)
        ]
        if last_id:
            names = await self._free_usernames(connection, names)
        rows = [self._user_row(name, index) for index, name in enumerate(names)]
        inserted = await connection.execute(insert(User).returning(User.id, User.username), rows)
        ids = {username: user_id for user_id, username in inserted}
        self.user_ids = [ids[name] for name in names]
        # A few prolific authors and a long tail, like any real site.
        ranks = list(range(1, len(names) + 1))
        self.rng.shuffle(ranks)
        self.author_weights = [1 / rank**0.8 for rank in ranks]
        return names[0]

    def _user_row(self, username: str, index: int) -> dict[str, Any]:
        joined = self._moment(self.now - timedelta(days=self.plan.days + 30), days=30)
        has_bio = index == 0 or self.rng.random() < 0.6
        return {
            "username": username,
            "email": _email(username),
            "password_hash": self.password_hash,
            "bio": self.writer.bio() if has_bio else None,
            "image": None,
            "created_at": joined,
            "updated_at": joined,
        }

    async def _free_usernames(self, connection: AsyncConnection, names: list[str]) -> list[str]:
        """`names` with every one that an existing account uses (as name or email) replaced."""
        for _ in range(10):
            taken = await _taken_usernames(connection, names)
            if not taken:
                return names
            wanted = {name.lower() for name in names}
            for index, name in enumerate(names):
                if name.lower() in taken:
                    candidate = name
                    while candidate.lower() in wanted:
                        suffix = f"x{self.renames.randrange(10**6)}"
                        candidate = name[: _MAX_USERNAME - len(suffix)] + suffix
                    wanted.add(candidate.lower())
                    names[index] = candidate
        raise SeedError("could not find free usernames for the demo users")

    async def _tags(self, connection: AsyncConnection) -> None:
        names = self.writer.tag_pool()
        dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(Tag).on_conflict_do_nothing(index_elements=[Tag.name])
        await connection.execute(statement, [{"name": name} for name in names])
        rows = await connection.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names)))
        found = {row.name: row.id for row in rows}
        # In the pool's order, whatever order the database returns: earlier tags are more used.
        self.tag_ids = {name: found[name] for name in names}
        self.tag_names = names
        self.tag_weights = [1 / rank for rank in range(1, len(names) + 1)]

    async def _follows(self, connection: AsyncConnection) -> None:
        users = self.user_ids
        rows = []
        for index, follower in enumerate(users):
            count = _about(self.rng, self.plan.follows_per_user)
            if index == 0:
                count = max(count, 10)  # the demo user's feed is never empty
            # Indexes of everyone else: skip over the follower's own.
            for other in self.rng.sample(range(len(users) - 1), min(count, len(users) - 1)):
                rows.append(
                    {
                        "follower_id": follower,
                        "followee_id": users[other + (other >= index)],
                        "created_at": self._moment(self.now, days=self.plan.days),
                    }
                )
        await _insert_many(connection, Follow, rows)
        self.counts["follows"] += len(rows)

    # ------------------------------------------------------------ articles
    async def _articles(
        self, connection: AsyncConnection, size: int, used_slugs: set[str], *, check_db: bool
    ) -> None:
        authors = self.rng.choices(self.user_ids, weights=self.author_weights, k=size)
        drafts = [self._article(author) for author in authors]
        await self._unique_slugs(connection, drafts, used_slugs, check_db=check_db)
        article_rows = [draft.row for draft in drafts]
        inserted = await connection.execute(
            insert(Article).returning(Article.id, Article.slug), article_rows
        )
        ids = {slug: article_id for article_id, slug in inserted}
        links: list[dict[str, Any]] = []
        favorites: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        for draft in drafts:
            article_id = ids[draft.row["slug"]]
            links += [{"article_id": article_id, "tag_id": tag} for tag in draft.tag_ids]
            favorites += [{**row, "article_id": article_id} for row in draft.favorites]
            comments += [{**row, "article_id": article_id} for row in draft.comments]
        await _insert_many(connection, ArticleTag, links)
        await _insert_many(connection, Favorite, favorites)
        await _insert_many(connection, Comment, comments)
        self.counts["article_tags"] += len(links)
        self.counts["favorites"] += len(favorites)
        self.counts["comments"] += len(comments)

    def _article(self, author_id: int) -> _Draft:
        rng, writer, plan = self.rng, self.writer, self.plan
        title = writer.title()
        created = self._moment(self.now, days=plan.days)
        updated = created if rng.random() < 0.8 else self._between(created, self.now)
        tags: set[int] = set()
        wanted = rng.choices((1, 2, 3, 4), weights=(2, 4, 3, 1))[0]
        while len(tags) < wanted:
            tags.add(self.tag_ids[rng.choices(self.tag_names, weights=self.tag_weights)[0]])
        fans = rng.sample(
            self.user_ids, min(_about(rng, plan.favorites_per_article), len(self.user_ids))
        )
        favorites = [
            {"user_id": fan, "created_at": self._between(created, self.now)} for fan in fans
        ]
        comments = []
        for _ in range(_about(rng, plan.comments_per_article)):
            at = self._between(created, self.now)
            comments.append(
                {
                    "author_id": rng.choice(self.user_ids),
                    "body": writer.comment(),
                    "created_at": at,
                    "updated_at": at,
                }
            )
        row = {
            "slug": slugs.base_slug(title),
            "title": title,
            "description": writer.description(),
            "body": writer.body(),
            "author_id": author_id,
            "favorites_count": len(favorites),
            "created_at": created,
            "updated_at": updated,
        }
        return _Draft(row=row, tag_ids=sorted(tags), favorites=favorites, comments=comments)

    async def _unique_slugs(
        self,
        connection: AsyncConnection,
        drafts: Sequence[_Draft],
        used: set[str],
        *,
        check_db: bool,
    ) -> None:
        """Give every draft a slug no other article has, the way the app makes them unique."""
        pending = list(drafts)
        while pending:
            taken = (
                await _existing_slugs(connection, [d.row["slug"] for d in pending])
                if check_db
                else set()
            )
            retry = []
            for draft in pending:
                slug = draft.row["slug"]
                if slug in used or slug in taken or slugs.is_reserved(slug):
                    base = slugs.base_slug(draft.row["title"])
                    # The shape of slugs.unique_variant, drawn from the seeded generator.
                    draft.row["slug"] = f"{base}-{self.renames.getrandbits(32):08x}"
                    retry.append(draft)
                else:
                    used.add(slug)
            pending = retry

    # ------------------------------------------------------------ time
    def _moment(self, before: datetime, *, days: int) -> datetime:
        """A random moment in the `days` before `before`, to the millisecond."""
        return _millis(before - timedelta(seconds=self.rng.uniform(0, days * 86400)))

    def _between(self, start: datetime, end: datetime) -> datetime:
        return _millis(start + (end - start) * self.rng.random())


@dataclass(slots=True)
class _Draft:
    row: dict[str, Any]
    tag_ids: list[int]
    favorites: list[dict[str, Any]]
    comments: list[dict[str, Any]]


def _about(rng: random.Random, average: float) -> int:
    """A non-negative whole number with mean `average`, mostly small and sometimes large."""
    if average <= 0:
        return 0
    return int(rng.expovariate(1 / average) + 0.5)


def _millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _username(person: str, number: int) -> str:
    suffix = str(number)
    return person[: _MAX_USERNAME - len(suffix)] + suffix


def _email(username: str) -> str:
    return f"{username.lower()}@{EMAIL_DOMAIN}"


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _LOOKUP_CHUNK):
        yield items[start : start + _LOOKUP_CHUNK]


async def _taken_usernames(connection: AsyncConnection, names: Sequence[str]) -> set[str]:
    """The lower-cased `names` whose username, or whose email, an existing account has."""
    taken: set[str] = set()
    for chunk in _chunks([name.lower() for name in names]):
        emails = {_email(name): name for name in chunk}
        rows = await connection.execute(
            select(User.username, User.email).where(
                or_(func.lower(User.username).in_(chunk), func.lower(User.email).in_(emails))
            )
        )
        for username, email in rows:
            taken.add(username.lower())
            if email.lower() in emails:
                taken.add(emails[email.lower()])
    return taken


async def _existing_slugs(connection: AsyncConnection, candidates: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(candidates):
        found.update(await connection.scalars(select(Article.slug).where(Article.slug.in_(chunk))))
    return found


async def _insert_many(
    connection: AsyncConnection, model: type[Any], rows: list[dict[str, Any]]
) -> None:
    if rows:
        await connection.execute(insert(model), rows)


# ---------------------------------------------------------------- plausible English
