#!/usr/bin/env bash
# HTTP load on the audited write path: 32 concurrent clients registering participants
# (each one event + hash-chain link + read-table row, one transaction) and reading them,
# against a release build on embedded SQLite. Prints throughput and latency percentiles.
#
#   bench/http/run.sh [DURATION_SECONDS]     (default 15; needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }

cargo build --release -q -p her2ex
bin=target/release/her2ex
data=$(mktemp -d /tmp/her2ex-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

echo "bench-admin-pw1" | $bin init --data-dir "$data" --password-stdin >/dev/null
$bin site add KS "Karolinska University Hospital" --data-dir "$data" >/dev/null
echo "bench-nurse-pw1" | $bin user add nurse --role research_nurse --site KS --password-stdin --data-dir "$data" >/dev/null
$bin serve --listen "127.0.0.1:$port" --no-dicom --data-dir "$data" >/dev/null 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -s -o /dev/null "$base/signin" && break; sleep 0.1; done

login=$(curl -s -i -H 'content-type: application/json' -d '{"username":"nurse","password":"bench-nurse-pw1"}' "$base/api/v1/session")
cookie=$(printf '%s' "$login" | grep -i '^set-cookie:' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/' | tr -d '\r')
csrf=$(printf '%s' "$login" | tail -n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')

lua=$(mktemp /tmp/her2ex-wrk.XXXXXX.lua)
cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = '{"year_of_birth": 1970, "sex": "female"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["cookie"] = "$cookie"
wrk.headers["x-csrf-token"] = "$csrf"
LUA
echo "== writes: POST /api/v1/participants, 32 connections, ${duration}s =="
wrk -t2 -c32 -d"${duration}s" --latency -s "$lua" "$base/api/v1/participants" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx'

cat > "$lua" <<LUA
wrk.headers["cookie"] = "$cookie"
LUA
echo "== reads: GET /api/v1/participants/KS-001, 32 connections, ${duration}s =="
wrk -t2 -c32 -d"${duration}s" --latency -s "$lua" "$base/api/v1/participants/KS-001" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx'
rm -f "$lua"
$bin audit verify --data-dir "$data"
