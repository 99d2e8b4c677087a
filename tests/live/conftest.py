from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pressroom.core.settings import Settings
from tests.conftest import base_settings


@pytest.fixture
def live_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for one test: `@pytest.mark.parametrize("live_options", [{...}], indirect=True)`
    with a `live` section and other sections by name."""
    options: dict[str, Any] = getattr(request, "param", {})
    return options


@pytest.fixture
def settings(database_url: str, tmp_path: Path, live_options: dict[str, Any]) -> Settings:
    options = dict(live_options)
    options.setdefault("rate_limit", {"enabled": False})
    return base_settings(tmp_path, database_url, **options)
