#!/usr/bin/env bash
# `make fuzz`: runs each cargo-fuzz target (fuzz/fuzz_targets) for FUZZ_SECS seconds, one
# after the other with one job each, then prints one line per target. Installs cargo-fuzz
# (from crates.io) and a C++ compiler (libfuzzer-sys builds libFuzzer) when missing.
#
# Each run starts from the committed seeds (fuzz/seeds/<target>, replayed by `make test`) plus
# what earlier runs kept (fuzz/corpus/<target>, not committed). A failing input is written to
# fuzz/artifacts/<target>/; once understood and fixed, minimise it (`cargo fuzz tmin`) and
# commit it under fuzz/seeds/<target>/ so that it stays a test. Full logs: fuzz/target/logs/.
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address and friends); RUSTC_BOOTSTRAP=1
# makes the stable compiler accept them, and the address sanitizer works that way on stable
# x86_64 Linux, so no nightly toolchain is needed. (Should a toolchain lack the sanitizer
# runtime, FUZZ_SANITIZER=none still fuzzes, without ASan.)
set -uo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
SECS=${FUZZ_SECS:-60}
SANITIZER=${FUZZ_SANITIZER:-address}
TARGETS=${FUZZ_TARGETS:-$(cd fuzz/fuzz_targets && ls ./*.rs | sed 's|^\./||; s|\.rs$||')}

if ! command -v c++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y g++ >/dev/null || { apt-get update >/dev/null && apt-get install -y g++ >/dev/null; }
  fi
  command -v c++ >/dev/null || { echo "fuzz: a C++ compiler is needed (e.g. apt-get install g++)" >&2; exit 1; }
fi
if ! "$CARGO" fuzz --version >/dev/null 2>&1; then
  "$CARGO" install cargo-fuzz --locked || exit 1
fi

export RUSTC_BOOTSTRAP=1
"$CARGO" fuzz build -s "$SANITIZER" || exit 1
mkdir -p fuzz/target/logs
failed=0
summary=()
for t in $TARGETS; do
  mkdir -p "fuzz/corpus/$t"
  log="fuzz/target/logs/$t.log"
  echo "fuzz: $t for ${SECS}s (log: $log)"
  if "$CARGO" fuzz run -s "$SANITIZER" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    verdict=ok
  else
    verdict="FAILED: input in fuzz/artifacts/$t/, see $log"
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  summary+=("$(printf '%-16s %10s runs %7s/s  corpus %5s  %s' "$t" "${runs:-?}" "${rate:-?}" "$corpus" "$verdict")")
done
printf '%s\n' "fuzz: ${SECS}s per target" "${summary[@]}"
exit $failed
