"""Live updates over HTTP: `GET /api/events` (Server-Sent Events) and
`WS /api/articles/{slug}/live` (the comments of one article)."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket

from pressroom.auth.dependencies import OPTIONAL_AUTH, OptionalCaller, caller_from_token
from pressroom.core.errors import AppError, Unauthorized, error_responses
from pressroom.core.ratelimit import client_ip
from pressroom.core.settings import Settings
from pressroom.core.text import Line
from pressroom.live.events import CHANNEL
from pressroom.live.repository import LiveReads
from pressroom.live.service import LiveService
from pressroom.live.slots import StreamSlots, TooManyStreams
from pressroom.live.sockets import NOT_FOUND, POLICY, TOO_MANY, CommentFeed
from pressroom.live.streams import EventStream, EventStreamResponse, StreamFilter

router = APIRouter(tags=["Live"])

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"

EXAMPLE = (
    "retry: 3000\n: connected\n\n"
    "id: 42\nevent: article.created\n"
    'data: {"article":{"slug":"how-to-train-your-dragon","title":"How to train your dragon",'
    '"description":"Ever wonder how?","tagList":["dragons"],"createdAt":"2026-12-01T10:00:00.000Z",'
    '"updatedAt":"2026-12-01T10:00:00.000Z","favoritesCount":0,'
    '"author":{"username":"jake","bio":null,"image":null}}}\n\n'
    ": keep-alive\n\n"
)


def get_live_service(request: Request) -> LiveService:
    state = request.app.state
    settings: Settings = state.settings
    return LiveService(LiveReads(state.database.engine), state.broker, settings.live)


LiveServiceDep = Annotated[LiveService, Depends(get_live_service)]


@router.get(
    "/events",
    response_class=EventStreamResponse,
    status_code=200,
    openapi_extra=OPTIONAL_AUTH,
    summary="Stream article and comment events (Server-Sent Events)",
    response_description="A `text/event-stream` that stays open: one event per created, "
    "updated or deleted article and created or deleted comment. `id` is the event's id (send "
    "it back as `Last-Event-ID` to resume), `event` its kind, `data` JSON. An `event: reset` "
    "means the stream cannot tell what was missed: reload. Comments (`: keep-alive`) keep a "
    "quiet stream open. See docs/live.md.",
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}},
        },
        # Errors are JSON (the envelope), unlike the stream's own media type.
        **{
            code: {
                "description": entry["description"],
                "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
            }
            for code, entry in error_responses(401, 422, 429).items()
        },
    },
)
async def stream_events(
    request: Request,
    caller: OptionalCaller,
    service: LiveServiceDep,
    author: Annotated[
        Line | None,
        Query(max_length=64, description="Only events about articles by this username."),
    ] = None,
    tag: Annotated[
        Line | None, Query(max_length=32, description="Only events about articles with this tag.")
    ] = None,
    feed: Annotated[
        bool,
        Query(
            description="Only events about articles by authors the caller follows (as of "
            "when the stream opens); needs a token."
        ),
    ] = False,
    last_event_id: Annotated[
        str | None,
        Header(
            max_length=20,
            description="The last `id` received: the stream starts with what came after.",
        ),
    ] = None,
    last_event_id_query: Annotated[
        str | None,
        Query(
            alias="lastEventId",
            max_length=18,
            pattern=r"^[0-9]+$",
            description="`Last-Event-ID` as a query parameter, for a first connection that "
            "cannot set headers.",
        ),
    ] = None,
) -> EventStreamResponse:
    if feed and caller is None:
        raise Unauthorized()
    followees = await service.reads.followees(caller.id) if feed and caller is not None else None
    filter_ = StreamFilter(author.lower() if author else None, tag or None, followees)
    state = request.app.state
    slots: StreamSlots = state.live_slots
    # Taken before the stream starts (a refusal is a plain 429), given back however it ends.
    slot = await slots.acquire(caller.id if caller is not None else None, client_ip(request.scope))
    try:
        stream = EventStream(
            service, state.broker, state.lifecycle.closing, state.settings.live, filter_
        )
        frames = stream.frames(last_event_id if last_event_id is not None else last_event_id_query)
    except BaseException:
        await slots.release(slot)
        raise
    return EventStreamResponse(frames, on_close=lambda: slots.release(slot))


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return settings.live.websocket_allow_missing_origin
    allowed = settings.cors_origins
    return "*" in allowed or origin.rstrip("/") in {entry.rstrip("/") for entry in allowed}


def presented_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization")
    if header is not None:
        _scheme, _, token = header.strip().partition(" ")
        return token.strip()
    return websocket.query_params.get("token")


@router.websocket("/articles/{slug}/live", name="article_live_comments")
async def article_live_comments(websocket: WebSocket, slug: str) -> None:
    state: Any = websocket.app.state
    settings: Settings = state.settings
    if not origin_allowed(websocket, settings):
        await websocket.close(POLICY, "origin not allowed")  # before accept: a 403 handshake
        return
    await websocket.accept()
    token = presented_token(websocket)
    user_id = None
    if token is not None:
        try:
            user_id = (await caller_from_token(websocket, token)).id
        except AppError:
            await websocket.close(POLICY, "token is invalid")
            return
    reads = LiveReads(state.database.engine)
    article_id = await reads.article_id(slug)
    if article_id is None:
        await websocket.close(NOT_FOUND, "article not found")
        return
    slots: StreamSlots = state.live_slots
    try:
        slot = await slots.acquire(user_id, client_ip(websocket.scope))
    except TooManyStreams as refused:
        await websocket.close(TOO_MANY, refused.errors["streams"][0][:120])
        return
    try:
        feed = CommentFeed(websocket, article_id, state.lifecycle.closing, settings.live)
        async with state.broker.subscribe(CHANNEL) as messages:
            outcome = await feed.run(messages)
        if outcome is not None:
            with suppress(RuntimeError, OSError):  # the client may have left meanwhile
                await websocket.close(outcome.code, outcome.reason)
    finally:
        await slots.release(slot)
