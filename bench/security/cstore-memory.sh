#!/usr/bin/env bash
# Memory of the DICOM receiver under 3 parallel C-STOREs of a ~300 MB object each: a
# release `her2ex serve`, three storescu (dcmtk) at once, then the server's peak resident
# memory (VmHWM). Objects stream to disk de-identified, so the peak must stay far below
# 1 GB (before streaming, three 300 MB stores took 3.5 GB).
#
#   bench/security/cstore-memory.sh [SIZE_MB]     (default 300; needs dcmtk and python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-300}
command -v storescu >/dev/null || { echo "storescu is not installed: apt-get install dcmtk" >&2; exit 2; }

cargo build --release -q -p her2ex
bin=target/release/her2ex
data=$(mktemp -d /tmp/her2ex-cstore.XXXXXX)
files=$(mktemp -d /tmp/her2ex-cstore-files.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dicom_port=$(free_port)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$data" "$files"; }
trap cleanup EXIT

echo "bench-admin-pw1" | $bin init --data-dir "$data" --password-stdin >/dev/null
for i in 1 2 3; do
  python3 bench/security/cstore-make-large.py "$files/big$i.dcm" "$size_mb" "$i"
done
echo "== 3 objects of $(du -m "$files/big1.dcm" | cut -f1) MB each =="

HER2EX_LOG=warn $bin serve --listen "127.0.0.1:$port" --data-dir "$data" \
  --dicom-listen "127.0.0.1:$dicom_port" --dicom-sender "BENCH@127.0.0.1=KS" \
  >/dev/null 2>"$data/server.log" &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/signin" && break; sleep 0.1; done
echo "RSS before: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')"

start=$(date +%s.%N)
for i in 1 2 3; do
  storescu -aet BENCH -aec HER2EX 127.0.0.1 "$dicom_port" "$files/big$i.dcm" &
  senders[$i]=$!
done
# The web server answers while the receiver is busy.
http_ok=0
for _ in $(seq 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/signin" || true)
  [ "$code" = 200 ] && http_ok=$((http_ok + 1))
  sleep 0.2
done
failed=0
for i in 1 2 3; do wait "${senders[$i]}" || failed=$((failed + 1)); done
end=$(date +%s.%N)

stored=$(find "$data/dicom/objects" -name '*.dcm' | wc -l)
echo "stores failed: $failed; objects stored: $stored; time: $(python3 -c "print(round($end - $start, 1))") s"
echo "HTTP /signin answered 200 during the transfers: $http_ok of 20"
echo "peak RSS (VmHWM): $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
echo "RSS after: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')"
if grep -rqa "19850312-1231" "$data"; then echo "IDENTIFIER FOUND under the data directory"; else echo "identifier 19850312-1231 not found under the data directory"; fi
hwm_kb=$(grep VmHWM /proc/$pid/status | awk '{print $2}')
[ "$hwm_kb" -lt 1048576 ] && [ "$failed" = 0 ] && [ "$stored" = 3 ]
