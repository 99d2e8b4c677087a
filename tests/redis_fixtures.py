"""The shared test Redis: its URL, a key prefix per test, and a fixture that checks it answers.

Redis at 127.0.0.1:6379 (or PRESSROOM_TEST_REDIS_URL). Without it the tests that need it are
skipped locally and fail under CI=true. A plugin of tests/conftest.py: every test may ask
for `redis_url` and `key_prefix`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
import redis
import redis.asyncio

from tests.conftest import IN_CI

REDIS_URL = os.environ.get("PRESSROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(message: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{message} (CI=true: Redis tests must run)", pytrace=False)
    pytest.skip(f"{message}; start Redis to run the Redis tests")


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"pressroom-test-{uuid.uuid4().hex}"
    yield prefix
    try:
        with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)
    except (redis.RedisError, OSError):
        pass


@pytest.fixture
async def redis_url() -> str:
    """The shared Redis's URL, once it answers a PING."""
    client = redis.asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL
