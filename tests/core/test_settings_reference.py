"""The configuration reference in docs/operations.md: generated from `Settings`, kept in sync,
naming the variables pydantic-settings really reads, never printing a secret."""

from __future__ import annotations

import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, get_args

import pytest
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pressroom.cli import main
from pressroom.core import settings_reference as reference
from pressroom.core.settings import Settings
from tests.test_cli import Outcome, Pressroom

OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"
LEAKABLE = "hunter2-default-secret-value"


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Inner(BaseModel):
    """Deeper still."""

    depth: int = Field(default=3, ge=1, description="How deep.")


class Section(BaseModel):
    """A section of the example."""

    port: int = Field(default=8000, ge=1, le=65535, description="Port | with a pipe.")
    token: SecretStr = Field(default=SecretStr(LEAKABLE), description="A secret with a default.")
    keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr(LEAKABLE)], description="Secrets in a list."
    )
    url: SecretStr | None = Field(
        default=None,
        description="Computed when unset.",
        json_schema_extra={"shown_default": "whatever the data directory gives"},
    )
    mode: Literal["fast", "safe"] = Field(default="safe", description="A literal.")
    lifetime_seconds: int = Field(default=7 * 24 * 3600, description="A duration.")
    limit_bytes: int = Field(default=1024 * 1024, description="A size.")
    ratio: float = Field(default=0.25, gt=0, description="A float.")
    names: list[str] = Field(default_factory=list, description="A JSON-only list.")
    inner: Inner = Inner()


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", env_nested_delimiter="__")

    colour: Colour = Field(default=Colour.RED, description="An enum.")
    name: str = Field(default="", max_length=10, description="Empty by default.")
    section: Section = Field(default_factory=Section, description="The section, described.")


class Undocumented(BaseModel):  # no docstring, and its field in `Missing` has no description
    documented: int = Field(default=1, description="Fine.")
    bare: int = 2


class NoDocstring(BaseModel):
    value: str = "x"


class Missing(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MISSING_", env_nested_delimiter="__")

    plain: bool = False
    section: Undocumented = Undocumented()
    anonymous: NoDocstring = NoDocstring()


def row(text: str, variable: str) -> list[str]:
    """The cells of the reference row of `variable`."""
    for line in text.splitlines():
        if line.startswith(f"| `{variable}` |"):
            return [cell.strip() for cell in line.strip("|").split(" | ")]
    raise AssertionError(f"no row for {variable}")


# ---------------------------------------------------------------- the real settings
def test_operations_page_matches_the_settings_model() -> None:
    try:
        reference.check(OPERATIONS)
    except reference.ReferenceOutOfDate as exc:
        pytest.fail(f"{exc} (the settings changed since the reference was generated)")


def test_every_setting_has_a_description() -> None:
    missing = list(reference.undocumented(Settings))
    assert not missing, (
        f"settings without a description: {', '.join(missing)}; declare them as "
        'Field(<default>, description="...") (a section: a docstring on its model)'
    )


def test_the_reference_lists_every_setting_once() -> None:
    text = reference.render()
    rows = [line for line in text.splitlines() if line.startswith("| `PRESSROOM_")]

    def count(model: type[BaseModel]) -> int:
        total = 0
        for field in model.model_fields.values():
            # A section may be optional (`Section | None`): the model is what it holds.
            kinds = get_args(field.annotation) or (field.annotation,)
            models = [
                kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)
            ]
            total += count(models[0]) if models else 1
        return total

    assert len(rows) == len(set(rows)) == count(Settings)
    assert row(text, "PRESSROOM_AUTH__JWT_PREVIOUS_SECRETS")[2] == "empty"
    assert row(text, "PRESSROOM_DATABASE__URL")[2] == "a SQLite file, `<data dir>/pressroom.db`"


# ---------------------------------------------------------------- the generator
def test_variable_names_are_the_ones_pydantic_settings_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = reference.render(Example)
    for variable in ("EXAMPLE_COLOUR", "EXAMPLE_SECTION__PORT", "EXAMPLE_SECTION__INNER__DEPTH"):
        assert row(text, variable)

    monkeypatch.setenv("EXAMPLE_SECTION__PORT", "9123")
    monkeypatch.setenv("EXAMPLE_SECTION__INNER__DEPTH", "7")
    loaded = Example()

    assert (loaded.section.port, loaded.section.inner.depth) == (9123, 7)


def test_a_secret_default_is_never_printed() -> None:
    text = reference.render(Example)

    assert LEAKABLE not in text
    assert row(text, "EXAMPLE_SECTION__TOKEN")[2] == "set (secret, not shown)"
    assert row(text, "EXAMPLE_SECTION__KEYS")[2] == "set (secret, not shown)"


