#!/usr/bin/env bash
# Catalogue import (hostile-client findings h1 §1): import times up to the
# 5,000-row limit and for the probe's 80,000-row file, each with the worst
# /healthz latency meanwhile. See bench/catalogue_io.mjs. YIQI_BIN picks the
# binary (default build/yiqi).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== catalogue import"
node bench/catalogue_io.mjs
