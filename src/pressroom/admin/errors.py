from pressroom.core.errors import AppError, NotFound


class CannotActOnSelf(AppError):
    """An admin suspending or deleting their own account would lock everyone out eventually."""

    status_code = 409
    field = "user"
    message = "cannot suspend or delete your own account"


class DeadLetterNotFound(NotFound):
    field = "outbox_event"
    message = "no dead letter with this id"
