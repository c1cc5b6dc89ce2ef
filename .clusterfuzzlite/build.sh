#!/bin/bash -eu
# Builds every target in fuzz/fuzz_targets with the engine's sanitizer flags and puts it in $OUT
# with its seed corpus, which wsspec generates from its catalog.
cd "$SRC/wsspec"
cargo fuzz build -O --debug-assertions

# The seed generator is an ordinary build: none of the fuzzing flags.
RUSTFLAGS="" cargo run --release -q -p wsspec -- fuzz-seeds "$WORK/seeds"

for source in fuzz/fuzz_targets/*.rs; do
  target=$(basename "$source" .rs)
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  (cd "$WORK/seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  # OSS-Fuzz's convention: $OUT/TARGET.dict is passed to the fuzzer as its dictionary.
  if [[ -f "fuzz/$target.dict" ]]; then cp "fuzz/$target.dict" "$OUT/"; fi
done
