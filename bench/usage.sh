#!/usr/bin/env bash
# Usage benchmarks (issue 6): durable usage recordings/s with 32 clients
# (group commit) against the bare one-commit-per-record ceiling measured in
# the same run, and verifying a hash chain of 1,000,000 records. See usage.mjs.
# Targets: >= 3x the ceiling; verification under 2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== usage records and the ledger"
node bench/usage.mjs
