"""The live updates and exports sections: long-lived streaming answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LiveSettings(BaseModel):
    """Live updates: the Server-Sent Events stream, the comments WebSocket and the broker that
    carries events between workers; see docs/live.md."""

    keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        le=15,
        description="Seconds between keep-alive comments on a quiet event stream (at most 15, "
        "so proxies with a 30-60 s idle timeout keep the stream open).",
    )
    retry_ms: int = Field(
        default=3000,
        ge=0,
        le=600_000,
        description="The `retry:` an event stream announces: milliseconds a client waits before "
        "it reconnects.",
    )
    replay_window_seconds: int = Field(
        default=3600,
        ge=0,
        le=86_400,
        description="How far back a client reconnecting with `Last-Event-ID` is sent what it "
        "missed (at most the outbox's retention of delivered events, 24 h by default). Older "
        "ids get no replay: the client reloads instead.",
    )
    replay_max_events: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Most events replayed to one reconnecting client; past it the stream says "
        "so (event `reset`) and the client reloads.",
    )
    max_streams_per_user: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Concurrent event streams and live sockets one signed-in user may hold: "
        "across all workers when `redis.url` is set (leases in Redis), in each worker process "
        "without Redis or while it fails.",
    )
    max_streams_per_ip: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Concurrent anonymous event streams and live sockets per client IP: across "
        "all workers when `redis.url` is set (leases in Redis), in each worker process without "
        "Redis or while it fails.",
    )
    subscriber_buffer: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Messages the broker buffers for one subscriber that falls behind; past it "
        "the buffer is dropped and the subscriber is told it lost messages.",
    )
    publish_timeout: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Seconds publishing one message through Redis may take before the broker "
        "counts as unavailable.",
    )
    websocket_queue: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Messages waiting for one WebSocket client; a client that falls further "
        "behind is closed with code 1013 (others never wait for it).",
    )
    websocket_heartbeat_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="Seconds between heartbeats on a live socket: a `ping` message from the "
        "app, and a protocol ping from `pressroom serve` that closes peers not answering "
        "within as long again.",
    )
    websocket_allow_missing_origin: bool = Field(
        default=True,
        description="Accept WebSocket handshakes without an `Origin` header (non-browser "
        "clients; browsers always send one). A present Origin must be in the CORS allow-list.",
    )


class ExportSettings(BaseModel):
    """Streaming exports (`GET /api/user/export`, `GET /api/admin/exports/articles`)."""

    batch_rows: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Rows fetched from the database cursor at a time, and sent as one chunk: "
        "memory per export stays about this many rows, whatever the export's size.",
    )
    max_per_worker: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Exports one server process streams at once; more are refused with 503. "
        "Each holds a database connection for its whole length: keep it below the pool size.",
    )
    retry_after_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="`Retry-After` sent when an export is refused because one is already "
        "running (409) or the process is at `max_per_worker` (503).",
    )
