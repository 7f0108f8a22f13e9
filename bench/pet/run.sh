#!/usr/bin/env bash
# Benchmark of PET quantification (read DICOM → SUV → lesion candidates and metrics) on a
# 200 × 200 × 600 voxel phantom, against a pydicom/numpy/scipy reference, the I/O floor
# and the raw float32 volume size.
#
# Goals: ≥ 20× faster than the Python reference, within 10× of the I/O floor (reading
# every file's bytes from a warm page cache), peak memory ≤ 3× the raw float32 volume.
#
# Usage: bench/pet/run.sh  (env: SEED=1 RUNS=5 BENCH_WORK=dir CARGO_TARGET_DIR=…,
#                           BENCH_SKIP_CLI=1 to skip the release build of her2ex)
# Needs: cargo, python3 with pydicom numpy scipy (pip install pydicom numpy scipy),
#        hyperfine (apt-get install -y hyperfine; a shell loop is used without it),
#        GNU time at /usr/bin/time (apt-get install -y time).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SEED="${SEED:-1}"
RUNS="${RUNS:-5}"
WORK="${BENCH_WORK:-$(mktemp -d -t her2ex-bench-pet.XXXXXX)}"
DATA="$WORK/phantom"
mkdir -p "$WORK"
cd "$ROOT"

# Mean wall time (s) of a command: hyperfine when present, else a loop.
mean_seconds() {
  local runs="$1" name="$2"; shift 2
  if command -v hyperfine >/dev/null; then
    hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$WORK/hyperfine-$name.json" "$@" >&2
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$WORK/hyperfine-$name.json"
  else
    bash -c "$*" >/dev/null 2>&1 # warm-up
    local start end
    start=$(date +%s.%N)
    for _ in $(seq "$runs"); do bash -c "$*" >/dev/null 2>&1; done
    end=$(date +%s.%N)
    python3 -c "print(($end - $start) / $runs)"
  fi
}

echo "== (a) release build" >&2
cargo build --release -p pet --example quantify --example phantom >&2
QUANTIFY="$CARGO_TARGET_DIR/release/examples/quantify"
CLI=""
if [ "${BENCH_SKIP_CLI:-0}" != 1 ] && cargo build --release -p her2ex >&2 2>/dev/null \
  && "$CARGO_TARGET_DIR/release/her2ex" pet quantify --help >/dev/null 2>&1; then
  CLI="$CARGO_TARGET_DIR/release/her2ex pet quantify ${CLI_ARGS:---json}"
  echo "her2ex pet quantify is available: timed as well (extra arguments: CLI_ARGS)" >&2
else
  echo "her2ex pet quantify not available: timing the pet crate's quantify example only" >&2
fi

echo "== (b) phantom 200 × 200 × 600 (seed $SEED) in $DATA" >&2
rm -rf "$DATA"
"$CARGO_TARGET_DIR/release/examples/phantom" "$DATA" "$SEED" bench >&2
FILES=$(find "$DATA" -name '*.dcm' | wc -l)
BYTES=$(du -cb "$DATA"/*.dcm | tail -1 | cut -f1)
VOXELS=$((200 * 200 * 600))
RAW_MB=$(python3 -c "print(f'{$VOXELS * 4 / 1e6:.1f}')")

echo "== (c) quantify" >&2
"$QUANTIFY" "$DATA" >"$WORK/rust.json" 2>"$WORK/rust.log"
cat "$WORK/rust.log" >&2
RUST_S=$(mean_seconds "$RUNS" rust "$QUANTIFY $DATA")
CLI_S=""
CLI_RSS_KB=""
if [ -n "$CLI" ]; then
  CLI_S=$(mean_seconds "$RUNS" cli "$CLI $DATA") || CLI_S=""
  /usr/bin/time -v $CLI "$DATA" >"$WORK/cli.json" 2>"$WORK/cli-time.log" || true
  CLI_RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/cli-time.log")
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["lesions"], open(sys.argv[2], "w"))' \
    "$WORK/cli.json" "$WORK/cli-lesions.json" || true
fi

echo "== (d) Python reference" >&2
python3 "$ROOT/bench/pet/reference.py" "$DATA" --json "$WORK/python.json" >&2
PY_S=$(mean_seconds 2 python "python3 $ROOT/bench/pet/reference.py $DATA")
python3 "$ROOT/bench/pet/reference.py" --compare "$WORK/python.json" "$WORK/rust.json" | tee "$WORK/compare.txt" >&2 || true
if [ -s "$WORK/cli-lesions.json" ]; then
  echo "her2ex pet quantify against the reference:" >&2
  python3 "$ROOT/bench/pet/reference.py" --compare "$WORK/python.json" "$WORK/cli-lesions.json" >&2 || true
fi

echo "== (e) I/O floor: cat every file from a warm page cache" >&2
IO_S=$(mean_seconds 10 io "cat $DATA/*.dcm > /dev/null")

echo "== (f) peak memory" >&2
/usr/bin/time -v "$QUANTIFY" "$DATA" >/dev/null 2>"$WORK/time.log"
RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time.log")

python3 - "$RUST_S" "$PY_S" "$IO_S" "$RSS_KB" "$RAW_MB" "$FILES" "$BYTES" "$CLI_S" "$CLI_RSS_KB" <<'EOF'
import sys
rust, py, io, rss_kb, raw_mb, files, size = (float(v) for v in sys.argv[1:8])
cli_s, cli_rss_kb = sys.argv[8:10]
rss_mb = rss_kb * 1024 / 1e6
print(f"files {int(files)}, {size / 1e6:.1f} MB on disk, raw float32 volume {raw_mb:.1f} MB")
print(f"quantify (read+SUV+detect)  {rust:8.3f} s")
print(f"python reference            {py:8.3f} s   -> rust is {py / rust:6.1f}x faster (goal >= 20x)")
print(f"I/O floor (cat, warm cache) {io:8.3f} s   -> rust is {rust / io:6.1f}x the floor (goal <= 10x)")
print(f"peak RSS                    {rss_mb:8.1f} MB  -> {rss_mb / raw_mb:4.2f}x raw float32 (goal <= 3x)")
if cli_s:
    cli, cli_mb = float(cli_s), float(cli_rss_kb or 0) * 1024 / 1e6
    print(f"her2ex pet quantify --json  {cli:8.3f} s   -> {py / cli:6.1f}x faster than python, "
          f"{cli / io:6.1f}x the I/O floor, {cli_mb:.1f} MB = {cli_mb / raw_mb:4.2f}x raw")
EOF
echo "work files kept in $WORK" >&2
