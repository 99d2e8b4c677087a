"""The configuration reference in docs/operations.md, generated from the `Settings` model.

Every field gives its environment variable, type, default and description; a section (a field
holding a model) becomes a table of its own. Two optional keys in a field's
`json_schema_extra` say what the model cannot: `shown_default` for a default computed at run
time (`None` that means "SQLite in the data directory"), `shown_type` for a constrained string.
A secret's default is never printed.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import NoDecode

from pressroom.core.settings import Settings

START = "<!-- settings-reference:start -->"
END = "<!-- settings-reference:end -->"
COMMAND = "pressroom settings-reference --write"

_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
    SecretBytes: "secret bytes",
}
_DURATIONS = ((86400, "day"), (3600, "hour"), (60, "minute"))
_SIZES = ((1024 * 1024, "MiB"), (1024, "KiB"))


class ReferenceOutOfDate(Exception):
    """The generated block of a document differs from what the model gives now."""


@dataclass(frozen=True, slots=True)
class Setting:
    variable: str
    type: str
    default: str
    description: str


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    variables: str
    description: str
    settings: tuple[Setting, ...]


def sections(model: type[BaseModel] = Settings) -> list[Section]:
    """The model's plain fields first ("General"), then one section per nested model."""
    config = model.model_config
    prefix = str(config.get("env_prefix", "")).upper()
    delimiter = str(config.get("env_nested_delimiter") or "__")
    found = _sections(model, "General", prefix, "", delimiter)
    return [section for section in found if section.settings]


def _sections(
    model: type[BaseModel], title: str, prefix: str, description: str, delimiter: str
) -> list[Section]:
    plain: list[Setting] = []
    nested: list[Section] = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name}".upper()
        inner = _section_model(field.annotation)
        if inner is None:
            plain.append(_setting(variable, name, field))
            continue
        words = name.replace("_", " ")
        sub_title = words.capitalize() if title == "General" else f"{title}: {words}"
        about = field.description or _docstring(inner)
        nested += _sections(inner, sub_title, f"{variable}{delimiter}", about, delimiter)
    return [Section(title, f"{prefix}*", description, tuple(plain)), *nested]


def _section_model(annotation: Any) -> type[BaseModel] | None:
    candidates = [arg for arg in _union_args(annotation) if arg is not type(None)]
    found = candidates[0] if len(candidates) == 1 else None
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _docstring(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    return " ".join(doc.split()) if doc != BaseModel.__doc__ else ""


def _extra(field: FieldInfo, key: str) -> str | None:
    extra = field.json_schema_extra
    value = extra.get(key) if isinstance(extra, dict) else None
    return str(value) if value is not None else None


def _setting(variable: str, name: str, field: FieldInfo) -> Setting:
    return Setting(
        variable=variable,
        type=_extra(field, "shown_type") or _type(field),
        default=_extra(field, "shown_default") or _default(name, field),
        description=" ".join((field.description or "").split()),
    )


# ---------------------------------------------------------------- types
def _type(field: FieldInfo) -> str:
    args = _union_args(field.annotation)
    optional = type(None) in args
    split = NoDecode in field.metadata
    kinds = [_type_name(arg, split=split) for arg in args if arg is not type(None)]
    text = " or ".join(kinds)
    bounds = _bounds(field.metadata, characters=field.annotation is str)
    if bounds:
        text = f"{text}, {bounds}"
    return f"{text}, optional" if optional else text


def _type_name(annotation: Any, *, split: bool = False) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return _type_name(inner, split=split or NoDecode in metadata)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(annotation))
    if origin in (list, set, frozenset, tuple):
        (item, *_) = get_args(annotation) or (Any,)
        # A list field marked NoDecode is split by its validator (settings._split_list).
        written = "comma-separated or a JSON list" if split else "a JSON list"
        return f"list of {_type_name(item)}s: {written}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if annotation in _TYPE_NAMES:
        return _TYPE_NAMES[annotation]
    return getattr(annotation, "__name__", str(annotation))


