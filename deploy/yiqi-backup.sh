#!/bin/sh
# Nightly online backup of the Yiqi database, run by yiqi-backup.service.
#   yiqi-backup.sh [CONFIG]     (default /etc/yiqi/yiqi.conf)
# Reads db, backup_dir and backup_keep from the configuration file, writes
# BACKUP_DIR/yiqi-YYYYMMDDTHHMMSSZ.db with `yiqi backup` (SQLite's online
# backup API: safe while the server runs; the copy must pass
# PRAGMA integrity_check), and only then deletes backups older than
# backup_keep days. Exits non-zero, leaving every old backup, if anything fails.
# YIQI_BIN names the yiqi binary (default: yiqi on PATH).
set -eu
CONF=${1:-/etc/yiqi/yiqi.conf}
YIQI_BIN=${YIQI_BIN:-yiqi}

# conf KEY DEFAULT: the value of KEY in $CONF, with the same rules as yiqi's
# parser (# comments, a # after a blank ends the value, "quoted" values).
conf() {
  awk -v key="$1" -v def="$2" '
    BEGIN { found = 0 }
    /^[ \t]*#/ || /^[ \t]*$/ { next }
    {
      eq = index($0, "="); if (eq == 0) next
      k = substr($0, 1, eq - 1); gsub(/^[ \t]+|[ \t]+$/, "", k)
      if (k != key) next
      v = substr($0, eq + 1); sub(/\r$/, "", v); sub(/^[ \t]+/, "", v)
      if (substr(v, 1, 1) == "\"") { v = substr(v, 2); v = substr(v, 1, index(v, "\"") - 1) }
      else { if (substr(v, 1, 1) == "#") v = ""; sub(/[ \t]#.*$/, "", v); sub(/[ \t]+$/, "", v) }
      print v; found = 1; exit
    }
    END { if (!found) print def }' "$CONF"
}

[ -r "$CONF" ] || { echo "yiqi-backup: cannot read $CONF" >&2; exit 1; }
DB=$(conf db "")
DIR=$(conf backup_dir /var/lib/yiqi/backups)
KEEP=$(conf backup_keep 14)
[ -n "$DB" ] || { echo "yiqi-backup: no db in $CONF" >&2; exit 1; }
case "$KEEP" in ''|*[!0-9]*) echo "yiqi-backup: backup_keep must be a number of days" >&2; exit 1 ;; esac
[ "$KEEP" -ge 1 ] || { echo "yiqi-backup: backup_keep must be at least 1" >&2; exit 1; }

mkdir -p "$DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$DIR/yiqi-$STAMP.db"
PART="$OUT.partial"
rm -f "$PART"
# A failed backup leaves no file that looks like a backup.
if ! "$YIQI_BIN" backup --db "$DB" --to "$PART"; then
  rm -f "$PART"
  echo "yiqi-backup: backup of $DB FAILED; old backups kept" >&2
  exit 1
fi
mv "$PART" "$OUT"
echo "yiqi-backup: wrote $OUT ($(wc -c < "$OUT") bytes)"

# Retention: only after a good backup, only our own files, older than KEEP days.
find "$DIR" -maxdepth 1 -type f -name 'yiqi-*.db' -mmin +$((KEEP * 1440)) -print | while read -r old; do
  rm -f -- "$old" && echo "yiqi-backup: removed $old (older than $KEEP days)"
done
find "$DIR" -maxdepth 1 -type f -name 'yiqi-*.db.partial' -mmin +1440 -delete
