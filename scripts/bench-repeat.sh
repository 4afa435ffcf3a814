#!/usr/bin/env bash
# Whether the whole matrix gives the same answers when run again: the main
# command twice with the same seed, then once more with --jobs 1 (one cell
# at a time), each compared with the first run: how many cells agree on
# their verdict and on how they ended (ended_by), how far apart their
# rates are, and every cell that disagrees, by name. Takes the time of
# three matrix runs (an hour or more on a 2-CPU host): run it by hand, not
# in CI, and record what it prints in BENCHMARKS.md.
#
# usage: scripts/bench-repeat.sh [extra bench flags...]
# env:   LABOUR  the labour binary (default: target/release/labour, built if missing)
#        OUT     where the three runs go (default: a new temporary directory)
#        SEED    the seed of all three (default: 2026)
#        RUNS    which runs to make: "again jobs1" (default), or one of them
# Needs python3. Compare two saved runs alone with:
#        scripts/bench-repeat.sh --compare A.json B.json
set -euo pipefail
cd "$(dirname "$0")/.."

compare() {
    python3 - "$1" "$2" <<'EOF'
import json, statistics, sys

def load(path):
    results = json.load(open(path))
    return results, {(c["server"], c["test"]): c for c in results["cells"] if c.get("repeat", 0) == 0}

def verdict(cell):
    # The kind of answer a cell gives, as every report words it.
    status = cell["status"]
    if status != "completed":
        return status
    return "failed" if cell["failure_ratio"] > 0.10 else "within"

def rate(cell):
    return cell.get("requests_per_sec_excluding_stalls") or cell.get("requests_per_sec") or 0.0

(a, cells_a), (b, cells_b) = load(sys.argv[1]), load(sys.argv[2])
keys = sorted(set(cells_a) & set(cells_b))
print(f"{sys.argv[1]} ({a['jobs']} jobs, {a['wall_secs'] / 60:.1f} min) against "
      f"{sys.argv[2]} ({b['jobs']} jobs, {b['wall_secs'] / 60:.1f} min): {len(keys)} cells in both")
same_verdict = [k for k in keys if verdict(cells_a[k]) == verdict(cells_b[k])]
same_ended = [k for k in keys if cells_a[k].get("ended_by") == cells_b[k].get("ended_by")]
within = [k for k in keys if (verdict(cells_a[k]) == "failed") == (verdict(cells_b[k]) == "failed")]
print(f"  same verdict        {len(same_verdict)} of {len(keys)} ({100 * len(same_verdict) / max(1, len(keys)):.1f}%)")
print(f"  same within-10%     {len(within)} of {len(keys)} ({100 * len(within) / max(1, len(keys)):.1f}%)")
print(f"  same ended_by       {len(same_ended)} of {len(keys)} ({100 * len(same_ended) / max(1, len(keys)):.1f}%)")
ratios = [rate(cells_b[k]) / rate(cells_a[k]) for k in keys if rate(cells_a[k]) > 0 and rate(cells_b[k]) > 0]
if ratios:
    off = sorted(abs(r - 1) for r in ratios)
    print(f"  rates, second/first: median {statistics.median(ratios):.3f}, "
          f"|off| p50 {off[len(off) // 2] * 100:.1f}%, p90 {off[int(0.9 * (len(off) - 1))] * 100:.1f}%")
servers = sorted({k[0] for k in keys})
per_server = []
for server in servers:
    r = [rate(cells_b[k]) / rate(cells_a[k]) for k in keys
         if k[0] == server and rate(cells_a[k]) > 0 and rate(cells_b[k]) > 0]
    if r:
        per_server.append((server, statistics.median(r)))
far = [f"{s} {m:.2f}" for s, m in per_server if abs(m - 1) > 0.10]
print(f"  servers whose median rate ratio is off by more than 10%: {len(far)}" + (": " + ", ".join(far) if far else ""))
for k in keys:
    if verdict(cells_a[k]) != verdict(cells_b[k]):
        ca, cb = cells_a[k], cells_b[k]
        print(f"  differs: {k[0]} / {k[1]}: {verdict(ca)} (f {ca['failure_ratio'] * 100:.2f}%, "
              f"{ca.get('ended_by')}) against {verdict(cb)} (f {cb['failure_ratio'] * 100:.2f}%, {cb.get('ended_by')})")
EOF
}

if [ "${1:-}" = "--compare" ]; then
    compare "$2" "$3"
    exit 0
fi

labour=${LABOUR:-target/release/labour}
if [ -z "${LABOUR:-}" ]; then
    cargo build --release --locked --quiet
fi
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/labour-repeat.XXXXXX")}
seed=${SEED:-2026}
runs=${RUNS:-again jobs1}
mkdir -p "$out"

matrix() {
    local name=$1
    local jobs=$2
    shift 2
    echo "bench-repeat: $name: labour bench --servers all --tests all --seed $seed${jobs:+ --jobs $jobs} $*" >&2
    LABOUR="$labour" OUT="$out/$name" SEED="$seed" JOBS="$jobs" scripts/bench-matrix.sh "$@" >"$out/$name.txt"
    cat "$out/$name.txt"
}

matrix first "" "$@"
for run in $runs; do
    case $run in
        again) matrix again "" "$@"; compare "$out/first/results.json" "$out/again/results.json" ;;
        jobs1) matrix jobs1 1 "$@"; compare "$out/first/results.json" "$out/jobs1/results.json" ;;
        *) echo "bench-repeat: unknown run $run (again, jobs1)" >&2; exit 2 ;;
    esac
done
echo "bench-repeat: the runs are in $out" >&2
