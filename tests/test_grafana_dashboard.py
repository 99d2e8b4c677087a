"""deploy/grafana/pressroom.json asks Prometheus only for what Pressroom exports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pressroom.main import create_app
from tests.conftest import base_settings
from tests.metrics_scrapes import sample_names

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "pressroom.json"
TOKEN = "dashboard-token-" + "d" * 20

# PromQL words that are not metric names: functions, aggregations, modifiers.
PROMQL_WORDS = frozenset(
    {
        "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile",
        "by", "without", "on", "ignoring", "group_left", "group_right", "label_values", "and",
        "or", "unless", "bool", "offset", "clamp_min", "clamp_max", "topk", "bottomk",
    }
)  # fmt: skip
# Labels Prometheus adds to every series it scrapes.
TARGET_LABELS = frozenset({"job", "instance"})


def expressions(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield variable["query"]["query"]


def metric_names(expression: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", text)  # grouping labels
    text = re.sub(r"\$\w+", "", text)  # Grafana variables
    words = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text)
    names = {word for word in words if word not in PROMQL_WORDS}
    # label_values(metric, label): the second argument is a label.
    names -= set(re.findall(r"label_values\([^,]*,\s*(\w+)\)", expression))
    return names


def label_names(expression: str) -> set[str]:
    labels = set(re.findall(r'(\w+)\s*=~?\s*"', expression))
    for grouping in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expression):
        labels |= {label.strip() for label in grouping.split(",") if label.strip()}
    labels |= set(re.findall(r"label_values\([^,]*,\s*(\w+)\)", expression))
    return labels


@pytest.fixture
async def scrape(sqlite_template: Path, tmp_path: Path) -> str:
    """A real scrape of an app that has served requests and used its pool."""
    url = f"sqlite+aiosqlite:///{sqlite_template}"
    app = create_app(base_settings(tmp_path, url, metrics={"token": TOKEN}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/api/tags")
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.text


def test_dashboard_expressions_use_only_exported_metrics_and_labels(scrape: str) -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    exported = sample_names(scrape)
    labels = set(re.findall(r"(\w+)=\"", scrape)) | TARGET_LABELS | {"pid"}

    used: set[str] = set()
    for expression in expressions(dashboard):
        names = metric_names(expression)
        assert names, expression
        assert names <= exported, f"{expression}: not exported: {names - exported}"
        assert label_names(expression) <= labels, expression
        used |= names

    # And every metric Pressroom exports has a place on the dashboard.
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in exported}
    shown = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert families == shown


def test_dashboard_panels_read_the_chosen_datasource() -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    chosen = {"type": "prometheus", "uid": f"${{{variable['name']}}}"}
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == chosen, panel["title"]
        assert all(target["datasource"] == chosen for target in panel["targets"])
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles))
