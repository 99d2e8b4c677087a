from pressroom.core.errors import Conflict, NotFound


class UserNotFound(NotFound):
    field = "user"


class UsernameOrEmailTaken(Conflict):
    pass
