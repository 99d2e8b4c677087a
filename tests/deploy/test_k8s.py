"""The Kubernetes manifests: valid for the API server, and safe to run (no cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from pydantic import ValidationError

from pressroom.core.settings import Settings
from tests.deploy.files import (
    K8S,
    KUSTOMIZATION,
    WORKER,
    dockerfile_env,
    dockerfile_stages,
    image_user,
    load_yaml,
    manifest_paths,
    manifests,
)

# The oldest Kubernetes these manifests support (the preStop `sleep` action is on by default
# from 1.30) and the newest whose schemas kubernetes-validate bundles.
OLDEST = "1.30"
NEWEST = kubernetes_validate.utils.major_minor(kubernetes_validate.utils.latest_version())
NOT_APPLIED = {"secret.example.yaml", "job-migrate.yaml"}


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize("path", manifest_paths(), ids=lambda path: path.name)
def test_manifest_is_valid_for_the_kubernetes_api(path: Path, version: str) -> None:
    # Strict schemas refuse unknown fields too: a misspelt key would be dropped by the server.
    checked = kubernetes_validate.validate(load_yaml(path), version, strict=True)
    assert checked == version


def test_the_strict_schemas_catch_a_misspelt_field() -> None:
    deployment = manifests()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")

    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, NEWEST, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template_and_the_job() -> None:
    listed = load_yaml(KUSTOMIZATION)["resources"]

    assert sorted(listed) == sorted(p.name for p in manifest_paths() if p.name not in NOT_APPLIED)
    assert all((K8S / name).is_file() for name in listed)


def _pod(kind: str) -> dict[str, Any]:
    pod: dict[str, Any] = manifests()[kind]["spec"]["template"]["spec"]
    return pod


def _api() -> dict[str, Any]:
    container: dict[str, Any] = _pod("Deployment")["containers"][0]
    return container


def _config() -> dict[str, str]:
    data: dict[str, str] = manifests()["ConfigMap"]["data"]
    return data


def _port(container: dict[str, Any], name: str) -> int:
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    number: int = ports[name]
    return number


def test_probes_ask_readyz_and_healthz_on_the_port_the_server_binds() -> None:
    api = _api()
    readiness = api["readinessProbe"]["httpGet"]
    liveness = api["livenessProbe"]["httpGet"]

    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert api[probe]["httpGet"]["port"] == "http"
    assert _port(api, "http") == int(_config()["PRESSROOM_SERVER__PORT"])
    assert _config()["PRESSROOM_SERVER__HOST"] == "0.0.0.0"  # noqa: S104 (a pod must listen)


def test_probes_send_a_host_the_server_accepts() -> None:
    allowed = _config()["PRESSROOM_SECURITY__ALLOWED_HOSTS"].split(",")
    api = _api()

    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        headers = {h["name"]: h["value"] for h in api[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed, probe


def test_termination_grace_outlasts_the_pre_stop_pause_and_the_shutdown_grace() -> None:
    pod = _pod("Deployment")
    pause = _api()["lifecycle"]["preStop"]["sleep"]["seconds"]
    shutdown_grace = int(_config()["PRESSROOM_SERVER__SHUTDOWN_GRACE_SECONDS"])
    shutdown_grace += int(_config()["PRESSROOM_SERVER__DRAIN_SECONDS"])

    assert pause >= 3
    assert pod["terminationGracePeriodSeconds"] > pause + shutdown_grace


@pytest.mark.parametrize("kind", ["Deployment", WORKER, "Job"])
def test_pods_run_as_the_image_user_without_privileges_on_a_read_only_root(kind: str) -> None:
    pod = _pod(kind)
    image_uid, image_gid = image_user(dockerfile_stages()[-1]).split(":")

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(image_uid)
    assert pod["securityContext"]["runAsGroup"] == int(image_gid)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert "privileged" not in context


@pytest.mark.parametrize("kind", ["Deployment", WORKER, "Job"])
def test_the_only_writable_paths_are_empty_dirs_for_tmp_and_the_data_dir(kind: str) -> None:
    pod = _pod(kind)
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}

    assert set(mounts) == {"/tmp", _config()["PRESSROOM_DATA_DIR"]}  # noqa: S108
    assert (
        _config()["PRESSROOM_DATA_DIR"]
        == dockerfile_env(dockerfile_stages()[-1])["PRESSROOM_DATA_DIR"]
    )
    assert all("emptyDir" in volumes[name] for name in mounts.values())


@pytest.mark.parametrize("kind", ["Deployment", WORKER, "Job"])
def test_every_container_has_resource_requests_and_limits(kind: str) -> None:
    for container in _pod(kind)["containers"]:
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_settings_come_from_the_config_map_and_the_secret() -> None:
    for kind in ("Deployment", WORKER, "Job"):
        sources = _pod(kind)["containers"][0]["envFrom"]
        assert {"configMapRef": {"name": manifests()["ConfigMap"]["metadata"]["name"]}} in sources
        assert {"secretRef": {"name": manifests()["Secret"]["metadata"]["name"]}} in sources
    secret_keys = set(manifests()["Secret"]["stringData"])
    assert {"PRESSROOM_AUTH__JWT_SECRET", "PRESSROOM_DATABASE__URL"} <= secret_keys
    assert not secret_keys & set(_config()), "a setting in both the Secret and the ConfigMap"


def test_the_secret_template_holds_no_usable_secret() -> None:
    values = manifests()["Secret"]["stringData"]

    assert "data" not in manifests()["Secret"]
    assert "REPLACE-ME" in values["PRESSROOM_DATABASE__URL"]
    # Applied unedited, production refuses to boot rather than sign tokens with a known key.
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(
            _env_file=None,
            env="production",
            auth={"jwt_secret": values["PRESSROOM_AUTH__JWT_SECRET"]},
            security={"allowed_hosts": _config()["PRESSROOM_SECURITY__ALLOWED_HOSTS"]},
            database={"url": values["PRESSROOM_DATABASE__URL"]},
        )


def test_the_config_map_is_a_valid_production_configuration() -> None:
    values: dict[str, Any] = {}
    for key, value in _config().items():
        *section, name = key.removeprefix("PRESSROOM_").lower().split("__")
        (values.setdefault(section[0], {}) if section else values)[name] = value
    values.pop("metrics")  # PENDING in setting_names.py: not a setting yet
    values["auth"] = {"jwt_secret": "k" * 40}
    values["database"]["url"] = "postgresql+asyncpg://pressroom@db/pressroom"

    settings = Settings(_env_file=None, **values)

    assert settings.is_production
    assert "localhost" in settings.allowed_hosts
    assert settings.server.workers == 1


def test_the_migration_job_runs_the_deployment_image_once() -> None:
    job = manifests()["Job"]
    migrate = _pod("Job")["containers"][0]

    assert migrate["image"] == _api()["image"]
    assert migrate["args"] == ["migrate"]
    assert _api()["args"] == ["serve"]
    assert _pod("Job")["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_metrics_port_is_exposed_and_announced_to_prometheus() -> None:
    metrics_port = int(_config()["PRESSROOM_METRICS__PORT"])
    annotations = manifests()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    service_ports = {port["name"]: port for port in manifests()["Service"]["spec"]["ports"]}

    assert _port(_api(), "metrics") == metrics_port
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == metrics_port
    assert annotations["prometheus.io/path"] == "/metrics"
    assert service_ports["metrics"]["targetPort"] == "metrics"
    assert service_ports["http"]["targetPort"] == "http"


def test_service_budget_and_autoscaler_select_the_api_pods() -> None:
    by_kind = manifests()
    labels = by_kind["Deployment"]["spec"]["template"]["metadata"]["labels"]
    target = by_kind["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]

    assert by_kind["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert by_kind["Service"]["spec"]["selector"].items() <= labels.items()
    assert by_kind["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= (
        labels.items()
    )
    assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "pressroom"}
    assert by_kind["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    assert "replicas" not in by_kind["Deployment"]["spec"], "the autoscaler owns the count"


def test_a_rollout_never_drops_below_current_capacity() -> None:
    rolling = manifests()["Deployment"]["spec"]["strategy"]["rollingUpdate"]

    assert rolling["maxUnavailable"] == 0


def test_every_object_lives_in_the_pressroom_namespace() -> None:
    for kind, document in manifests().items():
        if kind != "Namespace":
            assert document["metadata"]["namespace"] == manifests()["Namespace"]["metadata"]["name"]


def test_the_largest_fleet_fits_in_the_postgres_connection_limit() -> None:
    config = _config()
    per_worker = int(config["PRESSROOM_DATABASE__POOL_SIZE"]) + int(
        config["PRESSROOM_DATABASE__MAX_OVERFLOW"]
    )
    pods = manifests()["HorizontalPodAutoscaler"]["spec"]["maxReplicas"]
    migration_job = per_worker
    worker = manifests()[WORKER]["spec"]
    pool = {item["name"]: int(item["value"]) for item in _pod(WORKER)["containers"][0]["env"]}
    workers = worker["replicas"] * (
        pool["PRESSROOM_DATABASE__POOL_SIZE"] + pool["PRESSROOM_DATABASE__MAX_OVERFLOW"]
    )

    api = pods * int(config["PRESSROOM_SERVER__WORKERS"]) * per_worker
    assert api + workers + migration_job <= 100


def test_a_worker_deployment_delivers_background_jobs_for_the_api() -> None:
    worker = _pod(WORKER)["containers"][0]
    labels = manifests()[WORKER]["spec"]["template"]["metadata"]["labels"]

    assert worker["image"] == _api()["image"]
    assert worker["args"] == ["worker"]
    assert _config()["PRESSROOM_OUTBOX__RELAY"] == "external"
    # Neither the API's Service, budget nor autoscaler selects the worker pods.
    assert labels["app.kubernetes.io/component"] == "worker"
    assert manifests()["Service"]["spec"]["selector"].items() - labels.items()
    # The batch in hand (handler_timeout x ceil(batch_size / concurrency)) finishes first.
    assert _pod(WORKER)["terminationGracePeriodSeconds"] > 30 * 5
