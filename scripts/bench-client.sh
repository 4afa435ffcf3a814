#!/usr/bin/env bash
# Benchmark labour's request client against wrk. Not a test: it prints
# figures. Both load the same target (nginx serving "Pong!" on 127.0.0.1)
# with the same connections, threads/processes and duration, interleaved,
# RUNS times each; it prints req/s, p50, p99, client CPU per request and
# peak RSS per run, the medians, and the ratio labour / wrk. Then one
# labour run of 1M requests shows that memory stays flat.
#
# usage: scripts/bench-client.sh        (as root on Debian: installs nginx, wrk, time)
# env:   CONNECTIONS (64) DURATION seconds (10) RUNS (3) THREADS (nproc) PORT (18080)
#        MILLION (1000000; 0 skips the 1M run)
set -euo pipefail
cd "$(dirname "$0")/.."

connections=${CONNECTIONS:-64}
duration=${DURATION:-10}
runs=${RUNS:-3}
threads=${THREADS:-$(nproc)}
port=${PORT:-18080}
million=${MILLION:-1000000}
url="http://127.0.0.1:$port/"

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bench-client: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --locked -q
labour=target/release/labour

work=$(mktemp -d)
nginx_pid=""
cleanup() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill "$nginx_pid"
        wait "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/logs"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location / { default_type text/plain; return 200 "Pong!\n"; }
    }
}
EOF
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 50); do
    python3 - "$port" <<'EOF' && break
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
    sleep 0.1
done

# One line per run: tool req/s p50_ms p99_ms cpu_us_per_request peak_rss_mib
wrk_run() {
    /usr/bin/time -f '%U %S %M' -o "$work/time" \
        wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$url" >"$work/wrk.out"
    python3 - "$work/wrk.out" "$work/time" <<'EOF'
import re, sys
out = open(sys.argv[1]).read()
user, system, rss_kb = open(sys.argv[2]).read().split()[-3:]
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
requests = int(re.search(r"(\d+) requests in", out).group(1))
# The latency distribution lines, not the "+/- Stdev" column of the stats.
p50 = ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))
cpu = (float(user) + float(system)) / requests * 1e6
print(f"wrk {rps:.0f} {p50:.3f} {p99:.3f} {cpu:.2f} {int(rss_kb) / 1024:.1f}")
EOF
}

labour_run() {
    /usr/bin/time -f '%U %S %M' -o "$work/time" \
        "$labour" load "$url" -c "$connections" -d "${duration}s" -p "$threads" \
        --format json --quiet >"$work/labour.json"
    python3 - "$work/labour.json" "$work/time" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
user, system, _ = open(sys.argv[2]).read().split()[-3:]
# /usr/bin/time counts labour and the worker processes it waited for.
cpu = (float(user) + float(system)) / report["requests"] * 1e6
rss = report["client_peak_rss_bytes"] / 2**20
print(f"labour {report['requests_per_sec']:.0f} {report['latency']['p50_ms']:.3f} "
      f"{report['latency']['p99_ms']:.3f} {cpu:.2f} {rss:.1f}")
EOF
}

echo "target: nginx, 1 worker, on 127.0.0.1; $connections connections, $threads threads/processes, ${duration}s, $runs runs each, interleaved"
echo "$(nproc) CPUs; wrk $(wrk --version 2>&1 | head -n1 | awk '{print $2}'); $($labour --version)"
printf '%-7s %10s %9s %9s %13s %13s\n' tool "req/s" "p50 ms" "p99 ms" "CPU µs/req" "peak RSS MiB"
: >"$work/runs"
for run in $(seq "$runs"); do
    for tool in wrk labour; do
        line=$("${tool}_run")
        echo "$line" >>"$work/runs"
        echo "$line" | awk '{printf "%-7s %10s %9s %9s %13s %13s\n", $1, $2, $3, $4, $5, $6}'
    done
done
python3 - "$work/runs" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
median = {}
for tool in ("wrk", "labour"):
    cols = [[float(v) for v in row[1:]] for row in rows if row[0] == tool]
    median[tool] = [statistics.median(c) for c in zip(*cols)]
    m = median[tool]
    print(f"median {tool:<7} {m[0]:10.0f} {m[1]:9.3f} {m[2]:9.3f} {m[3]:13.2f} {m[4]:13.1f}")
w, l = median["wrk"], median["labour"]
print(f"ratio labour / wrk: req/s {l[0] / w[0]:.2f}, CPU per request {l[3] / w[3]:.2f}")
EOF

if [ "$million" -gt 0 ]; then
    "$labour" load "$url" -c "$connections" -n "$million" -p "$threads" --format json --quiet >"$work/million.json"
    python3 - "$work/million.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['requests']} requests: peak RSS of labour and its {r['processes']} worker processes together "
      f"{r['client_peak_rss_bytes'] / 2**20:.1f} MiB, {r['requests_per_sec']:.0f} req/s")
EOF
fi
