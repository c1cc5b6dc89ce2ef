#!/usr/bin/env bash
# CI smoke run of the libFuzzer targets on the stable toolchain: installs cargo-fuzz (pinned), writes
# the seed corpora from the catalog, builds every target without a sanitizer (the one setting stable
# accepts) and runs each on its seeds for a bounded time. A crash, a timeout or running out of
# memory fails the run; every target runs either way.
#   fuzz/smoke.sh              FUZZ_SECONDS=10 by default, per target
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-10}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
cargo run -q -p wsspec -- fuzz-seeds fuzz/corpus

cd fuzz
cargo fuzz build --sanitizer none
failed=()
for target in $(cargo fuzz list); do
  log=$(mktemp)
  if cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    printf '%-18s ok: %s\n' "$target" "$(grep -E '^Done' "$log")"
  else
    cat "$log"
    printf '%-18s FAILED (the input is in fuzz/artifacts/%s/)\n' "$target" "$target"
    failed+=("$target")
  fi
  rm -f "$log"
done
if ((${#failed[@]})); then
  echo "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
