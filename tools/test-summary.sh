#!/bin/sh
# The end of `make test`: every test that was skipped because something it needs is missing
# here (tests/common skip(); under CI=true those tests fail instead), per run, with counts.
# Arguments: the skip files of the runs (SUPERVISOR_TEST_SKIPS), named after the run.
total=0
for f in "$@"; do
  [ -s "$f" ] || continue
  n=$(wc -l < "$f")
  total=$((total + n))
  echo "make test: $n test(s) SKIPPED in the $(basename "$f" .txt) run:"
  cat "$f"
done
if [ "$total" -eq 0 ]; then
  echo "make test: no test skipped"
else
  echo "make test: $total SKIPPED in all (install what they name; CI=true makes them fail)"
fi
