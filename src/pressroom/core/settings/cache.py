"""The read cache section."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CacheSettings(BaseModel):
    """The read cache and conditional requests; see docs/caching.md."""

    enabled: bool = Field(
        default=True,
        description="Cache anonymous answers of public reads (articles, lists, comments, "
        "profiles, tags): in Redis when `REDIS__URL` is set, in this process otherwise. ETags "
        "and 304 answers work either way.",
    )
    ttl_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="Longest life of a cached answer. Writes invalidate what they change at "
        "once; the TTL only bounds what an invalidation lost to a cache outage could leave.",
    )
    max_entries: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="In-process cache only: answers kept, least recently used dropped first.",
    )
    max_entry_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=16 * 1_048_576,
        description="Answers larger than this are not cached.",
    )
    retry_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="After Redis fails, seconds of reading straight from the database before "
        "trying the cache again.",
    )
    in_process_with_workers: bool = Field(
        default=False,
        description="Keep the in-process cache when `SERVER__WORKERS` > 1 and no Redis is set. "
        "Each worker then sees other workers' writes only when its entries expire "
        "(`TTL_SECONDS`); off by default, which turns the cache off in that case.",
    )
