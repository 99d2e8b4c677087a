"""deploy/compose.yaml: valid Compose, and the production stack a reviewer expects."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from check_jsonschema.builtin_schemas import get_builtin_schema

from tests.deploy.files import (
    COMPOSE,
    DEPLOY,
    dockerfile_env,
    dockerfile_stages,
    load_yaml,
)

# The Compose Specification's JSON schema (compose-spec/compose-spec, Apache-2.0), as vendored
# and kept current by check-jsonschema (its license file ships beside it in that package).
COMPOSE_SCHEMA = get_builtin_schema("vendor.compose-spec")
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z_]+:\?[^}]+\}")


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load_yaml(COMPOSE)["services"]
    return services


def test_compose_file_follows_the_compose_specification() -> None:
    jsonschema.Draft202012Validator(COMPOSE_SCHEMA).validate(load_yaml(COMPOSE))


def test_the_schema_catches_a_misspelt_service_key() -> None:
    document = load_yaml(COMPOSE)
    document["services"]["api"]["healthchek"] = document["services"]["api"].pop("healthcheck")

    with pytest.raises(jsonschema.ValidationError, match="healthchek"):
        jsonschema.Draft202012Validator(COMPOSE_SCHEMA).validate(document)


def test_the_stack_has_api_migration_postgres_redis_and_a_mail_catcher() -> None:
    services = _services()

    assert set(services) == {"api", "worker", "migrate", "postgres", "redis", "mailpit"}
    assert services["api"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")


def test_the_api_starts_only_after_the_migration_succeeded() -> None:
    depends = _services()["api"]["depends_on"]

    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert depends["postgres"] == {"condition": "service_healthy"}
    assert depends["redis"] == {"condition": "service_healthy"}
    assert _services()["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in _services().items():
        if name in ("migrate", "worker"):  # a one-off job; a process with no port
            assert service["healthcheck"] == {"disable": True}
        else:
            assert service["healthcheck"]["test"][0] == "CMD", name
    assert "/readyz" in _services()["api"]["healthcheck"]["test"]


def test_the_api_runs_in_production_with_several_workers_on_postgres_and_redis() -> None:
    environment = _services()["api"]["environment"]
    workers = re.fullmatch(r"\$\{WORKERS:-(\d+)\}", environment["PRESSROOM_SERVER__WORKERS"])

    assert environment["PRESSROOM_ENV"] == "production"
    assert workers is not None
    assert int(workers.group(1)) > 1
    assert environment["PRESSROOM_DATABASE__URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in environment["PRESSROOM_DATABASE__URL"]
    assert environment["PRESSROOM_REDIS__URL"].startswith("redis://redis:")
    assert "localhost" in environment["PRESSROOM_SECURITY__ALLOWED_HOSTS"]
    assert (
        _services()["migrate"]["environment"]["PRESSROOM_DATABASE__URL"]
        == (environment["PRESSROOM_DATABASE__URL"])
    )


def test_secrets_come_from_the_env_file_and_are_never_written_here() -> None:
    api = _services()["api"]["environment"]
    postgres = _services()["postgres"]["environment"]

    # `${NAME:?message}`: compose refuses to start when deploy/.env does not set it.
    assert REQUIRED_VARIABLE.fullmatch(api["PRESSROOM_AUTH__JWT_SECRET"])
    assert REQUIRED_VARIABLE.fullmatch(postgres["POSTGRES_PASSWORD"])
    assert REQUIRED_VARIABLE.search(api["PRESSROOM_DATABASE__URL"])
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^JWT_SECRET=$", example, re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.MULTILINE)


def test_the_api_stops_after_its_shutdown_grace_and_runs_hardened() -> None:
    api = _services()["api"]
    environment = api["environment"]
    grace = int(environment["PRESSROOM_SERVER__DRAIN_SECONDS"])
    grace += int(environment["PRESSROOM_SERVER__SHUTDOWN_GRACE_SECONDS"])

    assert int(api["stop_grace_period"].removesuffix("s")) > grace
    assert api["read_only"] is True
    assert api["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in api["security_opt"]
    assert any(volume.endswith(":/var/lib/pressroom") for volume in api["volumes"])


def test_the_compose_health_check_and_data_volume_match_the_image() -> None:
    image = dockerfile_stages()[-1]
    script = image.one("HEALTHCHECK").exec_form()[:2]
    api = _services()["api"]

    assert api["healthcheck"]["test"][1:3] == script
    assert api["environment"]["PRESSROOM_DATA_DIR"] == dockerfile_env(image)["PRESSROOM_DATA_DIR"]


def test_a_worker_delivers_background_jobs_for_the_api() -> None:
    api, worker = _services()["api"], _services()["worker"]

    assert api["environment"]["PRESSROOM_OUTBOX__RELAY"] == "external"
    # The same image, settings and hardening as the API (the shared anchor).
    assert (
        worker["environment"]["PRESSROOM_DATABASE__URL"]
        == api["environment"]["PRESSROOM_DATABASE__URL"]
    )
    assert worker["read_only"] is True
    assert worker["cap_drop"] == ["ALL"]
    assert worker["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert worker["restart"] == "unless-stopped"
    # Its batch in hand finishes before compose's SIGKILL.
    assert int(worker["stop_grace_period"].removesuffix("s")) > 30 * 5
