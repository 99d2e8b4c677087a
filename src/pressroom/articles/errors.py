from pressroom.core.errors import Forbidden, NotFound


class ArticleNotFound(NotFound):
    field = "article"


class NotArticleAuthor(Forbidden):
    field = "article"
