#!/usr/bin/env bash
# `make bench`: runs every bench/*.sh in name order (or only those named:
# `bash bench/run.sh http search`) and prints their figures. A failing bench is
# reported and the rest still run; the exit status says whether any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
want=("$@")
fail=0
for b in bench/*.sh; do
  name=$(basename "$b" .sh)
  [ "$name" = run ] && continue
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  printf '\n######## bench: %s ########\n' "$name"
  start=$(date +%s)
  bash "$b" || { echo "bench $name FAILED"; fail=1; }
  echo "(bench $name took $(( $(date +%s) - start )) s)"
done
exit $fail
