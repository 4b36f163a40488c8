#!/bin/sh
# Yiqi instrument agent: records who used this instrument PC, and when, as
# usage records (POST /api/v1/usage) with an API token of scope usage:write.
#
#   yiqi-agent.sh login  USER   at log-in: remembers the start
#   yiqi-agent.sh logout USER   at log-out: records [start, now) for USER
#   yiqi-agent.sh pam           from pam_exec: login/logout by $PAM_TYPE for $PAM_USER
#   yiqi-agent.sh retry         sends records that could not be sent before
#
# Configuration: a shell file (default /etc/yiqi-agent.conf, or $YIQI_AGENT_CONF):
#   YIQI_URL=https://yiqi.example.org     the server
#   YIQI_TOKEN_FILE=/etc/yiqi-agent.token  the token alone, mode 600
#   YIQI_INSTRUMENT_ID=12                  this PC's instrument
#   YIQI_USERS=/etc/yiqi-agent.users       "pc-login yiqi-user-id" per line
#   YIQI_STATE_DIR=/var/lib/yiqi-agent     open sessions and the outbox
#   YIQI_MIN_SECONDS=60                    shorter sessions are not recorded
#   YIQI_SERVICE_MODE=self_operated        or assisted, sample, remote
#
# The token is the usage:write token of an operator of the instrument's
# institution (account page, "API tokens"); it can record usage and nothing
# else. It is passed to curl on standard input, never on the command line.
# The server prices the record, draws on the payer's voucher and appends it
# to the ledger; a 409 (the use was already recorded, e.g. checked out at the
# desk) counts as done. When the server cannot be reached the record waits in
# STATE_DIR/outbox and is sent by the next login, logout or retry.
#
# Exit status: 0 done (or queued for later), 1 refused by the server (the
# record stays in the outbox; see the log), 2 usage or configuration error.
set -u
CONF=${YIQI_AGENT_CONF:-/etc/yiqi-agent.conf}
YIQI_MIN_SECONDS=60
YIQI_SERVICE_MODE=self_operated
YIQI_STATE_DIR=/var/lib/yiqi-agent
# shellcheck source=/dev/null
if [ -r "$CONF" ]; then . "$CONF"; fi

log() {
  if command -v logger >/dev/null 2>&1; then logger -t yiqi-agent -- "$*"; fi
  echo "yiqi-agent: $*" >&2
}
die() { log "$*"; exit 2; }

for v in YIQI_URL YIQI_TOKEN_FILE YIQI_INSTRUMENT_ID YIQI_USERS; do
  eval "[ -n \"\${$v:-}\" ]" || die "$v is not set (in $CONF)"
done
[ -r "$YIQI_TOKEN_FILE" ] || die "cannot read the token file $YIQI_TOKEN_FILE"
mkdir -p "$YIQI_STATE_DIR/outbox" || die "cannot create $YIQI_STATE_DIR"
umask 077

# RFC 3339 in UTC (the server answers in +08:00; it accepts any offset).
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ; }

# The Yiqi user id of a PC login, from the users file.
user_id() {
  awk -v u="$1" '$1 == u && $2 ~ /^[0-9]+$/ { print $2; exit }' "$YIQI_USERS"
}

# send FILE: POSTs one queued record; removes it when the server has it.
# Returns 0 sent (or already there), 1 refused, 3 not reachable.
send() {
  resp="$1.resp"
  code=$(printf 'header = "Authorization: Bearer %s"\n' "$(tr -d ' \r\n' < "$YIQI_TOKEN_FILE")" |
    curl -sS -K - --max-time 20 -o "$resp" -w '%{http_code}' -X POST \
      -H 'Content-Type: application/json' --data-binary "@$1" "$YIQI_URL/api/v1/usage") || code=000
  case "$code" in
    201) log "recorded $(basename "$1" .json): $(sed -n 's/.*"id":\([0-9]*\).*"fee_fen":\([-0-9]*\).*/record \1, fee \2 fen/p' "$resp")"
         rm -f "$1" "$resp"; return 0 ;;
    409) log "already recorded $(basename "$1" .json): $(cat "$resp")"; rm -f "$1" "$resp"; return 0 ;;
    000|5*) log "server not reachable ($code); $(basename "$1" .json) stays in the outbox"; rm -f "$resp"; return 3 ;;
    *)   log "refused ($code) $(basename "$1" .json): $(cat "$resp")"; rm -f "$resp"; return 1 ;;
  esac
}

retry() {
  status=0
  for f in "$YIQI_STATE_DIR"/outbox/*.json; do
    [ -e "$f" ] || continue
    send "$f"
    case $? in 1) status=1 ;; 3) return 0 ;; esac
  done
  return $status
}

login() {
  printf '%s\n' "$(date +%s)" > "$YIQI_STATE_DIR/session-$1"
  log "session of $1 started"
  retry || true
}

logout() {
  state="$YIQI_STATE_DIR/session-$1"
  [ -r "$state" ] || { log "no open session for $1"; return 0; }
  start=$(cat "$state"); end=$(date +%s)
  rm -f "$state"
  [ $((end - start)) -ge "$YIQI_MIN_SECONDS" ] || { log "session of $1 too short to record"; return 0; }
  id=$(user_id "$1")
  [ -n "$id" ] || { log "$1 is not in $YIQI_USERS; session not recorded"; return 1; }
  f="$YIQI_STATE_DIR/outbox/$start-$1.json"
  printf '{"instrument_id":%s,"user_id":%s,"start":"%s","end":"%s","service_mode":"%s"}\n' \
    "$YIQI_INSTRUMENT_ID" "$id" "$(rfc3339 "$start")" "$(rfc3339 "$end")" "$YIQI_SERVICE_MODE" > "$f"
  retry
}

case "${1:-}" in
  login)  [ -n "${2:-}" ] || die "usage: yiqi-agent.sh login USER"; login "$2" ;;
  logout) [ -n "${2:-}" ] || die "usage: yiqi-agent.sh logout USER"; logout "$2" ;;
  pam)    case "${PAM_TYPE:-}" in
            open_session) login "${PAM_USER:?}" ;;
            close_session) logout "${PAM_USER:?}" ;;
            *) exit 0 ;;
          esac ;;
  retry)  retry ;;
  *)      die "usage: yiqi-agent.sh login USER | logout USER | pam | retry" ;;
esac
