#!/usr/bin/env bash
# CI smoke run of the libFuzzer targets on the stable toolchain: installs cargo-fuzz (pinned), writes
# the seed corpora from the catalog, builds every target without a sanitizer (the one setting stable
# accepts) and runs each on its seeds for a bounded time. A crash, a timeout or running out of
# memory fails the run; every target runs either way.
#   fuzz/smoke.sh              FUZZ_SECONDS=10 by default, per target; FUZZ_JOBS=2 targets at a time
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-10}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# cargo-fuzz publishes no binaries. An unoptimised build of it takes about a third less CPU (62 s,
# not 94 s), and its speed does not matter: it only drives cargo and the targets.
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  cargo install cargo-fuzz --locked --debug --version "$CARGO_FUZZ_VERSION"
fi
# The release build: in CI the interop step has just made it.
cargo run -q --release -p wsspec -- fuzz-seeds fuzz/corpus

cd fuzz
cargo fuzz build --sanitizer none
# FUZZ_JOBS targets at a time (default 2, one per core of a CI runner), so a new target does not
# lengthen the step by its FUZZ_SECONDS; the binaries are run directly, cargo-fuzz's way (its
# artifact prefix, its dictionary `TARGET.dict` if any), without a cargo lock taken per target.
parallel=${FUZZ_JOBS:-2}
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() {
  local target=$1
  mkdir -p "corpus/$target" "artifacts/$target"
  local dict=()
  if [[ -f "$target.dict" ]]; then dict=("-dict=$target.dict"); fi
  if "$bin/$target" "${dict[@]}" -artifact_prefix="artifacts/$target/" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "corpus/$target" >"$logs/$target" 2>&1; then
    echo ok >"$logs/$target.status"
  fi
}
targets=$(cargo fuzz list)
for target in $targets; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  run "$target" &
done
wait
failed=()
for target in $targets; do
  if [[ -f "$logs/$target.status" ]]; then
    printf '%-18s ok: %s\n' "$target" "$(grep -E '^Done' "$logs/$target")"
  else
    cat "$logs/$target"
    printf '%-18s FAILED (the input is in fuzz/artifacts/%s/)\n' "$target" "$target"
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
