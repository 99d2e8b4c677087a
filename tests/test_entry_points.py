"""The ways a server or a shell starts Pressroom: the ASGI factory and `python -m pressroom`."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from pressroom.asgi import create_app_from_env
from pressroom.core.settings import Settings


@pytest.mark.usefixtures("clean_environment")
def test_asgi_factory_reads_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PRESSROOM_DATABASE__POOL_SIZE", "7")

    app = create_app_from_env()

    settings: Settings = app.state.settings
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.database.pool_size == 7
    assert app.title == "Pressroom"


@pytest.mark.usefixtures("clean_environment")
def test_python_dash_m_runs_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["pressroom", "--help"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("pressroom", run_name="__main__")
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    for command in ("serve", "migrate", "seed", "openapi"):
        assert command in shown
