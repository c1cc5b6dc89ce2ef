#!/usr/bin/env bash
# Run wsspec against real, independent WebSocket servers and compare the
# results with the committed expectations.
#
#   interop/run.sh [--update] [AGENT...]
#
# AGENT is `websockets` (Python websockets, interop/websockets_echo.py) and/or
# `ws` (Node ws, interop/ws_echo.js); default both. For each agent it:
#   1. installs the pinned packages into .interop/ (skipped when up to date),
#   2. builds wsspec (cargo build --release -p wsspec),
#   3. starts the echo server on a free port (the server prints the port),
#      waits until it completes a WebSocket handshake (bounded),
#   4. runs `wsspec server ws://127.0.0.1:PORT --agent AGENT
#      --out .interop/reports/AGENT` under `timeout`,
#   5. stops the server, and compares .interop/reports/AGENT/index.json with
#      interop/expected/AGENT.json ignoring `duration` (interop/compare.py).
# With --update, step 5 rewrites interop/expected/AGENT.json instead.
#
# wsspec exiting 1 (some case FAILED) is normal for these servers: the
# comparison decides. wsspec exiting 2 (run not done), a timeout, a server
# that does not come up, or any difference fails the script (exit 1).
#
# Environment:
#   WSSPEC_TIMEOUT   seconds allowed per wsspec run (default 600)
#   SERVER_TIMEOUT   seconds allowed for a server to come up (default 20)
#   WSSPEC_ARGS      extra arguments for `wsspec server` (e.g. "--jobs 1")
#   WSSPEC           use this wsspec binary and skip the cargo build
#   PYTHON, NODE, NPM  interpreters/tools to use (default python3, node, npm)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/interop
STATE=$ROOT/.interop
WSSPEC_TIMEOUT=${WSSPEC_TIMEOUT:-600}
SERVER_TIMEOUT=${SERVER_TIMEOUT:-20}
PYTHON=${PYTHON:-python3}
NODE=${NODE:-node}
NPM=${NPM:-npm}
ALL_AGENTS=(websockets ws)

update=0
agents=()
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    websockets | ws) agents+=("$arg") ;;
    *) echo "run.sh: unknown argument '$arg' (agents: ${ALL_AGENTS[*]})" >&2; exit 2 ;;
  esac
done
((${#agents[@]})) || agents=("${ALL_AGENTS[@]}")

log() { printf '[interop] %s\n' "$*"; }
die() { printf '[interop] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

SERVER_PID=
stop_server() {
  local pid=$SERVER_PID rc=0
  [[ -n $pid ]] || return 0
  SERVER_PID=
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "server $pid ignored SIGTERM for 5 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    log "warning: the server (pid $pid) had already exited"
  fi
  wait "$pid" 2>/dev/null || rc=$?
  ((rc == 0)) || log "warning: the server exited with status $rc"
  return 0
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. pinned packages ------------------------------------------------------

# Python: `pip install --target` instead of a venv, so a Debian python3
# without the python3-venv package works too (and PEP 668 does not apply).
install_python() {
  local dir=$STATE/python stamp want
  want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1) $("$PYTHON" -c 'import sys; print(sys.version.split()[0], sys.platform)')"
  stamp=$dir/.installed
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    log "python packages up to date ($dir)"
    return
  fi
  log "installing $HERE/requirements.txt into $dir"
  rm -rf "$dir"
  PIP_ROOT_USER_ACTION=ignore timeout 300 "$PYTHON" -m pip install --disable-pip-version-check --no-input --quiet \
    --target "$dir" -r "$HERE/requirements.txt"
  printf '%s' "$want" >"$stamp"
}

# Node: package.json and package-lock.json are kept in interop/ and copied to
# .interop/node, where `npm ci` installs exactly the locked tree.
install_node() {
  local dir=$STATE/node stamp want
  want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1) $("$NODE" --version)"
  stamp=$dir/node_modules/.installed
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    log "node packages up to date ($dir/node_modules)"
    return
  fi
  log "installing $HERE/package-lock.json into $dir/node_modules"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$dir/"
  (cd "$dir" && timeout 300 "$NPM" ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  printf '%s' "$want" >"$stamp"
}

# --- 3. servers ----------------------------------------------------------------

# One WebSocket opening handshake and a close frame over bash's /dev/tcp:
# true once the server answers 101.
probe() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" "$1" >&3
    IFS= read -r line <&3 || exit 1
    [[ $line == "HTTP/1.1 101"* ]] || exit 1
    printf "\x88\x80\x00\x00\x00\x00" >&3   # masked close, no payload
  ' _ "$1" 2>/dev/null
}

# start_server AGENT: sets SERVER_PID and PORT, or fails.
start_server() {
  local agent=$1 out=$STATE/logs/$1.stdout err=$STATE/logs/$1.stderr deadline line
  mkdir -p "$STATE/logs"
  : >"$out"
  case $agent in
    websockets)
      PYTHONPATH=$STATE/python "$PYTHON" "$HERE/websockets_echo.py" 0 >"$out" 2>"$err" &
      ;;
    ws)
      NODE_PATH=$STATE/node/node_modules "$NODE" "$HERE/ws_echo.js" 0 >"$out" 2>"$err" &
      ;;
  esac
  SERVER_PID=$!
  deadline=$(($(date +%s) + SERVER_TIMEOUT))
  PORT=
  while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$err" >&2
      SERVER_PID=
      die "the $agent server exited during start-up (stderr above, $err)"
    fi
    if [[ -z $PORT ]]; then
      line=$(head -n 1 "$out")
      [[ $line =~ ^[0-9]+$ ]] && PORT=$line
    fi
    if [[ -n $PORT ]] && probe "$PORT"; then
      log "$agent server up: pid $SERVER_PID, ws://127.0.0.1:$PORT"
      return
    fi
    (($(date +%s) < deadline)) || die "the $agent server did not accept a WebSocket handshake within ${SERVER_TIMEOUT} s (logs: $out, $err)"
    sleep 0.1
  done
}

# --- main ------------------------------------------------------------------------

for tool in timeout sha256sum "$PYTHON"; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
for agent in "${agents[@]}"; do
  [[ $agent != ws ]] || for tool in "$NODE" "$NPM"; do
    command -v "$tool" >/dev/null || die "'$tool' not found (needed for agent ws)"
  done
done

t0=$(now)
mkdir -p "$STATE"
for agent in "${agents[@]}"; do
  case $agent in
    websockets) install_python ;;
    ws) install_node ;;
  esac
