#!/usr/bin/env bash
# Catalogue search benchmark (issue 4): latency of Chinese and English queries
# on 20,000 instruments (the demo list, multiplied with varied models), p50 and
# p99 over HTTP on loopback. Target: p99 under 20 ms. See search.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== catalogue search"
node bench/search.mjs
