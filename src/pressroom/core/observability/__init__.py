"""What Pressroom tells its operator: log lines, the access log and traces.

`logs` sets up the one log pipeline, `redaction` keeps secrets out of it, `access` writes the
line per request (called by `core.hardening`), `tracing` switches OpenTelemetry on.
"""
