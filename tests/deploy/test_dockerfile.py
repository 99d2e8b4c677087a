"""deploy/Dockerfile and .dockerignore, read without a Docker engine."""

from __future__ import annotations

import fnmatch
import re
import shlex

from tests.deploy.files import (
    DOCKERFILE,
    ROOT,
    dockerfile_env,
    dockerfile_stages,
    image_user,
    stage_args,
)

BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|pip|uv|gcc|g\+\+|make|build-essential|python3?-dev|curl|wget)\b"
)


def test_the_image_is_built_in_two_stages_from_slim_python() -> None:
    builder, runtime = dockerfile_stages()

    assert builder.name == "builder"
    assert runtime.base.startswith("python:")
    assert runtime.base.endswith("-slim")
    assert builder.base == runtime.base


def test_the_builder_uses_the_uv_that_dev_py_pins() -> None:
    builder = dockerfile_stages()[0]
    pinned = re.search(r'UV_VERSION = "([^"]+)"', (ROOT / "dev.py").read_text(encoding="utf-8"))

    assert pinned is not None
    assert stage_args(builder)["UV_VERSION"] == pinned.group(1)


def test_the_builder_installs_the_locked_runtime_dependencies_and_the_project_as_a_wheel() -> None:
    syncs = [
        line.arguments for line in dockerfile_stages()[0].all("RUN") if "uv sync" in line.arguments
    ]

    assert syncs
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
    assert "--no-editable" in syncs[-1]
    assert "--no-install-project" not in syncs[-1]


def test_the_final_stage_gets_only_the_environment_and_installs_nothing() -> None:
    runtime = dockerfile_stages()[-1]
    copies = [shlex.split(line.arguments) for line in runtime.all("COPY")]

    for line in runtime.all("RUN"):
        assert not BUILD_TOOLS.search(line.arguments), line.arguments
    assert [c for c in copies if c[0].startswith("--from")] == [
        ["--from=builder", "/opt/pressroom", "/opt/pressroom"]
    ]
    # The one other file: the standard-library health check script.
    assert [c for c in copies if not c[0].startswith("--from")] == [
        ["deploy/healthcheck.py", "/usr/local/share/pressroom/healthcheck.py"]
    ]


def test_the_final_stage_runs_as_a_fixed_non_root_user() -> None:
    uid, gid = image_user(dockerfile_stages()[-1]).split(":")

    assert int(uid) >= 1000
    assert int(gid) >= 1000


def test_the_health_check_asks_healthz_with_python() -> None:
    check = dockerfile_stages()[-1].one("HEALTHCHECK")

    assert check.exec_form() == [
        "python",
        "/usr/local/share/pressroom/healthcheck.py",
        "/healthz",
    ]


def test_the_container_serves_by_default_and_migrates_only_when_asked() -> None:
    runtime = dockerfile_stages()[-1]
    env = dockerfile_env(runtime)

    assert runtime.one("ENTRYPOINT").exec_form() == ["pressroom"]
    assert runtime.one("CMD").exec_form() == ["serve"]
    assert not any("migrate" in line.arguments for line in runtime.all("RUN"))
    assert runtime.one("EXPOSE").arguments == env["PRESSROOM_SERVER__PORT"]


def test_the_environment_suits_a_container() -> None:
    env = dockerfile_env(dockerfile_stages()[-1])

    assert env["PRESSROOM_SERVER__HOST"] == "0.0.0.0"  # noqa: S104 (a container must listen)
    assert env["PRESSROOM_ENV"] == "production"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/pressroom/bin:")
    data_dir = env["PRESSROOM_DATA_DIR"]
    runtime_runs = " ".join(line.arguments for line in dockerfile_stages()[-1].all("RUN"))
    assert f"chown pressroom:pressroom {data_dir}" in runtime_runs


def _ignored(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for rule in rules:
        negated = rule.startswith("!")
        pattern = rule.removeprefix("!").removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in [*prefixes, parts[-1]]):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_local_state_out_and_the_build_inputs_in() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        source
        for stage in dockerfile_stages()
        for line in stage.all("COPY")
        if not line.arguments.startswith("--from")
        for source in shlex.split(line.arguments)[:-1]
    ]

    for local in (".git", ".venv", ".tools", "data", "tests", ".pytest_cache", "deploy/.env"):
        assert _ignored(local, rules), local
    assert _ignored("src/pressroom/__pycache__/main.cpython-311.pyc", rules)
    assert sources
    for source in sources:
        assert (DOCKERFILE.parent.parent / source).exists(), source
        assert not _ignored(source, rules), source
