from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pressroom.auth.dependencies import PasswordsDep
from pressroom.core.db import SessionDep
from pressroom.users.service import UserService


def get_user_service(session: SessionDep, passwords: PasswordsDep) -> UserService:
    return UserService(session, passwords)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
