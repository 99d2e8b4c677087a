from pressroom.core.errors import Conflict, Forbidden, NotFound


class UserNotFound(NotFound):
    field = "user"


class UsernameOrEmailTaken(Conflict):
    pass


class AccountSuspended(Forbidden):
    field = "account"
    message = "is suspended"
