#!/usr/bin/env bash
# Run wsspec against real, independent WebSocket servers and clients and
# compare the results with the committed expectations.
#
#   interop/run.sh [--update] [AGENT...]
#
# Server agents (wsspec is the client):
#   websockets   Python websockets, interop/websockets_echo.py
#   ws           Node ws, interop/ws_echo.js
#   websockets-tls, ws-tls   the same servers over wss:// (a certificate from
#                `wsspec tls-cert`, verified with --ca); their results must
#                equal the plain agents' (expected/websockets.json, ws.json)
#   websockets-deflate, ws-deflate   the same servers with permessage-deflate
#                on (`--deflate`: each library's defaults), the whole catalog
#                including 12.x, 13.x and 20.x, except Autobahn's 132 bulk ids
#                unless DEFLATE_FULL=1: in each of the 12 subsections, .7-.10 and
#                .12-.18, 1000 messages of 16 to 128 KiB each, 98% of the data;
#                the 84 left (.1-.6 and .11: 16 B to 8 KiB, all 12 offers and
#                data sets) and section 20 run in CI
# Client agents (wsspec is the server):
#   websockets-client   Python websockets, interop/websockets_client.py
#   ws-client           Node ws, interop/ws_client.js
#   websockets-client-tls, ws-client-tls   the same drivers against
#                `wsspec client --tls`, trusting its throw-away CA ({ca}),
#                section 17 (TLS) included (expected/clients/*-tls.json)
#   websockets-deflate-client, ws-deflate-client   the same drivers with
#                permessage-deflate on (`--deflate`: each library's client
#                defaults), 12.x, 13.x and 21.x included, the 132 bulk ids left
#                out unless DEFLATE_FULL=1 (as for the deflate servers)
# HTTP/2 server agents (RFC 8441, `wsspec server --http2`; results filed as
# NAME@h2c over h2c, NAME@h2 over TLS with ALPN h2):
#   hypercorn-h2, hypercorn-h2-tls   Python Hypercorn, interop/hypercorn_echo.py
#   haproxy-h2, haproxy-h2-tls       HAProxy (Debian's `haproxy` on PATH, or
#                $HAPROXY) as an HTTP/2 front end for the websockets echo
#                server over HTTP/1.1, interop/haproxy_h2.py
# Default: all sixteen (servers first); `servers`, `clients` and `http2`
# select a group.
#
# For each server agent it:
#   1. installs the pinned packages into .interop/ (skipped when up to date),
#   2. builds wsspec (cargo build --release -p wsspec),
#   3. starts the echo server on a free port (the server prints the port),
#      waits until it completes a WebSocket handshake (bounded),
#   4. runs `wsspec server ws://127.0.0.1:PORT --agent AGENT
#      --out .interop/reports/AGENT` under `timeout`,
#   5. stops the server, and compares .interop/reports/AGENT/index.json with
#      interop/expected/AGENT.json ignoring `duration` (interop/compare.py).
# For each client agent, after steps 1-2, it runs `wsspec client --exec
# 'DRIVER {url} {agent}' --agent AGENT --out .interop/reports/clients/AGENT`
# under `timeout` (wsspec listens on a free port, spawns the driver, which runs
# every case one at a time like an Autobahn client driver, and waits for it),
# and compares index.json with interop/expected/clients/AGENT.json.
# With --update, step 5 rewrites the expected file instead.
#
# wsspec exiting 1 (some case FAILED, or a client left cases without a result)
# does not by itself fail the script: the comparison decides (a case without a
# result is a difference). wsspec exiting 2 (run not done), a timeout, a server
# that does not come up, or any difference fails the script (exit 1).
#
# Environment:
#   WSSPEC_TIMEOUT   seconds allowed per wsspec run (default 600)
#   SERVER_TIMEOUT   seconds allowed for a server to come up (default 20)
#   CLIENT_TIMEOUT   seconds wsspec lets a client driver run before killing it
#                    (wsspec --exec-timeout; default 300, below WSSPEC_TIMEOUT
#                    so that the cases run so far are still reported)
#   WSSPEC_ARGS      extra arguments for `wsspec server` (e.g. "--jobs 1")
#   DEFLATE_FULL     1: the deflate agents (servers and clients) run the 132 bulk
#                    ids too (many minutes per agent); ids missing from the
#                    expected file must be OK/OK
#   WSSPEC_CLIENT_ARGS  extra arguments for `wsspec client`
#   WSSPEC           use this wsspec binary and skip the cargo build
#   PYTHON, NODE, NPM  interpreters/tools to use (default python3, node, npm)
#   HAPROXY          the HAProxy binary (default haproxy)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/interop
STATE=$ROOT/.interop
WSSPEC_TIMEOUT=${WSSPEC_TIMEOUT:-600}
SERVER_TIMEOUT=${SERVER_TIMEOUT:-20}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-300}
PYTHON=${PYTHON:-python3}
NODE=${NODE:-node}
NPM=${NPM:-npm}
H2_AGENTS=(hypercorn-h2 hypercorn-h2-tls haproxy-h2 haproxy-h2-tls)
SERVER_AGENTS=(websockets ws websockets-tls ws-tls websockets-deflate ws-deflate "${H2_AGENTS[@]}")
CLIENT_AGENTS=(websockets-client ws-client websockets-client-tls ws-client-tls websockets-deflate-client ws-deflate-client)
ALL_AGENTS=("${SERVER_AGENTS[@]}" "${CLIENT_AGENTS[@]}")
# Autobahn's bulk permessage-deflate ids: 1000 messages of 16 KiB to 128 KiB (.7-.10,
# .12-.18) in each of the 12 subsections, 98% of the 12.x/13.x data (see README.md).
DEFLATE_BULK=()
for sub in 12.1 12.2 12.3 12.4 12.5 13.1 13.2 13.3 13.4 13.5 13.6 13.7; do
  for z in 7 8 9 10 12 13 14 15 16 17 18; do DEFLATE_BULK+=("$sub.$z"); done
