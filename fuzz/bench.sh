#!/usr/bin/env bash
# Benchmarks, not tests. Executions per second of each libFuzzer target (stable toolchain, no
# sanitizer, starting from its seed corpus with its dictionary fuzz/TARGET.dict if there is one, for
# SECONDS; wall clock from libFuzzer's stats, and per CPU-second of the target's process), then sequences per second of `wsspec fuzz`
# against the embedded tungstenite server for SECONDS, with the CPU time (user + sys, wsspec and the
# embedded server together) per sequence run: on a shared machine the wall-clock rate says more
# about the load than about wsspec.
#   fuzz/bench.sh [--network | --no-trace-compares] [SECONDS]   default 30; --network: only the
#   network fuzzer; --no-trace-compares: the targets built without libFuzzer's comparison tracing
#   (fuzz/README.md, Throughput, round 4: frame_parse 1.4-1.7 times the executions per CPU-second
#   at the same coverage), in fuzz/target/throughput-notc
# WSSPEC=PATH uses that wsspec binary instead of building one (as bench/*.sh do).
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "$0"
  exit 0
fi

network_only=false
trace_compares=()
target_dir=target/throughput
if [[ "${1:-}" == --network ]]; then
  network_only=true
  shift
elif [[ "${1:-}" == --no-trace-compares ]]; then
  trace_compares=(--no-trace-compares)
  target_dir=target/throughput-notc
  shift
fi
seconds=${1:-30}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz/bench.sh: SECONDS must be a whole number of seconds, not '$seconds' (--help)" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z ${WSSPEC:-} ]]; then
  echo "fuzz/bench.sh: building wsspec (release; WSSPEC=PATH skips this)" >&2
  cargo build -q --release -p wsspec
  WSSPEC=target/release/wsspec
fi
[[ -x $WSSPEC ]] || { echo "fuzz/bench.sh: WSSPEC=$WSSPEC is not an executable" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

network() {
  local out summary run user sys
  out=$( { /usr/bin/time -f 'cpu %U %S' "$WSSPEC" fuzz --duration "$seconds" --seed 1 --out "$scratch/findings" || true; } 2>&1)
  summary=$(grep -E -A2 'sequences? generated in' <<<"$out")
  run=$(grep -oE '[0-9]+ run \(' <<<"$summary" | grep -oE '^[0-9]+')
  read -r _ user sys < <(grep -E '^cpu ' <<<"$out")
  echo "$summary"
  awk -v u="$user" -v s="$sys" -v n="$run" 'BEGIN { printf "CPU (user + sys): %.2f s, %.0f us per sequence run\n", u + s, (u + s) * 1e6 / (n > 0 ? n : 1) }'
}
if $network_only; then
  network
  exit 0
fi

"$WSSPEC" fuzz-seeds fuzz/corpus 2>/dev/null
# The throughput build: optimized, overflow checks on, without the rest of debug assertions (std's
# debug-only precondition checks; wsspec has no `debug_assert!`), which cost frame_parse 12% of its
# instructions at equal coverage (fuzz/README.md, Throughput, round 3). fuzz/smoke.sh (CI) keeps them.
# Its own target dir, so switching between this and the smoke's build rebuilds neither.
(cd fuzz && RUSTFLAGS="-Coverflow-checks=on" cargo fuzz build --sanitizer none -O "${trace_compares[@]}" \
  --target-dir "$target_dir" 2>/dev/null)
bin=fuzz/$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release
printf '%-18s %10s %10s %14s %8s\n' target runs exec/s 'per CPU-s' cov
for target in $(cd fuzz && cargo fuzz list); do
  # A copy of the seeds, so the benchmark's finds do not grow fuzz/corpus (some targets have none).
  mkdir -p "$scratch/$target"
  if [[ -d "fuzz/corpus/$target" ]]; then cp -r "fuzz/corpus/$target/." "$scratch/$target/"; fi
  dict=()
  if [[ -f "fuzz/$target.dict" ]]; then dict=("-dict=fuzz/$target.dict"); fi
  out=$(/usr/bin/time -f 'cpu %U %S' "$bin/$target" "${dict[@]}" -artifact_prefix="$scratch/" \
    -max_total_time="$seconds" -print_final_stats=1 "$scratch/$target" 2>&1)
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
  # Edges covered, from libFuzzer's last status line.
  cov=$({ grep -oE 'cov: [0-9]+' <<<"$out" || echo 'cov: -'; } | tail -n 1 | cut -d' ' -f2)
  read -r _ user sys < <(grep -E '^cpu ' <<<"$out")
  per_cpu=$(awk -v u="$user" -v s="$sys" -v n="$done_runs" 'BEGIN { printf "%.0f", n / (u + s > 0 ? u + s : 1) }')
  printf '%-18s %10s %10s %14s %8s\n' "$target" "$done_runs" "$rate" "$per_cpu" "$cov"
done

echo
network
