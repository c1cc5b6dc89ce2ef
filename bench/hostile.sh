#!/usr/bin/env bash
# Benchmarks, not tests: run by hand, never by CI. Runs the release `wsspec server` against each hostile
# target of bench/hostile_peer.py (loopback only) and prints, per attack and selection, the numbers
# wsspec's bounds are stated in (README, "Bounds on hostile input"): peak RSS (`/usr/bin/time -v`),
# the report folder's data bytes (`du -sb`) and size on disk (`du -sk`, 4 KiB blocks), files written,
# wall and CPU time, and the exit code. The goal: peak RSS under 64 MB and a folder under 10 MB on disk
# for a whole run, whatever the target sends.
#
#   bench/hostile.sh [--attacks 'echo ping-flood …'] [--quick]
#
# Each attack runs twice: the whole catalog with the default --jobs, and `--jobs 32 --cases '9.*'`.
# --quick runs only the second. Attacks (see bench/hostile_peer.py): echo (the baseline), ping-flood,
# text-flood, huge (a 16 MiB message for every frame), frag (an endless message of 1-byte fragments),
# drip (echoes one byte every 20 ms), blackhole (never answers), crash9 (drops TCP mid-echo on the 9.x
# messages), chatty (distinct pings, messages and markup in every case, a markup close reason). Set
# WSSPEC to measure another build. Needs python3 and GNU time. Raw numbers: .bench/hostile.tsv; report
# folders: .bench/hostile/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.bench/hostile
attacks="echo ping-flood text-flood huge frag drip blackhole crash9 chatty" quick=0
while (($#)); do
  case $1 in
    --attacks) attacks=$2; shift ;;
    --quick) quick=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/hostile.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -x /usr/bin/time ]] || { echo "bench/hostile.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench/hostile.sh: needs python3" >&2; exit 2; }

mkdir -p "$STATE"
cd "$ROOT"
if [[ -z ${WSSPEC:-} ]]; then
  cargo build -q --release -p wsspec
  WSSPEC=$ROOT/target/release/wsspec
fi

peer_pid=
stop_peer() {
  if [[ -n $peer_pid ]] && kill "$peer_pid" 2>/dev/null; then wait "$peer_pid" 2>/dev/null || true; fi
  peer_pid=
}
trap stop_peer EXIT
# start_peer MODE: a fresh hostile peer; sets $url.
start_peer() {
  local out=$STATE/peer.url
  : >"$out"
  python3 "$ROOT/bench/hostile_peer.py" "$1" >"$out" 2>/dev/null &
  peer_pid=$!
  for _ in $(seq 200); do [[ -s $out ]] && break; sleep 0.05; done
  url=$(head -n 1 "$out")
  [[ $url == ws://* ]] || { echo "bench/hostile.sh: the peer '$1' did not start" >&2; exit 1; }
}

tsv=$ROOT/.bench/hostile.tsv
printf 'attack\tselection\tpeak_rss_kb\treport_bytes\treport_kb_on_disk\tfiles\twall_s\tcpu_s\texit\n' >"$tsv"
# measure ATTACK LABEL ARGS...: one run of wsspec under GNU time against a fresh peer; appends a row.
measure() {
  local attack=$1 label=$2 out=$STATE/$1-$2 stats=$STATE/time.txt code=0
  shift 2
  rm -rf "$out"
  start_peer "$attack"
  /usr/bin/time -v -o "$stats" "$WSSPEC" server "$url" --agent "$attack" --out "$out" "$@" >"$out.log" 2>&1 || code=$?
  stop_peer
  local rss wall cpu bytes kb files
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$stats")
  cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.1f", u + s}' "$stats")
  bytes=$(du -sb "$out" | cut -f1)
  kb=$(du -sk "$out" | cut -f1)
  files=$(find "$out" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$attack" "$label" "$rss" "$bytes" "$kb" "$files" "$wall" "$cpu" "$code" >>"$tsv"
  printf '%-10s %-10s peak %6.1f MB  report %6.2f MB (%6.2f MB on disk, %4d files)  wall %6.1f s  cpu %5.1f s  exit %s\n' \
    "$attack" "$label" "$(bc -l <<<"$rss/1000")" "$(bc -l <<<"$bytes/1000000")" "$(bc -l <<<"$kb*1024/1000000")" "$files" "$wall" "$cpu" "$code" >&2
}

for attack in $attacks; do
  ((quick)) || measure "$attack" catalog
  measure "$attack" 9.x-j32 --jobs 32 --cases '9.*'
done

echo
echo "| attack | selection | peak RSS (MB) | report (MB, du -sb) | on disk (MB, du -sk) | files | wall (s) | CPU (s) | exit |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
tail -n +2 "$tsv" | while IFS=$'\t' read -r attack label rss bytes kb files wall cpu code; do
  printf '| %s | %s | %.1f | %.2f | %.2f | %d | %.1f | %s | %s |\n' "$attack" "$label" "$(bc -l <<<"$rss/1000")" \
    "$(bc -l <<<"$bytes/1000000")" "$(bc -l <<<"$kb*1024/1000000")" "$files" "$wall" "$cpu" "$code"
done
echo
echo "Load while measuring: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); $(nproc) cores."
