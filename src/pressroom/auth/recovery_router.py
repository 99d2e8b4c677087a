"""Password reset and email verification: the endpoints behind the links in account mails.

The mails themselves are sent by outbox handlers (mail/handlers.py), after the commit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pressroom.auth import schemas
from pressroom.auth.dependencies import CurrentCaller, PasswordsDep, ProfileWriter
from pressroom.auth.rate_limits import account_key, enforce, limiter_of
from pressroom.auth.recovery import AccountRecovery, VerificationState
from pressroom.core.db import ReaderDep, ReadSessionDep, SessionDep
from pressroom.core.errors import InvalidToken, error_responses
from pressroom.core.models import isoformat
from pressroom.core.ratelimit import client_ip
from pressroom.core.responses import json_response
from pressroom.users.repository import verification_state

router = APIRouter(prefix="/auth", tags=["auth"])


async def get_recovery(
    session: SessionDep, reads: ReadSessionDep, passwords: PasswordsDep
) -> AccountRecovery:
    return AccountRecovery(session, reads, passwords)


RecoveryDep = Annotated[AccountRecovery, Depends(get_recovery)]


def _verification(state: VerificationState) -> Response:
    verified_at = state.verified_at
    body = {
        "email": state.email,
        "verified": verified_at is not None,
        "verifiedAt": isoformat(verified_at) if verified_at is not None else None,
    }
    return json_response({"emailVerification": body})


@router.post(
    "/password-reset",
    summary="Mail a password reset link (the same answer whether or not the email is known)",
    status_code=204,
    responses=error_responses(422, 429),
)
async def request_password_reset(
    request: Request, body: schemas.PasswordResetRequest, recovery: RecoveryDep
) -> Response:
    """Answers 204 for any well-formed address: whether an account has it is never said. When
    one does, a mail with `{mail.base_url}/reset-password?token=...` is sent shortly after."""
    policies = limiter_of(request).policies
    await enforce(request, policies.password_reset_ip, client_ip(request.scope))
    await enforce(request, policies.password_reset_account, account_key(body.user.email))
    await recovery.request_reset(body.user.email)
    return Response(status_code=204)


@router.post(
    "/password-reset/confirm",
    summary="Set a new password with the token from a reset mail; ends every session",
    status_code=204,
    responses=error_responses(400, 422),
)
async def confirm_password_reset(
    body: schemas.PasswordResetConfirm, recovery: RecoveryDep
) -> Response:
    """The token works once, until it expires or the password changes. Every session and
    refresh token of the user ends: log in again with the new password."""
    await recovery.confirm_reset(body.token, body.password)
    return Response(status_code=204)


@router.post(
    "/verify-email",
    summary="Confirm an email address with the token from a verification mail",
    response_model=schemas.EmailVerificationResponse,
    responses=error_responses(400, 422),
)
async def verify_email(body: schemas.VerifyEmailRequest, recovery: RecoveryDep) -> Response:
    """No credentials needed: the token is the proof. It works once, until it expires or the
    account's email changes."""
    return _verification(await recovery.verify_email(body.token))


@router.get(
    "/email-verification",
    summary="Whether the caller's email address is verified",
    response_model=schemas.EmailVerificationResponse,
    responses=error_responses(401),
)
async def get_email_verification(caller: CurrentCaller, reader: ReaderDep) -> Response:
    row = await reader.first(verification_state(), {"user_id": caller.id})
    if row is None:
        raise InvalidToken()
    return _verification(VerificationState(row["email"], row["email_verified_at"]))


@router.post(
    "/email-verification",
    summary="Send the verification mail again",
    status_code=204,
    responses=error_responses(401, 403, 409, 429),
)
async def resend_verification_email(
    request: Request, caller: ProfileWriter, recovery: RecoveryDep
) -> Response:
    """409 when the address is verified already."""
    policy = limiter_of(request).policies.verification_mail
    await enforce(request, policy, str(caller.id))
    await recovery.request_verification(caller.id)
    return Response(status_code=204)
