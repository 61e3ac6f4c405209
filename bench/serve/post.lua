-- wrk script: POST the image named by $BENCH_IMAGE to /v1/predict.
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"

-- One machine-readable line per run (latency in ms; errors: connect, read, write, non-2xx, timeouts).
done = function(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d seconds=%.2f rps=%.2f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f errors=%d non2xx=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout, e.status, e.timeout))
end