done
log "packages ready in $(elapsed "$t0") s"

if [[ -n ${WSSPEC:-} ]]; then
  log "using WSSPEC=$WSSPEC (no build)"
else
  t=$(now)
  log "cargo build --release -p wsspec"
  (cd "$ROOT" && cargo build --release -p wsspec) || die "cargo build --release -p wsspec failed"
  WSSPEC=$ROOT/target/release/wsspec
  log "build done in $(elapsed "$t") s"
fi
[[ -x $WSSPEC ]] || die "no wsspec binary at $WSSPEC"

# shellcheck disable=SC2206 # WSSPEC_ARGS is split on purpose
extra=(${WSSPEC_ARGS:-})
failed=()
results=()
for agent in "${agents[@]}"; do
  echo
  log "=== $agent ==="
  outdir=$STATE/reports/$agent
  rm -rf "$outdir"
  start_server "$agent"

  t=$(now)
  rc=0
  timeout --kill-after=10 "$WSSPEC_TIMEOUT" \
    "$WSSPEC" server "ws://127.0.0.1:$PORT" --agent "$agent" --out "$outdir" "${extra[@]}" || rc=$?
  took=$(elapsed "$t")
  stop_server
  log "wsspec exited $rc after $took s"

  case $rc in
    0 | 1) ;;
    124 | 137)
      failed+=("$agent")
      results+=("$agent: wsspec timed out after $WSSPEC_TIMEOUT s")
      continue
      ;;
    *)
      failed+=("$agent")
      results+=("$agent: wsspec could not do the run (exit $rc)")
      continue
      ;;
  esac

  expected=$HERE/expected/$agent.json
  crc=0
  if ((update)); then
    mkdir -p "$HERE/expected"
    "$PYTHON" "$HERE/compare.py" --write "$expected" "$outdir/index.json" || crc=$?
  else
    "$PYTHON" "$HERE/compare.py" "$expected" "$outdir/index.json" || crc=$?
  fi
  case $crc in
    0) results+=("$agent: ok (wsspec exit $rc, ${took} s)") ;;
    1)
      failed+=("$agent")
      results+=("$agent: results differ from interop/expected/$agent.json (${took} s)")
      ;;
    *)
      failed+=("$agent")
      if [[ ! -f $expected ]]; then
        results+=("$agent: no interop/expected/$agent.json; create it with interop/run.sh --update $agent")
      else
        results+=("$agent: comparison could not be done (exit $crc)")
      fi
      ;;
  esac
done

echo
log "=== summary (total $(elapsed "$t0") s) ==="
for r in "${results[@]}"; do log "$r"; done
if ((${#failed[@]})); then
  log "reports: $STATE/reports/<agent>/ (index.json and per-case files)"
  exit 1
fi
