#!/usr/bin/env bash
# `make test`: every test, in order of speed. Exits non-zero if any fails.
#  0. the tree is clang-formatted
#  1. C unit tests (cmocka)   2. OpenAPI lint and fragments up to date
#  3. HTTP integration tests  4. deployment tests  5. browser tests
#  6. the unit and HTTP suites again under ASan+UBSan
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
section() { printf '\n===== %s =====\n' "$*"; }
run() { "$@" || { echo "FAILED: $*"; fail=1; }; }

section "Format (clang-format)"
run make --no-print-directory format-check

section "C unit tests (cmocka)"
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  run "$t"
done

section "OpenAPI contract"
run node proto/build.mjs --check
run npx --no-install redocly lint --format=stylish proto/openapi.yaml

section "HTTP integration tests (node --test)"
run node --test --test-concurrency=2 tests/http/

if ls tests/deploy/*.test.mjs >/dev/null 2>&1; then
  section "Deployment tests"
  run node --test --test-concurrency=1 tests/deploy/
fi

if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  section "Browser tests (headless Chromium)"
  run node --test --test-concurrency=1 tests/browser/
fi

section "Sanitizers: unit and HTTP tests under ASan+UBSan"
run make --no-print-directory test-asan

if [ "$fail" != 0 ]; then
  echo; echo "make test: FAILED"; exit 1
fi
echo; echo "make test: all suites passed"
