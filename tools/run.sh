#!/usr/bin/env bash
# `make run`: create the demo database on first run, then serve on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${YIQI_DB:-var/yiqi.db}
LISTEN=${YIQI_LISTEN:-127.0.0.1:8080}
mkdir -p "$(dirname "$DB")"
if [ ! -f "$DB" ]; then
  echo "First run: building the demo world in $DB (takes a few seconds)..."
  build/yiqi demo --db "$DB" | tee "$DB.logins.txt"
else
  echo "Using the existing database $DB (delete it to rebuild the demo). Demo logins:"
  cat "$DB.logins.txt" 2>/dev/null || true
fi
echo
echo "Yiqi is starting on http://$LISTEN  (Ctrl-C stops it)"
exec build/yiqi serve --db "$DB" --listen "$LISTEN" --web web/dist
