from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pressroom.auth.dependencies import PasswordsDep
from pressroom.core.db import ReadSessionDep, SessionDep
from pressroom.users.service import UserService


async def get_user_service(session: SessionDep, passwords: PasswordsDep) -> UserService:
    return UserService(session, passwords)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_login_service(session: ReadSessionDep, passwords: PasswordsDep) -> UserService:
    # Login only reads, plus a single-statement rehash now and then: no write transaction.
    return UserService(session, passwords)


LoginServiceDep = Annotated[UserService, Depends(get_login_service)]
