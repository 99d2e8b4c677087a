"""Prometheus metrics: what is recorded (families, requests, pool), how it is read
(exposition) and how `pressroom serve` prepares worker processes for it (processes).

`processes` imports no prometheus_client at module level: the multiprocess directory must be
in the environment before prometheus_client is first imported. See docs/metrics.md.
"""
