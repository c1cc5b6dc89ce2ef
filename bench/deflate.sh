#!/usr/bin/env bash
# Benchmark, not a test: run by hand, never by CI. permessage-deflate (Autobahn's 12.x/13.x) side by
# side: Autobahn|Testsuite's fuzzingclient and `wsspec server` run AT THE SAME TIME, each against its
# own fresh instance of the same echo server (so both see the same machine load, and neither slows
# the other's server), and the script reports for each tool its wall time, its own CPU (user + sys)
# and peak RSS (`/usr/bin/time -v`), and its server's CPU (user + sys from /proc/PID/stat at the
# end), then compares the verdicts (behavior, behaviorClose, remoteCloseCode) id by id.
#
#   bench/deflate.sh SERVER [CASE...]
#
# SERVER: ratchet (`wsspec reference-server --deflate`), websockets-deflate (Python websockets,
# `interop/websockets_echo.py --deflate`) or ws-deflate (Node ws, `interop/ws_echo.js --deflate`).
# CASE: Autobahn ids or patterns (default all 216: 12.* 13.*); both tools get the same list.
# Needs WSTEST (default .bench/ab/py2/bin/wstest, installed by bench/run.sh) and the interop peers
# in .interop/ (see interop/README.md); WSSPEC=PATH uses that binary instead of building one. Output and raw numbers go to .bench/deflate-SERVER/.
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "$0"
  exit 0
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
(($# >= 1)) || { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 2; }
server=$1
shift
case "$server" in
  ratchet | websockets-deflate | ws-deflate) ;;
  *) echo "bench/deflate.sh: unknown server '$server' (ratchet, websockets-deflate or ws-deflate; --help)" >&2; exit 2 ;;
esac
cases=("$@")
((${#cases[@]})) || cases=('12.*' '13.*')
WSTEST=${WSTEST:-$ROOT/.bench/ab/py2/bin/wstest}
[[ -x $WSTEST ]] || { echo "bench/deflate.sh: no wstest at $WSTEST (set WSTEST, or run bench/run.sh once)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench/deflate.sh: needs GNU time at /usr/bin/time" >&2; exit 2; }
cd "$ROOT"
if [[ -z ${WSSPEC:-} ]]; then
  cargo build -q --release -p wsspec
  WSSPEC=$ROOT/target/release/wsspec
fi
[[ -x $WSSPEC ]] || { echo "bench/deflate.sh: WSSPEC=$WSSPEC is not an executable file" >&2; exit 2; }
STATE=$ROOT/.bench/deflate-$server
rm -rf "$STATE"
mkdir -p "$STATE"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
# start_server NAME: a fresh server; sets $port and $spid.
start_server() {
  local out=$STATE/$1.port
  case $server in
    ratchet) "$WSSPEC" reference-server --deflate --listen 127.0.0.1:0 >"$out" 2>/dev/null & ;;
    websockets-deflate) PYTHONPATH=$ROOT/.interop/python python3 interop/websockets_echo.py --deflate 0 >"$out" 2>/dev/null & ;;
    ws-deflate) NODE_PATH=$ROOT/.interop/node/node_modules node interop/ws_echo.js --deflate 0 >"$out" 2>/dev/null & ;;
    *) echo "bench/deflate.sh: unknown server '$server'" >&2; exit 2 ;;
  esac
  spid=$!
  pids+=("$spid")
  for _ in $(seq 100); do [[ -s $out ]] && break; sleep 0.1; done
  port=$(head -n 1 "$out" | sed -E 's#^ws://127\.0\.0\.1:([0-9]+)/?$#\1#')
  [[ $port =~ ^[0-9]+$ ]] || { echo "bench/deflate.sh: the $server server did not start" >&2; exit 1; }
}
server_cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }

# The ids both tools run: wsspec expands the patterns.
mapfile -t ids < <("$WSSPEC" server --list --cases "${cases[@]}" | awk '$1 ~ /^1[23]\./ {print $1}')
echo "$server: ${#ids[@]} ids, Autobahn and wsspec at the same time; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

start_server autobahn
ab_pid=$spid
printf '{"outdir": "%s", "servers": [{"agent": "%s", "url": "ws://127.0.0.1:%s"}], "cases": [%s], "exclude-cases": [], "exclude-agent-cases": {}}\n' \
  "$STATE/autobahn" "$server" "$port" "$(printf '"%s",' "${ids[@]}" | sed 's/,$//')" >"$STATE/fuzzingclient.json"
start_server wsspec
ws_pid=$spid
ws_port=$port

run() { # run NAME CMD...: wall time, then GNU time's report, in $STATE/NAME.time
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$STATE/$1.time.v" "${@:2}" >"$STATE/$1.log" 2>&1 || true
  end=$(date +%s.%N)
  echo "$start $end" >"$STATE/$1.wall"
}
(cd "$STATE" && run autobahn "$WSTEST" -m fuzzingclient -s "$STATE/fuzzingclient.json") &
tool_ab=$!
run wsspec "$WSSPEC" server "ws://127.0.0.1:$ws_port" --agent "$server" --out "$STATE/wsspec" --cases "${ids[@]}" &
tool_ws=$!
wait "$tool_ws"
ws_server_cpu=$(server_cpu "$ws_pid")
wait "$tool_ab"
ab_server_cpu=$(server_cpu "$ab_pid")
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

row() { # row NAME SERVER_CPU
  local wall cpu rss
  wall=$(awk '{printf "%.1f", $2 - $1}' "$STATE/$1.wall")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$STATE/$1.time.v")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$STATE/$1.time.v")
  echo "| $1 | ${#ids[@]} | $wall | $cpu | $rss | $2 |"
}
echo "| tool | ids | wall s | tool CPU s | peak RSS MiB | server CPU s |"
echo "|---|---|---|---|---|---|"
row autobahn "$ab_server_cpu"
row wsspec "$ws_server_cpu"

python3 - "$STATE/autobahn/index.json" "$STATE/wsspec/index.json" <<'PY'
import json, sys
(_, ab), = json.load(open(sys.argv[1])).items()
(_, ws), = json.load(open(sys.argv[2])).items()
key = lambda r: (r["behavior"], r["behaviorClose"], r["remoteCloseCode"])
differ = [i for i in ab if i not in ws or key(ab[i]) != key(ws[i])]
print(f"verdicts: {len(ab)} ids run by Autobahn, {len(ab) - len(differ)} agree, {len(differ)} differ")
for i in sorted(differ, key=lambda s: tuple(map(int, s.split(".")))):
    print(f"  {i}: Autobahn {key(ab[i])}, wsspec {key(ws[i]) if i in ws else 'missing'}")
PY
