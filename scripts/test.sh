#!/usr/bin/env bash
# Runs Cohort's tests with node's test runner. `scripts/test.sh` runs everything;
# `scripts/test.sh unit` only the unit tests; `scripts/test.sh interop` only the tests that start a broker.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
case "$which" in
  unit) dirs=(test/unit) ;;
  interop) dirs=(test/integration test/interop) ;;
  all) dirs=(test/unit test/integration test/interop) ;;
  *) echo "usage: scripts/test.sh [unit|interop|all]" >&2; exit 2 ;;
esac
if [ "$which" != unit ]; then
  bash scripts/check-peers.sh
fi
npm run build --silent
mapfile -t files < <(find "${dirs[@]}" -name '*.test.ts' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files under ${dirs[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec "${files[@]}"
