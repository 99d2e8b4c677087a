"""Streaming exports as NDJSON: a user's own data, and every article for admins.

Each export reads one consistent snapshot through a database cursor, a batch of rows at a
time, so its memory stays flat however large it is. One export runs at a time per user,
across every worker (see `repository.Snapshot` and `gate`). See docs/export.md.
"""
