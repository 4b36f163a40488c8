#!/usr/bin/env bash
# Booking benchmarks (issue 5): group commit vs the bare one-fsync-per-booking
# ceiling, and availability latency with 1,000,000 bookings. See bookings.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== bookings"
node bench/bookings.mjs
