"""Administration: users, moderation and the audit log. Every route needs the `admin` scope."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from pressroom.admin import schemas
from pressroom.admin.dependencies import AdminServiceDep
from pressroom.admin.repository import DeadLetter, UserFilters
from pressroom.admin.views import audit_json, user_json
from pressroom.articles.dependencies import SlugPath
from pressroom.auth.dependencies import Admin
from pressroom.core.errors import error_responses
from pressroom.core.models import isoformat
from pressroom.core.pagination import Limit, Offset
from pressroom.core.responses import json_response
from pressroom.core.text import Line
from pressroom.users.models import User

router = APIRouter(prefix="/admin", tags=["admin"])

MAX_ID = 2**31 - 1
UsernamePath = Annotated[Line, Path(max_length=64, description="Case-insensitive username.")]
CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The outbox event's id.")]
# 401 without credentials, 403 without the admin scope: every route.
AUTH_ERRORS = (401, 403)


def _user(user: User) -> Response:
    return json_response({"user": user_json(user)})


def dead_letter_json(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "key": letter.key,
        "kind": letter.kind,
        "attempts": letter.attempts,
        "lastError": letter.last_error,
        "createdAt": isoformat(letter.created_at),
        "nextAttemptAt": isoformat(letter.next_attempt_at),
        "deadAt": None if letter.dead_at is None else isoformat(letter.dead_at),
    }


@router.get(
    "/users",
    summary="List and search users, newest first (admin)",
    response_model=schemas.AdminUsersResponse,
    responses=error_responses(*AUTH_ERRORS, 422),
)
async def list_users(
    caller: Admin,
    service: AdminServiceDep,
    q: Annotated[
        Line | None,
        Query(max_length=320, description="Part of the username or email, ignoring case."),
    ] = None,
    status: Annotated[
        Literal["active", "suspended", "deleted"] | None,
        Query(max_length=16, description="Only users in this state."),
    ] = None,
    include_deleted: Annotated[
        bool, Query(description="List soft-deleted users too (implied by `status=deleted`).")
    ] = False,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Response:
    filters = UserFilters(q=q, status=status, include_deleted=include_deleted)
    page = await service.list_users(filters, limit=limit, offset=offset)
    return json_response(
        {"users": [user_json(user) for user in page.users], "usersCount": page.count}
    )


@router.post(
    "/users/{username}/suspend",
    summary="Suspend a user: no login, every session ended (admin)",
    response_model=schemas.AdminUserResponse,
    responses=error_responses(*AUTH_ERRORS, 404, 409, 422),
)
async def suspend_user(username: UsernamePath, caller: Admin, service: AdminServiceDep) -> Response:
    """Idempotent. The user's tokens stop working at their next request; their API keys are
    refused while the suspension lasts. An admin cannot suspend themselves (409)."""
    return _user(await service.suspend(caller.id, username))


@router.post(
    "/users/{username}/unsuspend",
    summary="Lift a suspension (admin)",
    response_model=schemas.AdminUserResponse,
    responses=error_responses(*AUTH_ERRORS, 404, 422),
)
async def unsuspend_user(
    username: UsernamePath, caller: Admin, service: AdminServiceDep
) -> Response:
    return _user(await service.unsuspend(caller.id, username))


@router.delete(
    "/users/{username}",
    summary="Soft-delete a user: hidden everywhere, sessions and API keys revoked (admin)",
    response_model=schemas.AdminUserResponse,
    responses=error_responses(*AUTH_ERRORS, 404, 409, 422),
)
async def delete_user(username: UsernamePath, caller: Admin, service: AdminServiceDep) -> Response:
    """Idempotent and undoable (`restore`). The username and email stay taken. An admin
    cannot delete themselves (409)."""
    return _user(await service.delete(caller.id, username))


@router.post(
    "/users/{username}/restore",
    summary="Undo a soft delete (admin)",
    response_model=schemas.AdminUserResponse,
    responses=error_responses(*AUTH_ERRORS, 404, 422),
)
async def restore_user(username: UsernamePath, caller: Admin, service: AdminServiceDep) -> Response:
    return _user(await service.restore(caller.id, username))


@router.delete(
    "/articles/{slug}",
    summary="Delete anyone's article (admin moderation)",
    status_code=204,
    response_class=Response,
    responses=error_responses(*AUTH_ERRORS, 404, 422),
)
async def remove_article(slug: SlugPath, caller: Admin, service: AdminServiceDep) -> Response:
    await service.delete_article(caller.id, slug)
    return Response(status_code=204)


@router.delete(
    "/comments/{comment_id}",
    summary="Delete anyone's comment (admin moderation)",
    status_code=204,
    response_class=Response,
    responses=error_responses(*AUTH_ERRORS, 404, 422),
)
async def remove_comment(
    comment_id: CommentId, caller: Admin, service: AdminServiceDep
) -> Response:
    await service.delete_comment(caller.id, comment_id)
    return Response(status_code=204)


@router.get(
    "/outbox/dead-letters",
    summary="Outbox events the relay gave up on, most recently dead first (admin)",
    response_model=schemas.DeadLettersResponse,
    responses=error_responses(*AUTH_ERRORS, 422),
)
async def list_dead_letters(
    caller: Admin, service: AdminServiceDep, limit: Limit = 20, offset: Offset = 0
) -> Response:
    """Events whose handlers failed `max_attempts` times (see docs/jobs.md): kind, idempotency
    key, attempts and the last error. Payloads are not shown."""
    page = await service.dead_letters(limit=limit, offset=offset)
    return json_response(
        {
            "deadLetters": [dead_letter_json(letter) for letter in page.dead_letters],
            "deadLettersCount": page.count,
        }
    )


@router.post(
    "/outbox/dead-letters/{event_id}/retry",
    summary="Deliver a dead letter again (admin)",
    response_model=schemas.DeadLetterResponse,
    responses=error_responses(*AUTH_ERRORS, 404, 422),
)
async def retry_dead_letter(event_id: EventId, caller: Admin, service: AdminServiceDep) -> Response:
    """The event is due at once with a fresh count of attempts; a relay delivers it within
    its poll interval. Audit-logged as `outbox.retry`. 404 when no dead event has this id."""
    letter = await service.retry_dead_letter(caller.id, event_id)
    return json_response({"deadLetter": dead_letter_json(letter)})


@router.get(
    "/audit",
    summary="The audit log, newest first (admin)",
    response_model=schemas.AuditRecordsResponse,
    responses=error_responses(*AUTH_ERRORS, 422),
)
async def list_audit_records(
    caller: Admin,
    service: AdminServiceDep,
    action: Annotated[
        Line | None, Query(max_length=64, description="Only this action, e.g. `user.suspend`.")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Response:
    page = await service.audit_log(action, limit=limit, offset=offset)
    return json_response(
        {
            "auditRecords": [audit_json(record, actor) for record, actor in page.records],
            "auditRecordsCount": page.count,
        }
    )
