#!/usr/bin/env bash
# The whole matrix, timed: every server x every named test, as the README's
# main command runs it. Warms the image (or virtualenv) cache first, untimed,
# so the figure is the run itself; then prints the wall time, the cells, the
# cells per `ended_by`, the share of the wall time in which no cell was
# loading (orchestration), labour's own CPU share, how late every fault
# firing landed (p50, p99, max), the cells that sent nothing, the host's
# load while cells ran, the ten slowest cells, and whether any container
# of the run was left behind.
#
# usage: scripts/bench-matrix.sh [extra flags for build and bench...]
#   e.g. scripts/bench-matrix.sh --base-image python:3.12-slim
# env:   LABOUR     the labour binary (default: target/release/labour, built if missing)
#        OUT        where the results go (default: a new temporary directory)
#        SEED       the run's seed (default: labour's)
#        JOBS       cells at once (default: labour's, from the host's CPUs)
# Needs python3 for the summary.
set -euo pipefail
cd "$(dirname "$0")/.."

labour=${LABOUR:-target/release/labour}
if [ -z "${LABOUR:-}" ]; then
    cargo build --release --locked --quiet
fi
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/labour-matrix.XXXXXX")}
mkdir -p "$out"

echo "bench-matrix: warming the image cache (not timed)" >&2
"$labour" build --servers all --quiet "$@" >"$out/build.txt" 2>&1 \
    || { echo "bench-matrix: labour build failed:" >&2; tail -n 20 "$out/build.txt" >&2; exit 2; }

bench_flags=()
[ -n "${SEED:-}" ] && bench_flags+=(--seed "$SEED")
[ -n "${JOBS:-}" ] && bench_flags+=(--jobs "$JOBS")
echo "bench-matrix: labour bench --servers all --tests all ${bench_flags[*]} $*" >&2
start=$(date +%s.%N)
status=0
"$labour" bench --servers all --tests all --output "$out/results.json" "${bench_flags[@]}" "$@" \
    >"$out/report.txt" 2>"$out/progress.txt" || status=$?
end=$(date +%s.%N)

python3 - "$out/results.json" "$start" "$end" "$status" <<'EOF'
import collections, json, subprocess, sys

results = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
cells = results["cells"]
print(f"command wall time   {wall / 60:.1f} min ({wall:.0f} s), exit status {sys.argv[4]}")
print(f"run wall time       {results['wall_secs']:.0f} s with {results['jobs']} job(s) "
      f"on {results['environment']['engine']['cpus']} CPU(s), runtime "
      f"{results['environment']['engine']['runtime']}")
print(f"cells               {len(cells)} ({'complete' if results['complete'] else 'INCOMPLETE'})")
ended = collections.Counter(c.get("ended_by") or c["status"] for c in cells)
print("cells by ended_by   " + ", ".join(f"{k} {v}" for k, v in sorted(ended.items())))
print(f"orchestration       {results['orchestration_secs']:.0f} s "
      f"({results['orchestration_share'] * 100:.1f}% of the wall time with no cell loading)")
interrupted = sum(1 for c in cells if c["status"] == "interrupted")
print(f"interrupted cells   {interrupted}")
cpu, share = results.get("labour_cpu_secs"), results.get("labour_cpu_share")
if cpu is not None:
    print(f"labour's own CPU    {cpu:.1f} s, {share * 100:.2f}% of one CPU over the run")
def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")
late = [f.get("late_secs", 0.0) * 1000 for c in cells for f in c.get("faults", [])]
first = [c["faults"][0].get("late_secs", 0.0) * 1000 for c in cells if c.get("faults")]
print(f"fault firings       {len(late)}: late by p50 {quantile(late, 0.5):.1f} ms, "
      f"p99 {quantile(late, 0.99):.1f} ms, max {max(late, default=float('nan')):.1f} ms; "
      f"first firings p50 {quantile(first, 0.5):.1f} ms, max {max(first, default=float('nan')):.1f} ms")
by_action = collections.defaultdict(list)
for c in cells:
    for f in c.get("faults", []):
        by_action[f["action"]].append(f.get("late_secs", 0.0) * 1000)
for action, values in sorted(by_action.items()):
    print(f"  {action:<16} {len(values):4} firings, p50 {quantile(values, 0.5):6.1f} ms, "
          f"p99 {quantile(values, 0.99):6.1f} ms, max {max(values):6.1f} ms")
empty = [f"{c['server']} / {c['test']} ({c['status']})" for c in cells
         if c["status"] in ("completed", "no_load") and c["requests"] == 0]
print(f"cells with no request counted: {len(empty)}" + (": " + ", ".join(empty) if empty else ""))
late_cells = [f"{c['server']} / {c['test']}" for c in cells if c["status"] == "fault_late"]
print(f"cells with a late fault: {len(late_cells)}" + (": " + ", ".join(late_cells) if late_cells else ""))
busy = [c["overlap"]["host_cpu_busy"] for c in cells if c.get("overlap", {}).get("host_cpu_busy") is not None]
if busy:
    print(f"host CPU busy       over the cells' loads: median {quantile(busy, 0.5) * 100:.0f}%, "
          f"p90 {quantile(busy, 0.9) * 100:.0f}%")
def span(c):
    p = c["phases"]
    return sum(p.get(k) or 0 for k in ("start_secs", "preflight_secs", "quiet_secs",
                                       "load_secs", "stop_secs", "remove_secs"))
print("ten slowest cells (start to removed):")
for c in sorted(cells, key=span, reverse=True)[:10]:
    p = c["phases"]
    print(f"  {c['server'] + ' / ' + c['test']:<32} {span(c):6.1f} s  "
          f"load {p.get('load_secs') or 0:5.1f} s, stop {p.get('stop_secs') or 0:4.1f} s, "
          f"ended by {c.get('ended_by') or c['status']}")
left = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"label=labour.run={results['run_id']}"],
                      capture_output=True, text=True)
if left.returncode == 0:
    print(f"containers left     {len(left.stdout.split())}")
EOF
echo "bench-matrix: results, report and progress in $out" >&2
