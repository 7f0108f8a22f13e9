#!/usr/bin/env bash
# A sign-in flood: 256 concurrent wrong-password sign-ins against a fresh `her2ex serve`
# on 127.0.0.1, and the server's peak memory (VmHWM) while it answers them. The server
# runs with its default account policy; the bench reports what it measured and fails only
# if the peak reaches 1 GB.
set -euo pipefail
cd "$(dirname "$0")/../.."

REQUESTS=${REQUESTS:-256}
# Extra `her2ex serve` options, e.g. SERVE_ARGS="--signin-limit-per-address 1000" to let
# every attempt reach the password hashing and measure the hashing bound alone.
SERVE_ARGS=${SERVE_ARGS:-}
PORT=${PORT:-18181}
LIMIT_KB=$((1024 * 1024))

CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release -q -p her2ex
BIN=target/release/her2ex
DIR=$(mktemp -d /tmp/her2ex-flood.XXXXXX)
OUT="$DIR/codes"
printf 'flood-bench-secret-2026\n' | "$BIN" init --data-dir "$DIR/data" --password-stdin >/dev/null

"$BIN" serve --data-dir "$DIR/data" --listen "127.0.0.1:$PORT" --no-dicom $SERVE_ARGS >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT

for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/openapi.json" && break
    sleep 0.1
done
before=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")

start=$(date +%s.%N)
seq 1 "$REQUESTS" | xargs -P "$REQUESTS" -I{} \
    curl -s --max-time 120 -o /dev/null -w '%{http_code}\n' \
    -X POST -H 'content-type: application/json' \
    -d '{"username":"flood-{}","password":"wrong-password-{}"}' \
    "http://127.0.0.1:$PORT/api/v1/session" >"$OUT"
end=$(date +%s.%N)

peak=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo "requests:      $REQUESTS concurrent wrong-password sign-ins"
echo "wall time:     $(echo "$end - $start" | bc) s"
echo "RSS before:    $((before / 1024)) MiB"
echo "peak RSS:      $((peak / 1024)) MiB (VmHWM)"
echo "cores:         $(nproc)"
echo "answers:"
sort "$OUT" | uniq -c | sed 's/^/  /'
if [ "$peak" -ge "$LIMIT_KB" ]; then
    echo "FAIL: peak RSS reached 1 GB" >&2
    exit 1
fi