@pytest.mark.parametrize(
    ("variable", "kind", "default"),
    [
        ("EXAMPLE_COLOUR", "one of `red`, `blue`", "`red`"),
        ("EXAMPLE_NAME", "string, at most 10 characters", '`""` (empty)'),
        ("EXAMPLE_SECTION__PORT", "integer, 1 to 65535", "`8000`"),
        ("EXAMPLE_SECTION__URL", "secret string, optional", "whatever the data directory gives"),
        ("EXAMPLE_SECTION__MODE", "one of `fast`, `safe`", "`safe`"),
        ("EXAMPLE_SECTION__LIFETIME_SECONDS", "integer", "`604800` (7 days)"),
        ("EXAMPLE_SECTION__LIMIT_BYTES", "integer", "`1048576` (1 MiB)"),
        ("EXAMPLE_SECTION__RATIO", "number, above 0", "`0.25`"),
        ("EXAMPLE_SECTION__NAMES", "list of strings: a JSON list", "empty"),
        (
            "EXAMPLE_SECTION__KEYS",
            "list of secret strings: comma-separated or a JSON list",
            "set (secret, not shown)",
        ),
    ],
)
def test_types_and_defaults_read_as_an_operator_writes_them(
    variable: str, kind: str, default: str
) -> None:
    cells = row(reference.render(Example), variable)

    assert cells[1:3] == [kind, default]


def test_sections_get_a_table_with_their_description() -> None:
    text = reference.render(Example)

    assert "### General (`EXAMPLE_*`)" in text
    assert "### Section (`EXAMPLE_SECTION__*`)\n\nThe section, described." in text
    assert "### Section: inner (`EXAMPLE_SECTION__INNER__*`)\n\nDeeper still." in text
    assert row(text, "EXAMPLE_SECTION__PORT")[3] == "Port \\| with a pipe."


def test_fields_and_sections_without_a_description_are_named() -> None:
    assert list(reference.undocumented(Missing)) == [
        "plain",
        "section",
        "section.bare",
        "anonymous",
        "anonymous.value",
    ]


# ---------------------------------------------------------------- the command
@pytest.fixture
def pressroom(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Pressroom:
    """`pressroom <args>` run in this process."""

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["pressroom", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        code = exited.value.code
        return Outcome(code if isinstance(code, int) else 0, *capsys.readouterr())

    return run


@pytest.fixture
def page(tmp_path: Path) -> Path:
    copy = tmp_path / "operations.md"
    shutil.copy(OPERATIONS, copy)
    return copy


def test_command_prints_the_reference(pressroom: Pressroom) -> None:
    outcome = pressroom("settings-reference")

    assert outcome.code == 0, outcome.err
    assert outcome.out == reference.render()


def test_check_fails_on_a_stale_page_and_write_fixes_it(pressroom: Pressroom, page: Path) -> None:
    stale = page.read_text(encoding="utf-8").replace("PRESSROOM_AUTH__JWT_ISSUER", "STALE")
    page.write_text(stale, encoding="utf-8")

    failed = pressroom("settings-reference", "--check", "--document", str(page))
    written = pressroom("settings-reference", "--write", "--document", str(page))
    checked = pressroom("settings-reference", "--check", "--document", str(page))
    again = pressroom("settings-reference", "--write", "--document", str(page))

    assert failed.code == 2
    assert (
        failed.err == f"error: {page} is out of date: run `pressroom settings-reference --write`\n"
    )
    assert (written.code, written.out) == (0, f"updated: {page}\n")
    assert (checked.code, checked.out) == (0, f"{page} is up to date\n")
    assert (again.code, again.out) == (0, f"unchanged: {page}\n")
    assert page.read_text(encoding="utf-8") == OPERATIONS.read_text(encoding="utf-8")


def test_write_keeps_everything_outside_the_markers(pressroom: Pressroom, page: Path) -> None:
    page.write_text(
        f"# Before\n\n{reference.START}\nold\n{reference.END}\n\n## After\n", encoding="utf-8"
    )

    assert pressroom("settings-reference", "--write", "--document", str(page)).code == 0

    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# Before\n\n{reference.START}\n{reference.render()}{reference.END}")
    assert text.endswith(f"{reference.END}\n\n## After\n")


def test_a_page_without_markers_is_a_one_line_error(pressroom: Pressroom, page: Path) -> None:
    page.write_text("# No markers\n", encoding="utf-8")

    outcome = pressroom("settings-reference", "--write", "--document", str(page))

    assert outcome.code == 2
    assert "settings-reference:start" in outcome.err
    assert page.read_text(encoding="utf-8") == "# No markers\n"