done

update=0
agents=()
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    websockets | ws | websockets-client | ws-client | websockets-tls | ws-tls | websockets-client-tls | ws-client-tls | websockets-deflate | ws-deflate) agents+=("$arg") ;;
    websockets-deflate-client | ws-deflate-client) agents+=("$arg") ;;
    hypercorn-h2 | hypercorn-h2-tls | haproxy-h2 | haproxy-h2-tls) agents+=("$arg") ;;
    servers) agents+=("${SERVER_AGENTS[@]}") ;;
    http2) agents+=("${H2_AGENTS[@]}") ;;
    clients) agents+=("${CLIENT_AGENTS[@]}") ;;
    *) echo "run.sh: unknown argument '$arg' (agents: ${ALL_AGENTS[*]}, servers, clients, http2)" >&2; exit 2 ;;
  esac
done
((${#agents[@]})) || agents=("${ALL_AGENTS[@]}")
if ((update)) && [[ ${DEFLATE_FULL:-0} == 1 ]]; then
  echo "run.sh: --update with DEFLATE_FULL=1 would write the bulk ids into the deflate agents' files, which CI's runs leave out" >&2
  exit 2
fi
# Servers first, then clients, each agent once, in the order given.
selected=("${agents[@]}")
agents=()
for agent in "${selected[@]}"; do
  [[ $agent == *-client* || " ${agents[*]} " == *" $agent "* ]] || agents+=("$agent")
done
for agent in "${selected[@]}"; do
  [[ $agent != *-client* || " ${agents[*]} " == *" $agent "* ]] || agents+=("$agent")
done

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

# A TLS server is only probed for a TCP accept (bash cannot speak TLS); wsspec
# itself checks the TLS handshake before the first case (exit 2 otherwise).
tcp_probe() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# start_server AGENT: sets SERVER_PID and PORT, or fails.
start_server() {
  local agent=$1 out=$STATE/logs/$1.stdout err=$STATE/logs/$1.stderr deadline line ready=probe
  mkdir -p "$STATE/logs"
  : >"$out"
  case $agent in
    websockets)
      PYTHONPATH=$STATE/python "$PYTHON" "$HERE/websockets_echo.py" 0 >"$out" 2>"$err" &
      ;;
    ws)
      NODE_PATH=$STATE/node/node_modules "$NODE" "$HERE/ws_echo.js" 0 >"$out" 2>"$err" &
      ;;
    websockets-tls)
      PYTHONPATH=$STATE/python "$PYTHON" "$HERE/websockets_echo.py" 0 "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" >"$out" 2>"$err" &
      ready=tcp_probe
      ;;
    ws-tls)
      NODE_PATH=$STATE/node/node_modules "$NODE" "$HERE/ws_echo.js" 0 "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" >"$out" 2>"$err" &
      ready=tcp_probe
      ;;
    websockets-deflate)
      PYTHONPATH=$STATE/python "$PYTHON" "$HERE/websockets_echo.py" --deflate 0 >"$out" 2>"$err" &
      ;;
    ws-deflate)
      NODE_PATH=$STATE/node/node_modules "$NODE" "$HERE/ws_echo.js" --deflate 0 >"$out" 2>"$err" &
      ;;
    hypercorn-h2* | haproxy-h2*)
      # The same script serves h2c, and TLS (ALPN h2) when given the certificate and key.
      local script=hypercorn_echo.py tls_files=()
      [[ $agent != haproxy-* ]] || script=haproxy_h2.py
      [[ $agent != *-tls ]] || tls_files=("$TLS_DIR/cert.pem" "$TLS_DIR/key.pem")
      PYTHONPATH=$STATE/python "$PYTHON" "$HERE/$script" "${tls_files[@]}" >"$out" 2>"$err" &
      ready=tcp_probe
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
    if [[ -n $PORT ]] && "$ready" "$PORT"; then
      log "$agent server up: pid $SERVER_PID, ws://127.0.0.1:$PORT"
      return
    fi
    (($(date +%s) < deadline)) || die "the $agent server did not accept a WebSocket handshake within ${SERVER_TIMEOUT} s (logs: $out, $err)"
    sleep 0.1
  done
}