def _bounds(metadata: list[Any], *, characters: bool) -> str:
    low = high = ""
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"at least {_number(item.ge)}"
        elif isinstance(item, annotated_types.Gt):
            low = f"above {_number(item.gt)}"
        elif isinstance(item, annotated_types.Le):
            high = f"at most {_number(item.le)}"
        elif isinstance(item, annotated_types.Lt):
            high = f"below {_number(item.lt)}"
        elif isinstance(item, annotated_types.MinLen):
            low = f"at least {item.min_length}"
        elif isinstance(item, annotated_types.MaxLen):
            high = f"at most {item.max_length}"
    if low.startswith("at least") and high.startswith("at most"):
        text = f"{low.removeprefix('at least ')} to {high.removeprefix('at most ')}"
    else:
        text = ", ".join(part for part in (low, high) if part)
    if characters and text == "at least 1":
        return "not empty"
    return f"{text} characters" if text and characters else text


# ---------------------------------------------------------------- defaults
def _default(name: str, field: FieldInfo) -> str:
    if field.default_factory is None and field.default is PydanticUndefined:
        return "required"
    # A factory that reads other fields sees none: it documents the default alone.
    value = field.get_default(call_default_factory=True, validated_data={})
    if _holds_secret(value):
        return "set (secret, not shown)"
    if value is None:
        return "unset"
    return _value(value, name)


def _holds_secret(value: Any) -> bool:
    if isinstance(value, SecretStr | SecretBytes):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_secret(item) for item in value)
    return False


def _value(value: Any, name: str) -> str:
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, list | tuple | set | frozenset):
        text = ",".join(str(item) for item in value)
        if not text:
            return "empty"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, int):
        return f"`{value}`{_in_words(value, name)}"
    else:
        text = str(value)
    return f"`{text}`" if text else '`""` (empty)'


def _in_words(value: int, name: str) -> str:
    """`604800 (7 days)`, `1048576 (1 MiB)`: large seconds and bytes, readable."""
    units: tuple[tuple[int, str], ...] = ()
    if name.endswith(("_seconds", "_age")):
        units = _DURATIONS
    elif name.endswith("_bytes"):
        units = _SIZES
    for size, unit in units:
        if value >= size and value % size == 0:
            count = value // size
            plural = "s" if count != 1 and not unit.endswith("B") else ""
            return f" ({count} {unit}{plural})"
    return ""


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- Markdown
def render(model: type[BaseModel] = Settings) -> str:
    """The reference as Markdown: one table per section."""
    lines = [
        f"<!-- Generated from the Settings model by `{COMMAND}`: edit the field "
        "descriptions in src/pressroom/core/settings/, not this block. -->",
    ]
    for section in sections(model):
        lines += ["", f"### {section.title} (`{section.variables}`)", ""]
        if section.description:
            lines += [section.description, ""]
        lines += ["| variable | type | default | description |", "|---|---|---|---|"]
        lines += [
            f"| `{s.variable}` | {_cell(s.type)} | {_cell(s.default)} | {_cell(s.description)} |"
            for s in section.settings
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _split(document: str) -> tuple[str, str, str]:
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ReferenceOutOfDate(f"the markers {START} and {END} are missing")
    return document[: start + len(START)], document[start + len(START) : end], document[end:]


def updated(document: str, model: type[BaseModel] = Settings) -> str:
    """The document with the generated block between the markers replaced."""
    head, _, tail = _split(document)
    return f"{head}\n{render(model)}{tail}"


def check(path: Path, model: type[BaseModel] = Settings) -> None:
    """Raise `ReferenceOutOfDate` unless `path` holds the reference the model gives now."""
    document = path.read_text(encoding="utf-8")
    if updated(document, model) != document:
        raise ReferenceOutOfDate(f"{path} is out of date: run `{COMMAND}`")


def write(path: Path, model: type[BaseModel] = Settings) -> bool:
    """Rewrite the block in `path`; whether anything changed."""
    document = path.read_text(encoding="utf-8")
    new = updated(document, model)
    if new != document:
        path.write_text(new, encoding="utf-8")
    return new != document


def undocumented(model: type[BaseModel] = Settings) -> Iterator[str]:
    """Dotted names of the fields (or sections) without a description."""
    yield from _undocumented(model, "")


def _undocumented(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        section_model = _section_model(field.annotation)
        if section_model is None:
            if not (field.description or "").strip():
                yield f"{prefix}{name}"
            continue
        if not (field.description or _docstring(section_model)):
            yield f"{prefix}{name}"
        yield from _undocumented(section_model, f"{prefix}{name}.")
