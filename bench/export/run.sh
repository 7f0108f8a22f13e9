#!/usr/bin/env bash
# Exports at scale: 10 000 synthetic participants through the ODM and SDTM writers,
# timed, with the peak resident memory from /usr/bin/time -v.
#
# Usage: bench/export/run.sh [PARTICIPANTS] [OUT_DIR]
# Built in the dev profile (no --release on this machine) with the two pure crates the
# export runs in optimised, as the workspace already does for `pet`: unoptimised they
# are ~3x slower, which says nothing about the shipped binary. OPT=0 measures them
# unoptimised.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-10000}"
out="${2:-target/export-bench}"
export CARGO_INCREMENTAL=0
opt=()
if [ "${OPT:-2}" != 0 ]; then
  opt=(--config "profile.dev.package.analysis.opt-level=${OPT:-2}"
       --config "profile.dev.package.protocol.opt-level=${OPT:-2}")
fi
cargo bench -p analysis --bench export_scale --profile dev --no-run "${opt[@]}" >/dev/null 2>&1 \
  || cargo bench -p analysis --bench export_scale --profile dev --no-run "${opt[@]}"
bin=$(ls -t target/debug/deps/export_scale-* | grep -v '\.d$' | head -1)
/usr/bin/time -v "$bin" --participants "$n" --out "$out" 2> "$out.time" || { cat "$out.time"; exit 1; }
grep -E "Maximum resident set size|Elapsed \(wall clock\)|User time|Percent of CPU" "$out.time"
du -sh "$out/odm.xml" "$out/sdtm"
