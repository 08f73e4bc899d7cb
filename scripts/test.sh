#!/usr/bin/env bash
# Runs Cohort's tests with node's test runner. `scripts/test.sh` runs everything;
# `scripts/test.sh unit` only the unit tests; `scripts/test.sh interop` only the real-client tests.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
case "$which" in
  unit) dirs=(test/unit) ;;
  interop) dirs=(test/interop) ;;
  all) dirs=(test/unit test/interop) ;;
  *) echo "usage: scripts/test.sh [unit|interop|all]" >&2; exit 2 ;;
esac
if [ "$which" != unit ]; then
  bash scripts/check-peers.sh
fi
[ -d dist ] || npm run build
mapfile -t files < <(find "${dirs[@]}" -name '*.test.ts' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files under ${dirs[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
