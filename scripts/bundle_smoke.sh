#!/usr/bin/env bash
# Smoke test of the packaged kiosk (dist/tongban, made by `./run.sh bundle`): the steps a
# technician takes on a new machine, run against the bundle, never the source tree.
#
#   scripts/bundle_smoke.sh [BUNDLE_DIR]        (default: dist/tongban)
#
# 1. `kiosk --version`; 2. `kiosk doctor --json` on a fresh data folder (must not crash;
# "not enrolled" is an expected fail); 3. start a local kiosk-central (from .venv) and make an
# enrolment QR; 4. `kiosk enroll --from-qr` (zxing) and `kiosk scan --decoder zbar` (the
# bundled libzbar); 5. submit an example and sync it; 6. `kiosk doctor --json` passes;
# 7. `kiosk run --windowed` offscreen under a fake systemd notify socket: READY, watchdog
# pings, then SIGTERM -> STOPPING and exit 0. Prints the start-up time to READY.
# Exit status 0 when every step passed. Needs python3 (Debian's) for the JSON checks.
set -euo pipefail
cd "$(dirname "$0")/.."

BUNDLE=$(realpath "${1:-dist/tongban}")
KIOSK="$BUNDLE/kiosk"
CENTRAL=.venv/bin/kiosk-central
[ -x "$KIOSK" ] || { echo "bundle_smoke: no $KIOSK; build it with ./run.sh bundle" >&2; exit 2; }
[ -x "$CENTRAL" ] || { echo "bundle_smoke: no $CENTRAL; run scripts/bootstrap.sh test first" >&2; exit 2; }

work=$(mktemp -d -t tongban-smoke.XXXXXX)
central_pid=""
cleanup() {
  if [ -n "$central_pid" ] && kill -0 "$central_pid" 2>/dev/null; then
    kill -TERM "$central_pid"; wait "$central_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export QT_QPA_PLATFORM=offscreen
export KIOSK_DATA_DIR="$work/terminal"
unset KIOSK_CONFIG NOTIFY_SOCKET WATCHDOG_USEC
step() { echo "bundle_smoke: $*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

step "1 version"
"$KIOSK" --version

step "2 doctor on a fresh machine"
status=0
"$KIOSK" doctor --json > "$work/doctor1.json" || status=$?
[ "$status" -le 1 ] || { echo "doctor crashed (exit $status)" >&2; exit 1; }
json 'assert isinstance(d, list) and {c["name"] for c in d} >= {"config", "database", "enrolment"}, d' < "$work/doctor1.json"

step "3 local central platform"
"$CENTRAL" --data-dir "$work/central" serve --port 0 > "$work/central.out" 2> "$work/central.log" &
central_pid=$!
for _ in $(seq 1 300); do grep -q "^listening on " "$work/central.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/central.out")
[ -n "$url" ] || { echo "kiosk-central did not start:" >&2; cat "$work/central.log" >&2; exit 1; }
mkdir -p "$KIOSK_DATA_DIR"
printf '[central]\nurl = "%s"\n' "$url" > "$KIOSK_DATA_DIR/kiosk.toml"
"$CENTRAL" --data-dir "$work/central" enroll-code create --site SZ01 --url "$url" --qr "$work/enrol.png" > /dev/null

step "4 enrol from the QR image; the zbar decoder finds the bundled libzbar"
"$KIOSK" enroll --from-qr "$work/enrol.png"
"$KIOSK" scan --decoder zbar --json "$work/enrol.png" | json 'assert d[0]["kind"] == "enrolment", d'

step "5 submit an example and sync it"
"$KIOSK" submit --service residence-permit --example --json | json 'print("receipt", d["receipt_no"])'
"$KIOSK" sync --once --json | json 'assert d["pushed"] == 1 and d["pending"] == 0, d'

step "6 doctor on the enrolled kiosk"
"$KIOSK" doctor --json > "$work/doctor2.json" || { echo "doctor reports a failure:" >&2; cat "$work/doctor2.json" >&2; exit 1; }

step "7 the kiosk under a (fake) systemd: READY, WATCHDOG, SIGTERM -> STOPPING, exit 0"
python3 - "$KIOSK" "$work" <<'EOF'
import os, signal, socket, subprocess, sys, time

kiosk, work = sys.argv[1], sys.argv[2]
path = os.path.join(work, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
started = time.monotonic()
proc = subprocess.Popen([kiosk, "run", "--windowed"], env=env)
seen, ready_at = [], None
while time.monotonic() - started < 60 and proc.poll() is None:
    try:
        message = sock.recv(4096).decode()
    except TimeoutError:
        if ready_at and time.monotonic() - ready_at > 3:
            break
        continue
    seen.append(message.splitlines()[0])
    if message.startswith("READY=1") and ready_at is None:
        ready_at = time.monotonic()
        print(f"bundle_smoke: start to READY (home screen shown, event loop running): {ready_at - started:.2f} s")
assert ready_at is not None, f"no READY=1 from the kiosk (exit {proc.poll()})"
assert seen.count("WATCHDOG=1") >= 4, seen
proc.send_signal(signal.SIGTERM)
code = proc.wait(timeout=30)
try:
    while True:
        seen.append(sock.recv(4096).decode().splitlines()[0])
except TimeoutError:
    pass
assert code == 0, f"kiosk exited {code} on SIGTERM"
assert "STOPPING=1" in seen, seen
EOF

step "all steps passed"
