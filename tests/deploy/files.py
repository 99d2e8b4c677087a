"""The deployment files under deploy/, loaded for tests: YAML documents and Dockerfile stages."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
KUSTOMIZATION = K8S / "kustomization.yaml"


def load_yaml(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def manifest_paths() -> list[Path]:
    """Every Kubernetes manifest (the kustomization file is kustomize's, not the API server's)."""
    return sorted(path for path in K8S.glob("*.yaml") if path != KUSTOMIZATION)


WORKER = "Deployment (worker)"
"""The key of the background worker's Deployment in `manifests()` (the API's is `Deployment`)."""


def manifests() -> dict[str, dict[str, Any]]:
    """Manifests by kind (one object of each kind here, but the worker's Deployment: `WORKER`)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for path in manifest_paths():
        document = load_yaml(path)
        labels = document["metadata"].get("labels", {})
        is_worker = labels.get("app.kubernetes.io/component") == "worker"
        key = WORKER if is_worker and document["kind"] == "Deployment" else document["kind"]
        assert key not in by_kind, f"two {key} manifests"
        by_kind[key] = document
    return by_kind


@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of a CMD, ENTRYPOINT or HEALTHCHECK ... CMD, as a list."""
        text = self.arguments.split(" CMD ", 1)[-1] if self.keyword == "HEALTHCHECK" else ""
        text = text or self.arguments
        match = re.search(r"\[.*\]", text)
        assert match, f"{self.keyword} is not in exec form: {self.arguments}"
        words: list[str] = json.loads(match.group(0))
        return words


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [line for line in self.instructions if line.keyword == keyword]

    def one(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert len(found) == 1, f"stage {self.name}: {len(found)} {keyword} instructions"
        return found[0]


def dockerfile_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The Dockerfile's stages, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = shlex.split(arguments)
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, arguments.strip()))
    return stages


def dockerfile_env(stage: Stage) -> dict[str, str]:
    """The ENV values a stage sets (`ENV A=1 B=2` form)."""
    values: dict[str, str] = {}
    for line in stage.all("ENV"):
        for word in shlex.split(line.arguments):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def stage_args(stage: Stage) -> dict[str, str]:
    """The ARG defaults a stage declares (`ARG NAME=default`)."""
    return dict(line.arguments.partition("=")[::2] for line in stage.all("ARG"))


def image_user(stage: Stage) -> str:
    """The final USER of a stage, with ${ARG} references replaced by their defaults."""
    user = stage.all("USER")[-1].arguments
    for name, value in stage_args(stage).items():
        user = user.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return user
