#!/usr/bin/env bash
# Benchmarks, not tests. Executions per second of each libFuzzer target (stable toolchain, no
# sanitizer, starting from its seed corpus, for SECONDS), then sequences per second of `wsspec fuzz`
# against the embedded tungstenite server for SECONDS.
#   fuzz/bench.sh [SECONDS]        default 30
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "$0"
  exit 0
fi

seconds=${1:-30}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz/bench.sh: SECONDS must be a whole number of seconds, not '$seconds' (--help)" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build -q --release -p wsspec
target/release/wsspec fuzz-seeds fuzz/corpus 2>/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

(cd fuzz && cargo fuzz build --sanitizer none 2>/dev/null)
printf '%-18s %10s %10s\n' target runs exec/s
for target in $(cd fuzz && cargo fuzz list); do
  # A copy of the seeds, so the benchmark's finds do not grow fuzz/corpus (some targets have none).
  mkdir -p "$scratch/$target"
  if [[ -d "fuzz/corpus/$target" ]]; then cp -r "fuzz/corpus/$target/." "$scratch/$target/"; fi
  out=$(cd fuzz && cargo fuzz run --sanitizer none "$target" "$scratch/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1)
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
  printf '%-18s %10s %10s\n' "$target" "$done_runs" "$rate"
done

echo
target/release/wsspec fuzz --duration "$seconds" --seed 1 --out "$scratch/findings" 2>&1 | grep -E 'sequences in'
