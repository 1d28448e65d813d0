#!/usr/bin/env bash
# queue-manager status reads under load, measured with wrk (Debian's
# package): GET /api/v1/workflows/{id} on 1,000 workflows at a fixed request
# rate (each wrk connection waits between requests: a Lua delay), p50/p99
# from wrk's latency distribution; the baseline is /healthz at the same rate
# on the same server. Prints Go benchmark lines for cmd/benchreport.
#
# Needs a Kafka broker: KAFKA_BOOTSTRAP_SERVERS or KAFKA_IT_BOOTSTRAP
# (make bench sets it). Settings: RATE (requests/s, default 1000), SECONDS_TOTAL
# (default 10), WORKFLOWS (default 1000).
set -euo pipefail
cd "$(dirname "$0")/../.."

rate=${RATE:-1000}
seconds=${SECONDS_TOTAL:-10}
workflows=${WORKFLOWS:-1000}
conns=10
command -v wrk >/dev/null || { echo "bench-api: wrk is not installed (Debian package wrk)" >&2; exit 2; }

# Every workflow is stored, launched, fails and ends, so the reads below go
# to the store, as they do for any ended workflow.
# shellcheck source=platform/scripts/lib/queue-manager.sh
. platform/scripts/lib/queue-manager.sh
start_queue_manager bench-api error
base=$qm_base

: >"$work/ids"
for i in $(seq 1 "$workflows"); do
  sym=$(printf 'S%04dUSDT' "$i")
  curl -fsS -X POST "$base/api/v1/workflows" -H 'Content-Type: application/json' \
    -d "{\"symbols\":[\"$sym\"],\"types\":[\"api_trades\"],\"time_range\":\"2024-08-01:2024-08-02\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' >>"$work/ids"
done

delay_ms=$((conns * 1000 / rate))
cat >"$work/reads.lua" <<LUA
local ids = {}
for line in io.lines("$work/ids") do ids[#ids + 1] = line end
math.randomseed(1)
request = function()
  return wrk.format("GET", "/api/v1/workflows/" .. ids[math.random(#ids)])
end
delay = function() return $delay_ms end
LUA
cat >"$work/health.lua" <<LUA
delay = function() return $delay_ms end
LUA

# run <name> <script> <path>: one wrk run, printed as a benchmark line.
run() {
  local out
  out=$(wrk -t 2 -c "$conns" -d "${seconds}s" --latency -s "$2" "$base$3")
  [[ -z "${BENCH_API_DEBUG:-}" ]] || printf "%s\n" "$out" >&2
  python3 -c '
import re, sys
name, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]
dist = re.search(r"Latency Distribution\n((?:\s+\d+%\s+\S+\n)+)", out)
if not dist:
    sys.exit(f"{name}: no latency distribution in the wrk output:\n{out}")
pct = dict(re.findall(r"(\d+)%\s+(\S+)", dist.group(1)))
p50, p99 = ms(pct["50"]), ms(pct["99"])
reqs = int(re.search(r"(\d+) requests in", out).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if errs:
    sys.exit(f"{name}: {errs.group(1)} non-2xx responses")
print(f"BenchmarkStatusReads/{name}\t1\t{int(secs*1e9)} ns/op\t{reqs/secs:.0f} req/s\t{p50:.3f} p50-ms\t{p99:.3f} p99-ms")
' "$1" "$seconds" "$out"
}
run "api/workflows=$workflows" "$work/reads.lua" /api/v1/workflows/x
run "baseline=healthz/workflows=$workflows" "$work/health.lua" /healthz
