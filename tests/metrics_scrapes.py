"""Reading a Prometheus text scrape in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample_total(text: str, name: str, **labels: str) -> float:
    """The sum of every sample named `name` whose labels include `labels`."""
    total = 0.0
    found = False
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
                found = True
    assert found, f"no sample {name} {labels} in the scrape"
    return total


def sample_names(text: str) -> set[str]:
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def route_labels(text: str) -> set[str]:
    return {
        sample.labels["route"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "route" in sample.labels
    }
