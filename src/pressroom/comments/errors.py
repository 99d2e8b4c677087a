from pressroom.core.errors import Forbidden, NotFound


class CommentNotFound(NotFound):
    field = "comment"


class NotCommentAuthor(Forbidden):
    field = "comment"
