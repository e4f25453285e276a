#!/usr/bin/env bash
# Backup of an embedded (SQLite) zjtx database while the dashboard and scheduler keep running: SQLite's online
# backup (.backup) copies a consistent snapshot even in WAL mode; copying the .db file alone would not (recent
# changes may still be in the -wal file). docs/deployment.md
#   deploy/backup/backup-sqlite.sh data/zjtx.db /var/backups/zjtx 30
set -euo pipefail
DB="${1:-data/zjtx.db}"
DIR="${2:-/var/backups/zjtx}"
KEEP="${3:-30}"
mkdir -p "$DIR"
target="$DIR/$(basename "$DB" .db)-$(date +%Y%m%d-%H%M%S).db"
sqlite3 "$DB" ".timeout 30000" ".backup '$target.partial'"
# Check the copy before it counts as a backup.
[ "$(sqlite3 "$target.partial" 'PRAGMA integrity_check;')" = "ok" ] || { echo "integrity check failed" >&2; exit 1; }
mv "$target.partial" "$target"
gzip -f "$target"
find "$DIR" -name "$(basename "$DB" .db)-*.db.gz" -mtime +"$KEEP" -delete
echo "backup written: $target.gz"
