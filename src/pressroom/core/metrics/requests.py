"""Per-request accounting, called by `HttpGuard` at the start and the end of each request.

A request only adds to plain numbers kept here; `flush` moves what was added since the last
flush into the Prometheus metrics, before every scrape this process answers and, in
multiprocess mode, every second (see app.py). Writing each request straight into
prometheus-client costs 5 locked writes (7 to 16 µs a request, the higher figure for the
memory-mapped files of multiprocess mode); adding to these numbers costs about one.

Route labels are route templates (`/api/articles/{slug}`), and a path that matched no route is
`unmatched`, so clients cannot create series at will; methods outside the standard set are
`other` for the same reason.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import TYPE_CHECKING

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import Scope

from pressroom.core.metrics.families import DURATION_BUCKETS

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

    from pressroom.core.metrics.families import Families

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BOUNDS = (*DURATION_BUCKETS, float("inf"))
_COMMON_CLASSES = (2, 3, 4, 5)


class _Series:
    """One (route, method): requests per status class and the latency histogram, as numbers
    added to by requests and what of them has already gone into the metrics."""

    __slots__ = (
        "buckets",
        "by_class",
        "counts",
        "duration",
        "families",
        "flushed_buckets",
        "flushed_counts",
        "flushed_seconds",
        "method",
        "route",
        "seconds",
    )

    def __init__(self, families: Families, method: str, route: str) -> None:
        self.families = families
        self.method = method
        self.route = route
        self.counts = [0] * 6  # by status class, 1xx..5xx (index 0: not an HTTP status)
        self.flushed_counts = [0] * 6
        self.buckets = [0] * len(_BOUNDS)  # per bucket, not cumulative (as prometheus-client)
        self.flushed_buckets = [0] * len(_BOUNDS)
        self.seconds = self.flushed_seconds = 0.0
        self.duration: Histogram = families.duration.labels(method, route)
        # Classes nobody saw yet exist at zero, so rates and ratios work from the start.
        self.by_class: dict[int, Counter] = {
            status_class: self._counter(status_class) for status_class in _COMMON_CLASSES
        }

    def _counter(self, status_class: int) -> Counter:
        label = f"{status_class}xx" if status_class else "5xx"  # not HTTP: a broken answer
        return self.families.requests.labels(self.method, self.route, label)

    def flush(self) -> None:
        # Snapshots: requests may add while this runs (from another thread); they are
        # counted at the next flush, never twice and never lost.
        pairs = zip(self.counts, self.flushed_counts, strict=True)
        for status_class, (total, flushed) in enumerate(pairs):
            if total != flushed:
                counter = self.by_class.get(status_class)
                if counter is None:
                    counter = self.by_class[status_class] = self._counter(status_class)
                counter.inc(total - flushed)
                self.flushed_counts[status_class] = total
        # prometheus-client has no public way to add many observations at once: its
        # histogram keeps one value per bucket and the sum, which are added to here.
        values = self.duration._buckets
        pairs = zip(self.buckets, self.flushed_buckets, strict=True)
        for index, (total, flushed) in enumerate(pairs):
            if total != flushed:
                values[index].inc(total - flushed)
                self.flushed_buckets[index] = total
        seconds = self.seconds
        if seconds != self.flushed_seconds:
            self.duration._sum.inc(seconds - self.flushed_seconds)
            self.flushed_seconds = seconds


class RequestMetrics:
    def __init__(self, families: Families, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.families = families
        self.routes = routes
        self.templates: dict[int, str] | None = None
        self.in_flight = 0
        # id of the route (routes live as long as the app; some are unhashable; id(None) for
        # unmatched paths) -> method -> its series, or None for /metrics itself
        self.series: dict[int, dict[str, _Series | None]] = {}
        self.all_series: list[_Series] = []

    def start(self) -> float:
        """A request arrived: its start time, to hand back to `end`."""
        self.in_flight += 1
        return perf_counter()

    def end(self, scope: Scope, status: int, started: float) -> None:
        """The request is over: `status` is what its response started with."""
        elapsed = perf_counter() - started
        self.in_flight -= 1
        route = scope.get("route")
        try:
            series = self.series[id(route)][scope["method"]]
        except KeyError:
            series = self._add(route, scope["method"])
        if series is None:
            return
        status_class = status // 100
        series.counts[status_class if 0 < status_class < 6 else 0] += 1
        series.buckets[bisect_left(_BOUNDS, elapsed)] += 1
        series.seconds += elapsed

    def flush(self) -> None:
        """Moves what requests added since the last flush into the metrics."""
        self.families.in_flight.set(self.in_flight)
        for series in tuple(self.all_series):
            series.flush()

    def _add(self, route: object, method: str) -> _Series | None:
        by_method = self.series.setdefault(id(route), {})
        label = method if method in METHODS else OTHER_METHOD
        if label in by_method:  # only standard methods are kept by their own name
            return by_method[label]
        path = UNMATCHED if route is None else self._template(route)
        series = None
        if path != METRICS_PATH:
            series = _Series(self.families, label, path)
            self.all_series.append(series)
        by_method[label] = series
        return series

    def _template(self, route: object) -> str:
        """The route's full path template: FastAPI keeps routers nested, so a route object only
        knows its path within its router (`/articles/{slug}`, not `/api/articles/{slug}`)."""
        if self.templates is None:  # first request: every route is registered by now
            self.templates = {}
            for context in iter_route_contexts(self.routes()):
                if context.path is not None:
                    self.templates.setdefault(id(context.original_route), context.path)
        return self.templates.get(id(route)) or getattr(route, "path", None) or UNMATCHED
