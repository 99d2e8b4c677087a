from pressroom.core.errors import AppError


class CannotActOnSelf(AppError):
    """An admin suspending or deleting their own account would lock everyone out eventually."""

    status_code = 409
    field = "user"
    message = "cannot suspend or delete your own account"
