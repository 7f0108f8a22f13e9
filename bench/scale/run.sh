#!/usr/bin/env bash
# Reads that scale: the participant list, one participant's page and the visit list over
# HTTP in a study of 10 000 participants with about a million events, on SQLite and (when
# its server can be started here) on PostgreSQL, for a monitor and a research nurse; then,
# on SQLite, what the lists cost before the read tables. Prints one table (see README.md).
#
#   bench/scale/run.sh
#
# HER2EX_BENCH_DIR (default target/bench-scale) keeps the loaded studies between runs:
# sqlite/ is the SQLite data directory, postgres/ a throwaway PostgreSQL cluster on
# 127.0.0.1 (started for the run, stopped after it). Remove it to load the study anew
# (loading takes minutes). The output of the last run is kept in last-run.txt there.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(realpath -m "${HER2EX_BENCH_DIR:-target/bench-scale}")
mkdir -p "$dir"

echo "==> building the bench (release)"
cargo bench -q -p server --bench scale --no-run

pg_dir="$dir/postgres"
pg_started=""
cleanup() {
  if [ -n "$pg_started" ]; then scripts/start-postgres --stop "$pg_dir" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

unset HER2EX_BENCH_POSTGRES_URL
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if url=$(scripts/start-postgres "$pg_dir" "$port" 2>"$dir/postgres-start.log"); then
  pg_started=1
  export HER2EX_BENCH_POSTGRES_URL="$url"
  echo "==> PostgreSQL on 127.0.0.1:$port (cluster in $pg_dir)"
else
  echo "==> PostgreSQL could not be started (see $dir/postgres-start.log): SQLite only"
fi

echo "==> running (the study in $dir)"
HER2EX_BENCH_DIR="$dir/sqlite" cargo bench -q -p server --bench scale 2>&1 | tee "$dir/last-run.txt"
