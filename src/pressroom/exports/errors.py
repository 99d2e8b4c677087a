from __future__ import annotations

from pressroom.core.errors import RetryLater


class ExportInProgress(RetryLater):
    """The user already has an export streaming, on this worker or another."""

    status_code = 409
    field = "export"
    message = "an export is already running for this account; retry when it has finished"


class ExportsBusy(RetryLater):
    """This server process already streams as many exports as it may."""

    status_code = 503
    field = "export"
    message = "this server is busy with other exports; retry shortly"
