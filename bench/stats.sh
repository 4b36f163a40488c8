#!/usr/bin/env bash
# Statistics benchmark (issue 8): p50/p99 of every stats endpoint over one year
# of 1,000,000 usage records on 1,500 instruments (target: p99 < 100 ms), and
# the dashboard's first render in headless Chromium (target: < 2 s). The data
# is generated straight into SQLite by bench/stats_gen.sql (a minute or so).
# See stats.mjs; YIQI_BENCH_USAGE, YIQI_BENCH_ROUNDS, YIQI_BENCH_RENDER_RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== statistics"
node bench/stats.mjs
