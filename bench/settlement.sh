#!/usr/bin/env bash
# Settlement benchmark (issue 7): building the statement of a month of 100,000
# usage records (target < 1 s), plus rebuild, read, exports and close. The
# records are generated straight into SQLite by bench/settlement_gen.mjs. See
# bench/settlement.mjs. YIQI_BIN picks the binary (default build/yiqi).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== settlement"
node bench/settlement.mjs
