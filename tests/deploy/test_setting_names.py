"""Every PRESSROOM_* variable the deployment files set is a real setting: a typo would be
ignored silently (Settings ignores unknown variables), and the default would quietly win."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy.files import (
    COMPOSE,
    DEPLOY,
    ROOT,
    dockerfile_env,
    dockerfile_stages,
    load_yaml,
    manifests,
)
from tests.deploy.setting_names import PENDING, PREFIX, setting_names


def _k8s_names() -> set[str]:
    by_kind = manifests()
    names = set(by_kind["ConfigMap"]["data"]) | set(by_kind["Secret"]["stringData"])
    for kind in ("Deployment", "Job"):
        for container in by_kind[kind]["spec"]["template"]["spec"]["containers"]:
            names |= {variable["name"] for variable in container.get("env", [])}
    return names


def _compose_names() -> set[str]:
    services: dict[str, dict[str, Any]] = load_yaml(COMPOSE)["services"]
    return {name for service in services.values() for name in service.get("environment", {})}


def _dockerfile_names() -> set[str]:
    return {name for stage in dockerfile_stages() for name in dockerfile_env(stage)}


def _text_names(text: str) -> set[str]:
    return set(re.findall(r"\bPRESSROOM_[A-Z0-9_]+", text))


def _comment_names() -> set[str]:
    # Names in comments and commands too (the Secret template's kubectl line, the healthcheck).
    paths = [*DEPLOY.rglob("*.yaml"), DEPLOY / "Dockerfile", DEPLOY / "healthcheck.py"]
    return _text_names("".join(path.read_text(encoding="utf-8") for path in paths))


def _docs_names() -> set[str]:
    return _text_names((ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"))


SOURCES: dict[str, Callable[[], set[str]]] = {
    "k8s": _k8s_names,
    "compose": _compose_names,
    "Dockerfile": _dockerfile_names,
    "comments": _comment_names,
    "docs": _docs_names,
}


@pytest.mark.parametrize("source", SOURCES)
def test_every_setting_named_is_a_field_of_the_settings_model(source: str) -> None:
    named = {name for name in SOURCES[source]() if name.startswith(PREFIX)}

    assert named, f"{source}: no setting found (is the parser still reading the file?)"
    assert named - setting_names() - PENDING == set()


def test_the_names_come_from_the_model() -> None:
    names = setting_names()

    assert {"PRESSROOM_ENV", "PRESSROOM_SERVER__WORKERS", "PRESSROOM_AUTH__JWT_SECRET"} <= names
    assert "PRESSROOM_SERVER__WORKER" not in names


def test_pending_names_are_not_yet_settings() -> None:
    # When a pending setting lands, drop it from PENDING so it is checked like the others.
    assert PENDING.isdisjoint(setting_names())
