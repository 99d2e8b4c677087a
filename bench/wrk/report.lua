-- Shared by the scenario scripts: at the end of a run, one line of JSON for bench/run.py.
-- Latencies are in microseconds, as wrk measures them.

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"mean_us": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
end
