#!/usr/bin/env bash
# Accounts benchmark (issue 3): what Argon2id sign-ins cost, and that they run off
# the event loop: sign-in latency alone and 32 at once, and GET /api/v1/me latency
# (p50/p99) while those sign-ins hash on the thread pool. See accounts.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== accounts: sign-in and password hashing"
node bench/accounts.mjs
