#!/usr/bin/env bash
# Catalogue import and export (hostile-client findings h1 §1 and §3): import
# times up to the 5,000-row limit and for the probe's 80,000-row file, and the
# exports one at a time and 40 in parallel, cold and warm, each with the worst
# /healthz latency meanwhile. See bench/catalogue_io.mjs. YIQI_BIN picks the
# binary (default build/yiqi).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== catalogue import and export"
node bench/catalogue_io.mjs
