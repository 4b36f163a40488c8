#!/usr/bin/env bash
# HTTP engine benchmark (issue 2): wrk on loopback with keep-alive, 1 and 64
# connections, 5 s each, against /healthz and a 1 KiB static file served by
# yiqi, and the same file served by nginx (one worker, access log off) in the
# same run, so the ratio stands on one line. Then resident memory of yiqi idle
# and holding 1,000 idle keep-alive connections (bench/idle_conns.mjs).
# Targets: >= 90% of nginx's requests/s, p99 < 5 ms at 64 connections,
# RSS < 20 MiB idle and < 64 MiB with 1,000 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${YIQI_BIN:-build/yiqi}"
DUR="${BENCH_SECONDS:-5}"
ulimit -n 8192 2>/dev/null || true
tmp=$(mktemp -d /tmp/yiqi-bench-XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$tmp/web"
head -c 1024 /dev/zero | tr '\0' 'y' > "$tmp/web/1k.txt"
chmod -R a+rX "$tmp/web"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# yiqi
"$BIN" serve --db "$tmp/yiqi.db" --listen 127.0.0.1:0 --web "$tmp/web" --quiet 2> "$tmp/yiqi.log" &
ypid=$!; pids+=("$ypid")
for _ in $(seq 100); do grep -q 'listening on' "$tmp/yiqi.log" 2>/dev/null && break; sleep 0.1; done
yport=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/yiqi.log" | head -1)

# nginx: one worker, access log off, non-daemon, on a loopback port
nport=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  types { text/plain txt; }
  server {
    listen 127.0.0.1:$nport;
    root $tmp/web;
  }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
npid=$!; pids+=("$npid")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nport/1k.txt" >/dev/null && break; sleep 0.1; done

# run URL CONNS -> "reqs_per_s p99_ms"
run() {
  local out rps p99
  out=$(wrk -t1 -c"$2" -d"${DUR}s" --latency "$1")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f", v}' <<<"$out")
  echo "$rps $p99"
}

echo "== HTTP engine: wrk -t1, keep-alive, ${DUR}s per run (yiqi pid $ypid, nginx 1 worker)"
for c in 1 64; do
  read -r hr hp < <(run "http://127.0.0.1:$yport/healthz" "$c")
  printf '/healthz      c=%-3s yiqi %9.0f req/s  p99 %6.3f ms\n' "$c" "$hr" "$hp"
  read -r yr yp < <(run "http://127.0.0.1:$yport/1k.txt" "$c")
  read -r nr np < <(run "http://127.0.0.1:$nport/1k.txt" "$c")
  ratio=$(awk -v a="$yr" -v b="$nr" 'BEGIN {printf "%.2f", a / b}')
  printf 'static 1 KiB  c=%-3s yiqi %9.0f req/s  p99 %6.3f ms | nginx %9.0f req/s  p99 %6.3f ms | yiqi/nginx %s\n' \
    "$c" "$yr" "$yp" "$nr" "$np" "$ratio"
done

rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
echo "RSS idle: $(rss "$ypid") MiB"
node bench/idle_conns.mjs "$yport" 1000 "$ypid"
