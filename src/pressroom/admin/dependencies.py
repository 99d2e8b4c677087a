from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pressroom.admin.service import AdminService
from pressroom.core.db import SessionDep


async def get_admin_service(session: SessionDep) -> AdminService:
    return AdminService(session)


AdminServiceDep = Annotated[AdminService, Depends(get_admin_service)]
