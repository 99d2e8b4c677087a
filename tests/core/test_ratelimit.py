"""Rate limit settings, policies and the in-memory limiter, without a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from pressroom.core.ratelimit import Decision, Policies, RateLimiter
from pressroom.core.settings import Settings

SECRET = "s" * 40


def make_settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, auth={"jwt_secret": SECRET}, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    ["5 per fortnight", "five/minute", "", "5/", "/minute", "5/minute;", "-1/minute", "0/hour"],
)
def test_a_bad_limit_is_refused_at_boot(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValidationError, match="is not a rate limit"):
        make_settings(tmp_path, rate_limit={"login_per_account": value})


@pytest.mark.parametrize("value", ["5/15 minutes", "20/minute", "100 per hour", "1/second"])
def test_limits_are_written_in_the_limits_notation(tmp_path: Path, value: str) -> None:
    settings = make_settings(tmp_path, rate_limit={"comment_creation_per_user": value})

    assert Policies.from_settings(settings.rate_limit).comment_creation.limit >= 1


def test_production_refuses_to_run_with_limits_off(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ALLOW_DISABLED_IN_PRODUCTION"):
        make_settings(tmp_path, env="production", rate_limit={"enabled": False})


def test_production_runs_with_limits_off_when_forced(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        env="production",
        rate_limit={"enabled": False, "allow_disabled_in_production": True},
        security={"allowed_hosts": ["api.example.com"]},
    )

    assert not RateLimiter(settings).enabled


def test_the_cli_names_the_bad_setting(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")}
    env |= {"PRESSROOM_DATA_DIR": str(tmp_path), "PRESSROOM_RATE_LIMIT__LOGIN_PER_IP": "lots"}
    done = subprocess.run(
        [sys.executable, "-m", "pressroom", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert "rate_limit.login_per_ip" in done.stderr
    assert "'lots' is not a rate limit" in done.stderr


def test_the_defaults(tmp_path: Path) -> None:
    policies = Policies.from_settings(make_settings(tmp_path).rate_limit)

    assert (policies.login_account.limit, policies.login_account.item.get_expiry()) == (5, 900)
    assert (policies.login_ip.limit, policies.login_ip.item.get_expiry()) == (20, 60)
    assert (policies.registration.limit, policies.registration.item.get_expiry()) == (5, 3600)
    assert (policies.article_creation.limit, policies.article_creation.item.get_expiry()) == (
        30,
        3600,
    )
    assert (policies.comment_creation.limit, policies.comment_creation.item.get_expiry()) == (
        60,
        600,
    )
    assert (policies.default.limit, policies.default.item.get_expiry()) == (600, 60)


@pytest.mark.parametrize(("workers", "expected"), [(1, 5), (2, 3), (3, 2), (5, 1), (8, 1)])
def test_memory_budgets_are_split_over_the_workers(
    workers: int, expected: int, tmp_path: Path
) -> None:
    policy = Policies.from_settings(make_settings(tmp_path).rate_limit).login_account

    shared = policy.share(workers)

    assert shared.limit == expected
    assert shared.item.get_expiry() == policy.item.get_expiry()


@pytest.mark.parametrize("workers", [1, 3])
async def test_memory_counts_each_workers_share(tmp_path: Path, workers: int) -> None:
    limiter = RateLimiter(make_settings(tmp_path, server={"workers": workers}))
    await limiter.open()
    try:
        policy = limiter.policies.login_account
        decisions = [await limiter.hit(policy, "key") for _ in range(6)]
    finally:
        await limiter.close()

    share = -(-5 // workers)
    assert [d.allowed for d in decisions] == [True] * share + [False] * (6 - share)
    assert decisions[0].limit == share
    assert decisions[-1].remaining == 0
    assert limiter.status().backend == "memory"
    assert not limiter.degraded


async def test_clearing_gives_the_budget_back(tmp_path: Path) -> None:
    limiter = RateLimiter(make_settings(tmp_path))
    policy = limiter.policies.registration
    for _ in range(5):
        await limiter.hit(policy, "ip")
    assert not (await limiter.hit(policy, "ip")).allowed

    await limiter.clear(policy, "ip")

    assert (await limiter.hit(policy, "ip")).remaining == 4
    await limiter.close()


def test_reset_is_whole_seconds_rounded_up() -> None:
    decision = Decision("p", allowed=True, limit=5, remaining=4, reset_at=100.2)

    assert decision.reset_after(now=99.0) == 2
    assert decision.reset_after(now=100.2) == 0
    assert decision.reset_after(now=150.0) == 0
