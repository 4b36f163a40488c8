#!/usr/bin/env bash
# Installs, idempotently, every Debian and npm package that Yiqi's build, run
# and tests need, on Debian 12. Run as root or with sudo available.
#   deploy/install-deps.sh          install what is missing
#   deploy/install-deps.sh --check  exit 0 when nothing is missing, 1 otherwise
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, libraries (libuv, SQLite, cJSON, libsodium, OpenSSL libcrypto, libxlsxwriter, mimalloc),
# llhttp's C sources (node-llhttp), cmocka. Tests: Node.js and npm, Chromium
# for browser tests, clang for ASan/UBSan and libFuzzer, Python readers for the
# iCalendar and XLSX outputs, nginx and systemd for the deployment checks, wrk
# for benchmarks, sqlite3 for inspecting databases.
DEBS=(
  build-essential pkg-config clang clang-format
  libuv1-dev libsqlite3-dev sqlite3 libcjson-dev libsodium-dev libssl-dev libxlsxwriter-dev libmimalloc-dev libcmocka-dev
  node-llhttp nodejs
  chromium fonts-noto-cjk
  python3-icalendar python3-openpyxl
  nginx systemd openssl curl wrk
)

missing_debs() {
  local m=()
  for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || m+=("$p")
  done
  echo "${m[@]:-}"
}

npm_ok() {
  [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] 2>/dev/null
}

if [ "${1:-}" = "--check" ]; then
  [ -z "$(missing_debs)" ] && command -v npm >/dev/null && npm_ok && exit 0
  exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO=sudo
fi

m=$(missing_debs)
if [ -n "$m" ]; then
  echo "install-deps: installing Debian packages: $m"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $m
fi

if ! command -v npm >/dev/null; then
  # Debian's nodejs ships npm separately; other builds of nodejs include it.
  $SUDO apt-get install -y -qq --no-install-recommends npm
fi

if ! npm_ok; then
  echo "install-deps: installing npm packages (package-lock.json)"
  # npm ci refuses a lock that names an optional, platform-only package the
  # registry does not serve (vite lists one for Windows); npm install with the
  # same lock installs the same versions without rewriting it.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
    npm install --no-save --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
echo "install-deps: all dependencies present"
