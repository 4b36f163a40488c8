#!/usr/bin/env bash
# First render of the catalogue page and an instrument page in headless
# Chromium on loopback (issue 4: under 1 s). See render_catalogue.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== catalogue page render"
node bench/render_catalogue.mjs
