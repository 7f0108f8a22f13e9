#!/usr/bin/env bash
# C-STORE ingest: the 600-slice bench phantom pushed by storescu (dcmtk) into her2ex's
# receiver and into Orthanc on this machine, same files, same run: with 1 association and
# with 4 parallel associations (4 storescu, a quarter of the files each). Reports files/s
# (median of RUNS), each receiver's peak resident memory (VmHWM) and the instances each
# one lists afterwards, which must equal the files sent. Every push goes into an empty
# data directory.
#
# Goal (issue 15, point 4): her2ex >= 1.5x Orthanc's rate at 4 associations, peak memory
# under 50 MB, zero acknowledged files lost. The bench reports; it fails only on a lost
# or refused file.
#
#   bench/ingest/run.sh        (env: RUNS=3 SEED=1 FSYNCS=1 to also count fsyncs per
#                               object under strace, BENCH_WORK=dir to keep the files,
#                               HER2EX_BIN=path to bench that build instead of building one,
#                               HER2EX_BEFORE_BIN=path to bench an earlier build too, in the
#                               same runs, as "her2ex-before")
#
# Needs: cargo, dcmtk (storescu, echoscu), orthanc (/usr/sbin/Orthanc), curl, python3;
# strace for FSYNCS=1.
#
# TCP_NODELAY=1 is set for every dcmtk process (storescu, and Orthanc, which uses dcmtk's
# network layer): Debian's dcmtk leaves Nagle's algorithm on, which stalls every object by
# 35-50 ms and would measure the network stack, not the receivers.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
ORTHANC="${ORTHANC:-/usr/sbin/Orthanc}"
WORK="${BENCH_WORK:-$(mktemp -d -t her2ex-bench-ingest.XXXXXX)}"
mkdir -p "$WORK"
cd "$ROOT"

for tool in storescu echoscu curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
[ -x "$ORTHANC" ] || { echo "Orthanc not found at $ORTHANC (apt-get install orthanc)" >&2; exit 2; }

echo "== release build" >&2
[ -z "${HER2EX_BIN:-}" ] && cargo build --release -q -p her2ex >&2
cargo build --release -q -p pet --example phantom >&2
BIN="${HER2EX_BIN:-$CARGO_TARGET_DIR/release/her2ex}"
RECEIVERS="her2ex orthanc"
if [ -n "${HER2EX_BEFORE_BIN:-}" ]; then RECEIVERS="her2ex-before $RECEIVERS"; fi

echo "== bench phantom (200 x 200 x 600, seed $SEED)" >&2
PHANTOM="$WORK/phantom"
if [ ! -d "$PHANTOM" ]; then
  "$CARGO_TARGET_DIR/release/examples/phantom" "$PHANTOM" "$SEED" bench >/dev/null
fi
mapfile -t FILES < <(find "$PHANTOM" -name '*.dcm' | sort)
SENT=${#FILES[@]}
echo "$SENT files, $(du -sm "$PHANTOM" | cut -f1) MB" >&2

export TCP_NODELAY=1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PID=""
# Stops the receiver started last. Under strace, the receiver is strace's child: it is
# stopped, and strace ends with it and writes its count.
stop_receiver() {
  if [ -n "$PID" ]; then
    local target="$PID"
    [ -n "${TRACED:-}" ] && target=$(pgrep -P "$PID" | head -1)
    kill "${target:-$PID}" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
  fi
}
cleanup() {
  stop_receiver
  rm -rf "$WORK"/data-*
  [ -n "${BENCH_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# start_her2ex DATA_DIR [WRAPPER...]: sets PID, AET, DPORT.
start_her2ex() { start_her2ex_bin "$BIN" "$@"; }
start_her2ex-before() { start_her2ex_bin "$HER2EX_BEFORE_BIN" "$@"; }
start_her2ex_bin() {
  local bin="$1" data="$2"; shift 2
  echo "bench-admin-pw1" | "$bin" init --data-dir "$data" --password-stdin >/dev/null
  DPORT=$(free_port)
  AET=HER2EX
  HER2EX_LOG=warn "$@" "$bin" serve --listen "127.0.0.1:$(free_port)" --data-dir "$data" \
    --dicom-listen "127.0.0.1:$DPORT" --dicom-sender "BENCH@127.0.0.1=KS" \
    >"$data.log" 2>&1 &
  PID=$!
}

# start_orthanc DATA_DIR [WRAPPER...]: sets PID, AET, DPORT, HPORT.
start_orthanc() {
  local data="$1"; shift
  mkdir -p "$data"
  DPORT=$(free_port)
  HPORT=$(free_port)
  AET=ORTHANC
  cat >"$data.json" <<EOF
{
  "Name": "bench",
  "StorageDirectory": "$data/storage",
  "IndexDirectory": "$data/index",
  "HttpPort": $HPORT,
  "DicomPort": $DPORT,
  "DicomAet": "ORTHANC",
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowStore": true,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "Plugins": []
}
EOF
  "$@" "$ORTHANC" "$data.json" >"$data.log" 2>&1 &
  PID=$!
}

# Waits until the receiver answers C-ECHO.
wait_ready() {
  for _ in $(seq 100); do
    echoscu -aet BENCH -aec "$AET" 127.0.0.1 "$DPORT" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "receiver did not answer C-ECHO; log:" >&2
  cat "$1.log" >&2
  exit 1
}

# push N: sends all files on N parallel associations; prints the seconds taken. Fails
# when any storescu reports a failure.
push() {
  local n="$1" i pids=() failed=0 start end
  for i in $(seq 0 $((n - 1))); do
    local mine=()
    for j in $(seq "$i" "$n" $((SENT - 1))); do mine+=("${FILES[$j]}"); done
    printf '%s\n' "${mine[@]}" >"$WORK/list.$i"
  done
  start=$(date +%s.%N)
  for i in $(seq 0 $((n - 1))); do
    xargs -a "$WORK/list.$i" -d '\n' storescu -aet BENCH -aec "$AET" 127.0.0.1 "$DPORT" \
      >"$WORK/storescu.$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  end=$(date +%s.%N)
  if [ "$failed" != 0 ]; then
    echo "$failed storescu failed:" >&2
    cat "$WORK"/storescu.*.log >&2
    exit 1
  fi
  python3 -c "print($end - $start)"
}

# SOP instances the receiver lists: those in her2ex's index (the database's
# dicom_instances table since issue 15; index files of earlier builds: index/<uid>/<sha>.json,
# then index/<ab>/<uid>.jsonl), CountInstances of Orthanc. her2ex is counted once stopped:
# it writes its last index rows at shutdown.
listed() {
  case "$1" in
    her2ex*) python3 - "$2" <<'PY'
import json, pathlib, sqlite3, sys
data = pathlib.Path(sys.argv[1])
uids = set()
database = data / "her2ex.sqlite"
if database.exists():
    db = sqlite3.connect(database)
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'dicom_instances'").fetchone():
        uids.update(u for (u,) in db.execute("SELECT sop_instance_uid FROM dicom_instances"))
    db.close()
for f in (data / "dicom" / "index").glob("*/*.json*"):
    if f.name.startswith("."):
        continue
    for line in f.read_text().splitlines():
        try:
            uids.add(json.loads(line)["sop_instance_uid"])
        except (ValueError, KeyError):
            pass
    if f.suffix == ".json":
        uids.add(json.loads(f.read_text())["sop_instance_uid"])
print(len(uids))
PY
    ;;
    orthanc) curl -s "http://127.0.0.1:$HPORT/statistics" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])' ;;
  esac
}

peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
for run in $(seq "$RUNS"); do
  for receiver in $RECEIVERS; do
    for n in 1 4; do
      data="$WORK/data-$receiver-$n-$run"
      rm -rf "$data" "$data.json" "$data.log"
      "start_$receiver" "$data"
      wait_ready "$data"
      seconds=$(push "$n")
      hwm=$(peak_kb "$PID")
      case "$receiver" in
        her2ex*) stop_receiver; count=$(listed "$receiver" "$data") ;;
        *) count=$(listed "$receiver" "$data"); stop_receiver ;;
      esac
      # Kept until the end: deleting thousands of files between pushes would make the
      # next receiver's file creations slower (ext4 skips recently freed inodes).
      printf '%s\t%s\t%s\t%s\t%s\n' "$receiver" "$n" "$seconds" "$hwm" "$count" >>"$RESULTS"
      printf '%-13s %d association(s), run %d: %6.0f files/s, peak RSS %5.1f MB, listed %s/%s\n' \
        "$receiver" "$n" "$run" "$(python3 -c "print($SENT / $seconds)")" \
        "$(python3 -c "print($hwm / 1024)")" "$count" "$SENT" >&2
    done
  done
done

python3 - "$RESULTS" "$SENT" <<'EOF'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
sent = int(sys.argv[2])
table = {}
for receiver, n, seconds, hwm, count in rows:
    t = table.setdefault((receiver, int(n)), {"rates": [], "hwm": 0, "listed": []})
    t["rates"].append(sent / float(seconds))
    t["hwm"] = max(t["hwm"], int(hwm))
    t["listed"].append(int(count))
runs = len(rows) // len(table)
print(f"\n{sent} files of the bench phantom, median of {runs} runs, TCP_NODELAY=1\n")
print("| receiver | associations | files/s (median) | runs | peak RSS | listed / sent |")
print("|---|---|---|---|---|---|")
for (receiver, n), t in sorted(table.items()):
    runs = " ".join(f"{r:.0f}" for r in t["rates"])
    listed = "/".join(str(c) for c in t["listed"])
    print(f"| {receiver} | {n} | {statistics.median(t['rates']):.0f} | {runs} | "
          f"{t['hwm'] / 1024:.1f} MB | {listed} / {sent} |")
print()
for her2ex in sorted({r for r, _ in table if r.startswith("her2ex")}):
    for n in (1, 4):
        ratio = statistics.median(table[(her2ex, n)]["rates"]) / statistics.median(table[("orthanc", n)]["rates"])
        print(f"{her2ex} / Orthanc at {n} association(s): {ratio:.2f}x")
lost = [(k, t["listed"]) for k, t in table.items() if any(c != sent for c in t["listed"])]
if lost:
    print(f"\nLISTED != SENT: {lost}")
    sys.exit(1)
EOF

if [ "${FSYNCS:-0}" = 1 ]; then
  command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }
  echo
  echo "fsync + fdatasync per object (strace, 1 association, start-up included):"
  for receiver in $RECEIVERS; do
    data="$WORK/data-$receiver-strace"
    rm -rf "$data"
    "start_$receiver" "$data" strace -f -c -e trace=fsync,fdatasync -o "$data.strace"
    TRACED=1
    wait_ready "$data"
    push 1 >/dev/null
    stop_receiver
    TRACED=
    calls=$(awk '$NF == "fsync" || $NF == "fdatasync" {n += $4} END {print n + 0}' "$data.strace")
    echo "  $receiver: $calls calls for $SENT objects = $(python3 -c "print(round($calls / $SENT, 2))") per object"
  done
fi
