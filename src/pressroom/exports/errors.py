from __future__ import annotations

from pressroom.core.errors import AppError, ServiceUnavailable


class ExportInProgress(AppError):
    """The user already has an export streaming, on this worker or another."""

    status_code = 409
    field = "export"
    message = "an export is already running for this account; retry when it has finished"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ExportsBusy(ServiceUnavailable):
    """This server process already streams as many exports as it may."""

    field = "export"
    message = "this server is busy with other exports; retry shortly"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
