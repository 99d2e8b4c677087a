"""The metric families Pressroom exports, each registered once per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# From half a millisecond (a cached read) to ten seconds (the statement timeout's order).
DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class Families:
    """Every metric, built on `registry` (in multiprocess mode the values live in files)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "pressroom_http_requests_total",
            "HTTP requests answered, by method, route template and status class.",
            ("method", "route", "status_class"),
            registry=registry,
        )
        self.duration = Histogram(
            "pressroom_http_request_duration_seconds",
            "Time from a request's arrival to its last response byte, by method and route.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        # livesum: the requests in flight in the workers alive now, added up.
        self.in_flight = Gauge(
            "pressroom_http_requests_in_flight",
            "HTTP requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        # liveall: one series per live worker (label `pid`), as each worker has its own pool.
        self.pool_checked_out = Gauge(
            "pressroom_db_pool_checked_out_connections",
            "Database connections in use (checked out of the pool).",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.pool_overflow = Gauge(
            "pressroom_db_pool_overflow_connections",
            "Database connections open beyond the pool size.",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.pool_size = Gauge(
            "pressroom_db_pool_size_connections",
            "Connections the pool keeps open (database.pool_size).",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.pool_max_overflow = Gauge(
            "pressroom_db_pool_max_overflow_connections",
            "Connections the pool may open beyond its size (database.max_overflow).",
            registry=registry,
            multiprocess_mode="liveall",
        )
