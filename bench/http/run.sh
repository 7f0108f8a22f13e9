#!/usr/bin/env bash
# HTTP load on the audited write path: 32 concurrent clients registering participants
# (each one event + hash-chain link + read-table row, one transaction) and reading them,
# against a release build on embedded SQLite. Prints throughput and latency percentiles.
#
#   bench/http/run.sh [DURATION_SECONDS]     (default 15; needs wrk: apt-get install wrk)
#
# HER2EX_BIN=path/to/her2ex benches that binary as it is, without building (e.g. two
# worktrees' release builds, one after the other, on the same machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }

if [ -n "${HER2EX_BIN:-}" ]; then
  bin=$HER2EX_BIN
  [ -x "$bin" ] || { echo "HER2EX_BIN=$bin is not an executable" >&2; exit 2; }
else
  cargo build --release -q -p her2ex
  bin=target/release/her2ex
fi
data=$(mktemp -d /tmp/her2ex-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The server is waited for before its data directory goes: it may still be writing.
cleanup() {
  if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
  # The checkpoint key lives beside the data directory, in <data>-keys.
  rm -rf "$data" "$data-keys"
}
trap cleanup EXIT

echo "bench-admin-pw1" | $bin init --data-dir "$data" --password-stdin >/dev/null
# Study ids have three digits (at most 999 per site), so the load spreads over enough
# sites for 6 000 registrations a second for the whole run (26 per letter: BA…BZ, CA…),
# each with its own nurse; the requests take turns among their sessions.
nsites=$(( (6000 * duration + 998) / 999 ))
sites=$(python3 -c "import sys; n=int(sys.argv[1]); print(' '.join(chr(66 + i // 26) + chr(65 + i % 26) for i in range(max(n, 26))))" "$nsites")
for s in $sites; do
  $bin site add "$s" "Bench site $s" --data-dir "$data" >/dev/null
  echo "bench-nurse-pw1" | $bin user add "nurse-${s,,}" --role research_nurse --site "$s" --password-stdin --data-dir "$data" >/dev/null
done
HER2EX_LOG=warn $bin serve --listen "127.0.0.1:$port" --no-dicom --data-dir "$data" >/dev/null 2>"$data/server.log" &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -s -o /dev/null "$base/signin" && break; sleep 0.1; done

lua=$(mktemp /tmp/her2ex-wrk.XXXXXX.lua)
echo "sessions = {" > "$lua"
for s in $sites; do
  login=$(curl -s -i -H 'content-type: application/json' -d "{\"username\":\"nurse-${s,,}\",\"password\":\"bench-nurse-pw1\"}" "$base/api/v1/session")
  cookie=$(printf '%s' "$login" | grep -i '^set-cookie:' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/' | tr -d '\r')
  csrf=$(printf '%s' "$login" | tail -n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
  echo "  {cookie = \"$cookie\", csrf = \"$csrf\"}," >> "$lua"
done
cat >> "$lua" <<'LUA'
}
local i = 0
request = function()
  i = i % #sessions + 1
  local headers = {["content-type"] = "application/json", ["cookie"] = sessions[i].cookie, ["x-csrf-token"] = sessions[i].csrf}
  return wrk.format("POST", "/api/v1/participants", headers, '{"year_of_birth": 1970, "sex": "female"}')
end
LUA
echo "== writes: POST /api/v1/participants (register: event + chain link + read row, one transaction), 32 connections, ${duration}s =="
wrk -t2 -c32 -d"${duration}s" --latency -s "$lua" "$base/api/v1/participants" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx'
cookie=$(sed -n 2p "$lua" | sed -E 's/.*cookie = "([^"]*)".*/\1/')
cat > "$lua" <<LUA
wrk.headers["cookie"] = "$cookie"
LUA

echo "== reads: GET /api/v1/participants/BA-001, 32 connections, ${duration}s =="
wrk -t2 -c32 -d"${duration}s" --latency -s "$lua" "$base/api/v1/participants/BA-001" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx'
rm -f "$lua"
echo "server errors logged: $(grep -c ERROR "$data/server.log" || true)"
grep ERROR "$data/server.log" | head -3 || true
$bin audit verify --data-dir "$data"
