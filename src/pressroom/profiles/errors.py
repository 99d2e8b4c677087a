from pressroom.core.errors import NotFound, Unprocessable


class ProfileNotFound(NotFound):
    field = "profile"


class CannotFollowSelf(Unprocessable):
    field = "profile"
    message = "cannot follow yourself"