# --- 4. clients ----------------------------------------------------------------

# Quotes a word for `sh -c` (wsspec runs the --exec command with sh).
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# client_command AGENT: the --exec command; wsspec fills in {url}, {agent} and,
# with --tls, {ca} (its throw-away CA, which the TLS drivers trust).
# The interpreter finds the pinned packages through PYTHONPATH / NODE_PATH,
# which `wsspec client` passes on to the command it spawns. `exec` makes the
# driver replace the `sh -c` that wsspec spawns, so that wsspec's kill on
# --exec-timeout reaches the driver itself (dash does not exec it on its own,
# and wsspec kills only its direct child).
client_command() {
  case $1 in
    websockets-client) printf 'exec %s %s {url} {agent}' "$(shq "$PYTHON")" "$(shq "$HERE/websockets_client.py")" ;;
    ws-client) printf 'exec %s %s {url} {agent}' "$(shq "$NODE")" "$(shq "$HERE/ws_client.js")" ;;
    websockets-client-tls) printf 'exec %s %s {url} {agent} {ca}' "$(shq "$PYTHON")" "$(shq "$HERE/websockets_client.py")" ;;
    ws-client-tls) printf 'exec %s %s {url} {agent} {ca}' "$(shq "$NODE")" "$(shq "$HERE/ws_client.js")" ;;
    websockets-deflate-client) printf 'exec %s %s --deflate {url} {agent}' "$(shq "$PYTHON")" "$(shq "$HERE/websockets_client.py")" ;;
    ws-deflate-client) printf 'exec %s %s --deflate {url} {agent}' "$(shq "$NODE")" "$(shq "$HERE/ws_client.js")" ;;
  esac
}

# --- main ------------------------------------------------------------------------

need_python=0
need_node=0
for agent in "${agents[@]}"; do
  case $agent in
    websockets | websockets-client | websockets-tls | websockets-client-tls | websockets-deflate | websockets-deflate-client) need_python=1 ;;
    hypercorn-h2* | haproxy-h2*) need_python=1 ;;
    ws | ws-client | ws-tls | ws-client-tls | ws-deflate | ws-deflate-client) need_node=1 ;;
  esac
done
for tool in timeout sha256sum "$PYTHON"; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
if [[ " ${agents[*]} " == *" haproxy-h2"* ]]; then
  command -v "${HAPROXY:-haproxy}" >/dev/null || die "'${HAPROXY:-haproxy}' not found (needed for agents haproxy-h2 and haproxy-h2-tls: apt-get install haproxy)"
fi
if ((need_node)); then
  for tool in "$NODE" "$NPM"; do
    command -v "$tool" >/dev/null || die "'$tool' not found (needed for agents ws and ws-client)"
  done
fi

t0=$(now)
mkdir -p "$STATE"
if ((need_python)); then install_python; fi
if ((need_node)); then install_node; fi
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
# The TLS servers' certificate (for localhost and 127.0.0.1) and its CA.
TLS_DIR=$STATE/tls
"$WSSPEC" tls-cert "$TLS_DIR" --force 2>/dev/null || die "wsspec tls-cert $TLS_DIR failed"

# shellcheck disable=SC2206 # WSSPEC_ARGS and WSSPEC_CLIENT_ARGS are split on purpose
extra=(${WSSPEC_ARGS:-})
# shellcheck disable=SC2206
client_extra=(${WSSPEC_CLIENT_ARGS:-})
failed=()
results=()

