"""The named rate limit policies, built from `RateLimitSettings`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import limits
from limits import RateLimitItem

from pressroom.core.settings import RateLimitSettings

Strategy = Literal["moving-window", "sliding-window-counter"]


@dataclass(frozen=True, slots=True)
class Policy:
    """One limit: a name (part of every key), how many per period, and how it is counted."""

    name: str
    item: RateLimitItem
    # Small budgets that protect something (logins, sign-ups) are counted exactly, one entry
    # per hit; the high per-IP ceiling on every request uses the O(1) approximation.
    strategy: Strategy = "moving-window"

    @property
    def limit(self) -> int:
        return self.item.amount

    def share(self, workers: int) -> Policy:
        """This policy with its budget split over `workers` processes (ceil, at least 1)."""
        if workers <= 1:
            return self
        amount = max(1, math.ceil(self.item.amount / workers))
        item = type(self.item)(amount, self.item.multiples, self.item.namespace)
        return replace(self, item=item)


@dataclass(frozen=True, slots=True)
class Policies:
    default: Policy
    login_account: Policy
    login_ip: Policy
    registration: Policy
    article_creation: Policy
    comment_creation: Policy
    password_reset_account: Policy
    password_reset_ip: Policy
    verification_mail: Policy

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> Policies:
        return cls(
            default=Policy(
                "ip", limits.parse(settings.default_per_ip), strategy="sliding-window-counter"
            ),
            login_account=Policy("login-account", limits.parse(settings.login_per_account)),
            login_ip=Policy("login-ip", limits.parse(settings.login_per_ip)),
            registration=Policy("registration-ip", limits.parse(settings.registration_per_ip)),
            article_creation=Policy(
                "article-user", limits.parse(settings.article_creation_per_user)
            ),
            comment_creation=Policy(
                "comment-user", limits.parse(settings.comment_creation_per_user)
            ),
            password_reset_account=Policy(
                "reset-account", limits.parse(settings.password_reset_per_account)
            ),
            password_reset_ip=Policy("reset-ip", limits.parse(settings.password_reset_per_ip)),
            verification_mail=Policy(
                "verify-user", limits.parse(settings.verification_mail_per_user)
            ),
        )
