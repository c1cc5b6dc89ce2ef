#!/usr/bin/env bash
# Benchmarks, not tests: run by hand, never by CI. Times wsspec and Autobahn|Testsuite side by side on the
# same local server in one run, and reports the numbers the project's speed and footprint goals are
# stated in:
#   - wall time of the 301 Autobahn cases of sections 1-7, 9, 10 (Autobahn, then wsspec, same server);
#   - peak RSS (`/usr/bin/time -v`) and report-folder size of each run;
#   - peak RSS of a whole-catalog wsspec run (every section, default --jobs and --jobs 1) against the
#     external server (memory must not grow with message size nor with --jobs: payloads are streamed);
#   - with --fuzz SECONDS: fuzz/bench.sh (libFuzzer exec/s per target, network-fuzzer sequences/s).
#
#   bench/run.sh [--runs N] [--no-autobahn] [--fuzz SECONDS]
#
# The server is `wsspec reference-server` (tokio-tungstenite echo), a fresh one per tool run, on 127.0.0.1.
# Autobahn|Testsuite is installed into .bench/ab once (Python 2.7 from pyenv, `pip install
# autobahntestsuite`; see interop/autobahn-comparison.md); set WSTEST to use another `wstest`, and WSSPEC=PATH
# to measure that wsspec binary instead of building the release one.
# Everything stays on loopback: Autobahn's fuzzingclient only makes outgoing connections.
# Prints a Markdown table (medians over --runs, default 3) and keeps the raw numbers in .bench/results.tsv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.bench
runs=3 autobahn=1 fuzz_seconds=0
while (($#)); do
  case $1 in
    --runs) runs=$2; shift ;;
    --no-autobahn) autobahn=0 ;;
    --fuzz) fuzz_seconds=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -x /usr/bin/time ]] || { echo "bench/run.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

mkdir -p "$STATE"
cd "$ROOT"
if [[ -z ${WSSPEC:-} ]]; then
  cargo build -q --release -p wsspec
  WSSPEC=$ROOT/target/release/wsspec
fi
[[ -x $WSSPEC ]] || { echo "bench/run.sh: WSSPEC=$WSSPEC is not an executable file" >&2; exit 2; }
SECTIONS=('1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '9.*' '10.*')

if ((autobahn)) && [[ -z ${WSTEST:-} ]]; then
  WSTEST=$STATE/ab/py2/bin/wstest
  if [[ ! -x $WSTEST ]]; then
    echo "installing Autobahn|Testsuite 25.10.1 into $STATE/ab (about 30 s)" >&2
    python3 -m venv "$STATE/ab/tools"
    "$STATE/ab/tools/bin/pip" -q install 'virtualenv<20.22'
    "$STATE/ab/tools/bin/virtualenv" -q -p "$(pyenv root)/versions/2.7.18/bin/python2.7" "$STATE/ab/py2"
    "$STATE/ab/py2/bin/pip" -q install autobahntestsuite==25.10.1
  fi
fi

server_pid=
stop_server() {
  # The server dies of the TERM (status 143): expected, so it must not end the script under `set -e`.
  if [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; then wait "$server_pid" 2>/dev/null || true; fi
  server_pid=
}
trap stop_server EXIT
# Starts a fresh reference server; sets $url.
start_server() {
  local out=$STATE/server.url
  : >"$out"
  "$WSSPEC" reference-server --listen 127.0.0.1:0 >"$out" 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do [[ -s $out ]] && break; sleep 0.05; done
  url=$(head -n 1 "$out")
  [[ $url == ws://* ]] || { echo "bench/run.sh: the reference server did not start" >&2; exit 1; }
}

results=$STATE/results.tsv
printf 'what\trun\twall_s\tpeak_rss_kb\treport_kb\n' >"$results"
# measure WHAT RUN OUTDIR CMD...: runs CMD under GNU time against a fresh server, appends a row.
measure() {
  local what=$1 run=$2 outdir=$3 stats=$STATE/time.txt
  shift 3
  rm -rf "$outdir"
  start_server
  local cmd=("${@//@URL@/$url}")
  /usr/bin/time -v -o "$stats" "${cmd[@]}" >"$STATE/last.log" 2>&1 || true
  stop_server
  local wall rss kb
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2, p, ":"); s=0; for (i=1; i<=n; i++) s=s*60+p[i]; print s}' "$stats")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")
  kb=$(du -sk "$outdir" 2>/dev/null | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$what" "$run" "$wall" "$rss" "${kb:-0}" >>"$results"
  printf '%-28s run %s: %6.2f s, peak RSS %6d KB, report %6d KB\n' "$what" "$run" "$wall" "$rss" "${kb:-0}" >&2
}

for run in $(seq "$runs"); do
  if ((autobahn)); then
    spec=$STATE/fuzzingclient.json
    cases_json=$(printf '"%s",' "${SECTIONS[@]}")
    # __URL__ is filled in once the server is up.
    printf '{"outdir": "%s", "servers": [{"agent": "ref", "url": "__URL__"}], "cases": [%s], "exclude-cases": ["12.*", "13.*"], "exclude-agent-cases": {}}\n' \
      "$STATE/autobahn" "${cases_json%,}" >"$spec.in"
    measure "autobahn (301 cases)" "$run" "$STATE/autobahn" \
      bash -c 'sed "s#__URL__#$1#" "$2.in" >"$2" && cd "$3" && "$4" -m fuzzingclient -s "$2"' _ @URL@ "$spec" "$STATE" "$WSTEST"
  fi
  measure "wsspec (301 cases)" "$run" "$STATE/wsspec" "$WSSPEC" server @URL@ --agent ref --out "$STATE/wsspec" --cases "${SECTIONS[@]}"
  measure "wsspec --jobs 1 (301 cases)" "$run" "$STATE/wsspec1" "$WSSPEC" server @URL@ --agent ref --out "$STATE/wsspec1" --jobs 1 --cases "${SECTIONS[@]}"
  measure "wsspec (whole catalog)" "$run" "$STATE/wsspec-all" "$WSSPEC" server @URL@ --agent ref --out "$STATE/wsspec-all"
  measure "wsspec --jobs 1 (whole catalog)" "$run" "$STATE/wsspec-all1" "$WSSPEC" server @URL@ --agent ref --out "$STATE/wsspec-all1" --jobs 1
done

echo
echo "| run (median of $runs) | wall s | peak RSS MB | report MB |"
echo "|---|---|---|---|"
awk -F'\t' 'NR > 1 {k[$1]; w[$1, ++n[$1]] = $3; r[$1, n[$1]] = $4; d[$1, n[$1]] = $5}
  function median(a, key, c,   i, j, t, v) {
    for (i = 1; i <= c; i++) v[i] = a[key, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
  }
  END { for (key in k) printf "| %s | %.2f | %.1f | %.1f |\n", key, median(w, key, n[key]), median(r, key, n[key]) / 1024, median(d, key, n[key]) / 1024 }' "$results" | sort
if ((autobahn)); then
  awk -F'\t' 'NR > 1 && $1 ~ /^autobahn/ {a += $3; na++} NR > 1 && $1 == "wsspec (301 cases)" {b += $3; nb++}
    END { if (na && nb) printf "\nwsspec / Autobahn wall time (means): %.3f\n", (b / nb) / (a / na) }' "$results"
fi

if ((fuzz_seconds > 0)); then
  echo
  "$ROOT/fuzz/bench.sh" "$fuzz_seconds"
fi
