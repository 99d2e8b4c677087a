"""Per-request accounting, called by `HttpGuard` at the start and the end of each request.

Label children are looked up once per (route, method) and kept: `labels()` costs more than
the increments themselves. Route labels are route templates (`/api/articles/{slug}`), and a
path that matched no route is `unmatched`, so clients cannot create series at will; methods
outside the standard set are `other` for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from time import perf_counter
from typing import TYPE_CHECKING

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import Scope

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

    from pressroom.core.metrics.families import Families

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_COMMON_CLASSES = (2, 3, 4, 5)


class _Series:
    """The children of one (route, method): a counter per status class and the histogram."""

    __slots__ = ("by_class", "duration", "families", "method", "route")

    def __init__(self, families: Families, method: str, route: str) -> None:
        self.families = families
        self.method = method
        self.route = route
        self.duration: Histogram = families.duration.labels(method, route)
        self.by_class: dict[int, Counter] = {}
        for status_class in _COMMON_CLASSES:
            self.add(status_class)

    def add(self, status_class: int) -> Counter:
        if not 1 <= status_class <= 5:
            status_class = 5  # not an HTTP status: the client saw a broken answer
        counter = self.families.requests.labels(self.method, self.route, f"{status_class}xx")
        self.by_class[status_class] = counter
        return counter


class RequestMetrics:
    def __init__(self, families: Families, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.families = families
        self.routes = routes
        self.templates: dict[int, str] | None = None
        self.in_flight_inc = families.in_flight.inc
        self.in_flight_dec = families.in_flight.dec
        # id of the route (routes live as long as the app; some are unhashable; id(None) for
        # unmatched paths) -> method -> its series, or None for /metrics itself
        self.series: dict[int, dict[str, _Series | None]] = {}

    def start(self) -> float:
        """A request arrived: its start time, to hand back to `end`."""
        self.in_flight_inc()
        return perf_counter()

    def end(self, scope: Scope, status: int, started: float) -> None:
        """The request is over: `status` is what its response started with."""
        elapsed = perf_counter() - started
        self.in_flight_dec()
        route = scope.get("route")
        try:
            series = self.series[id(route)][scope["method"]]
        except KeyError:
            series = self._add(route, scope["method"])
        if series is None:
            return
        counter = series.by_class.get(status // 100)
        if counter is None:
            counter = series.add(status // 100)
        counter.inc()
        series.duration.observe(elapsed)

    def _add(self, route: object, method: str) -> _Series | None:
        by_method = self.series.setdefault(id(route), {})
        label = method if method in METHODS else OTHER_METHOD
        if label in by_method:
            return by_method[label]
        path = UNMATCHED if route is None else self._template(route)
        series = None if path == METRICS_PATH else _Series(self.families, label, path)
        # Only standard methods are kept by their own name: the rest share `other`.
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