# check AGENT RC TOOK INDEX EXPECTED_REL: records the outcome of one wsspec run
# (exit RC after TOOK s) and compares INDEX with interop/EXPECTED_REL (or, with
# --update, rewrites it).
check() {
  local agent=$1 rc=$2 took=$3 index=$4 rel=$5 expected crc=0
  expected=$HERE/$rel
  case $rc in
    0 | 1) ;;
    124 | 137)
      failed+=("$agent")
      results+=("$agent: wsspec timed out after $WSSPEC_TIMEOUT s")
      return
      ;;
    *)
      failed+=("$agent")
      results+=("$agent: wsspec could not do the run (exit $rc)")
      return
      ;;
  esac

  if ((update)); then
    mkdir -p "$(dirname "$expected")"
    "$PYTHON" "$HERE/compare.py" --write "$expected" "$index" || crc=$?
  else
    local mode=()
    [[ $agent != *-deflate* || ${DEFLATE_FULL:-0} != 1 ]] || mode=(--extra-ok)
    "$PYTHON" "$HERE/compare.py" "${mode[@]}" "$expected" "$index" || crc=$?
  fi
  case $crc in
    0) results+=("$agent: ok (wsspec exit $rc, ${took} s)") ;;
    1)
      failed+=("$agent")
      results+=("$agent: results differ from interop/$rel (${took} s)")
      ;;
    *)
      failed+=("$agent")
      if [[ ! -f $expected ]]; then
        results+=("$agent: no interop/$rel; create it with interop/run.sh --update $agent")
      else
        results+=("$agent: comparison could not be done (exit $crc)")
      fi
      ;;
  esac
}

for agent in "${agents[@]}"; do
  echo
  log "=== $agent ==="
  t=$(now)
  rc=0
  case $agent in
    *-client | *-client-tls)
      outdir=$STATE/reports/clients/$agent
      rm -rf "$outdir"
      command=$(client_command "$agent")
      tls=() deflate=()
      [[ $agent != *-tls ]] || tls=(--tls)
      [[ $agent != *-deflate-client || ${DEFLATE_FULL:-0} == 1 ]] || deflate=(--exclude "${DEFLATE_BULK[@]}")
      log "wsspec client ${tls[*]} --exec \"$command\" --agent ${agent%-tls}"
      PYTHONPATH=$STATE/python NODE_PATH=$STATE/node/node_modules \
        timeout --kill-after=10 "$WSSPEC_TIMEOUT" \
        "$WSSPEC" client "${tls[@]}" --exec "$command" --agent "${agent%-tls}" --out "$outdir" \
        --exec-timeout "$CLIENT_TIMEOUT" "${deflate[@]}" "${client_extra[@]}" || rc=$?
      took=$(elapsed "$t")
      stem=${agent%-tls}
      log "wsspec exited $rc after $took s (the driver's output: $outdir/${stem//-/_}_client.log)"
      check "$agent" "$rc" "$took" "$outdir/index.json" "expected/clients/$agent.json"
      ;;
    *)
      outdir=$STATE/reports/$agent
      rm -rf "$outdir"
      start_server "$agent"
      transport=()
      name=${agent%-tls} expected=expected/${agent%-tls}.json
      # HTTP/2: the results are filed as NAME@h2c / NAME@h2, each transport with its own file.
      [[ $agent != *-h2* ]] || { transport=(--http2); name=${agent%%-h2*} expected=expected/$agent.json; }
      # Every agent runs the whole catalog, permessage-deflate (12.x, 13.x, 20.x) included:
      # against the servers without compression the 216 Autobahn ids must be UNIMPLEMENTED
      # with a clean close. Over HTTP/2 wsspec does not negotiate it yet and leaves those
      # sections out itself; they stay excluded there so the HTTP/2 agents' files are unchanged.
      deflate=()
      [[ $agent != *-h2* ]] || deflate=(--exclude '12.*' '13.*' '20.*')
      [[ $agent != *-deflate || ${DEFLATE_FULL:-0} == 1 ]] || deflate=(--exclude "${DEFLATE_BULK[@]}")
      t=$(now)
      url="ws://127.0.0.1:$PORT" tls=()
      # Over TLS: the same agent name and expected file as over ws://, so the
      # verdicts must be the same; localhost, so that wsspec sends SNI.
      [[ $agent != *-tls ]] || { url="wss://localhost:$PORT"; tls=(--ca "$TLS_DIR/ca.pem"); }
      timeout --kill-after=10 "$WSSPEC_TIMEOUT" \
        "$WSSPEC" server "$url" "${tls[@]}" --agent "$name" --out "$outdir" "${transport[@]}" "${deflate[@]}" "${extra[@]}" || rc=$?
      took=$(elapsed "$t")
      stop_server
      log "wsspec exited $rc after $took s"
      check "$agent" "$rc" "$took" "$outdir/index.json" "$expected"
      ;;
  esac
done

echo
log "=== summary (total $(elapsed "$t0") s) ==="
for r in "${results[@]}"; do log "$r"; done
if ((${#failed[@]})); then
  log "reports: $STATE/reports/<agent>/ and $STATE/reports/clients/<agent>/ (index.json and per-case files)"
  exit 1
fi
