"""Rate limits: named policies, a limiter with Redis or in-memory counters, the middleware."""

from pressroom.core.ratelimit.limiter import LimiterStatus, RateLimiter
from pressroom.core.ratelimit.middleware import RateLimitMiddleware, client_ip, record
from pressroom.core.ratelimit.policies import Policies, Policy
from pressroom.core.ratelimit.storage import Decision

__all__ = [
    "Decision",
    "LimiterStatus",
    "Policies",
    "Policy",
    "RateLimitMiddleware",
    "RateLimiter",
    "client_ip",
    "record",
]
