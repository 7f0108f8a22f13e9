#!/usr/bin/env bash
# How long `her2ex demo` takes to build its trial, as a user runs it (the release binary
# of the README's `cargo run --release -- demo`), on this machine.
#
# Usage: bench/demo/run.sh [RUNS] [PARTICIPANTS...]
#   RUNS          builds per size (default 3; the median is reported)
#   PARTICIPANTS  enrolled women per build (default: 70 700)
# Prints one line per build and a summary per size: median wall time, entries and PET
# exams per second, peak resident memory (from /usr/bin/time -v), the data directory's size.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(70 700)
export CARGO_INCREMENTAL=0
cargo build --release -p her2ex >/dev/null 2>&1 || cargo build --release -p her2ex
bin=target/release/her2ex
work=$(mktemp -d /tmp/her2ex-demo-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
for n in "${sizes[@]}"; do
  times=()
  for r in $(seq "$runs"); do
    dir="$work/d$n-$r"
    /usr/bin/time -v "$bin" demo --no-serve --participants "$n" --data-dir "$dir" \
      >"$work/out" 2>"$work/time"
    wall=$(grep -oE 'demo data built in [0-9.]+' "$work/out" | awk '{print $5}')
    plan=$(grep -E 'women screened' "$work/out" | head -1)
    rss=$(awk '/Maximum resident set size/ {printf "%.0f", $6/1024}' "$work/time")
    size=$(du -sh "$dir" | cut -f1)
    echo "n=$n run $r: ${wall} s;${plan}; peak RSS ${rss} MB; data ${size}"
    times+=("$wall")
    entries=$(echo "$plan" | grep -oE '[0-9]+ entries' | grep -oE '[0-9]+')
    pets=$(echo "$plan" | grep -oE '[0-9]+ HER2-PET' | grep -oE '[0-9]+')
    rm -rf "$dir" "$dir-keys"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  awk -v n="$n" -v m="$median" -v e="$entries" -v p="$pets" 'BEGIN {
    printf "n=%s median %.1f s: %.0f entries/s, %.1f PET exams/s\n", n, m, e/m, p/m }'
done
