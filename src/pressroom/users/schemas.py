"""Request and response models of the user endpoints (the API contract)."""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, HttpUrl, TypeAdapter, ValidationError, field_validator

from pressroom.core.schemas import APIModel, reject_null
from pressroom.core.text import Line, Text, Username


def _email(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValueError("is invalid") from None
    return checked.ascii_email or checked.normalized


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _image(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        url = _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("must be an http(s) URL") from None
    if url.scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


Email = Annotated[Line, Field(min_length=1, max_length=320), AfterValidator(_email)]
Password = Annotated[Text, Field(min_length=8, max_length=256)]
Image = Annotated[
    Line | None,
    Field(max_length=2048, description="An http(s) URL; an empty string clears it."),
    AfterValidator(_image),
]
Bio = Annotated[
    Text | None,
    Field(max_length=4096, description="An empty string clears it."),
    AfterValidator(_blank_to_none),
]
UsernameField = Annotated[
    Username,
    Field(description="1-32 characters: ASCII letters, digits, `_` and `-`; unique ignoring case."),
]


class LoginUser(APIModel):
    email: Annotated[Line, Field(min_length=1, max_length=320)]
    password: Annotated[Text, Field(min_length=1, max_length=256)]


class LoginUserRequest(APIModel):
    user: LoginUser


class NewUser(APIModel):
    username: UsernameField
    email: Email
    password: Password


class NewUserRequest(APIModel):
    user: NewUser


class UpdateUser(APIModel):
    """Only the fields sent change."""

    email: Email | None = None
    username: UsernameField | None = None
    password: Password | None = None
    image: Image = None
    bio: Bio = None

    _null_is_blank = field_validator("email", "username", "password", mode="before")(reject_null)


class UpdateUserRequest(APIModel):
    user: UpdateUser


class User(APIModel):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponse(APIModel):
    user: User
