#!/usr/bin/env bash
# Nightly logical backup of the zjtx PostgreSQL database: one consistent snapshot (pg_dump), compressed custom
# format (restore with pg_restore, also table by table), kept KEEP_DAYS days. docs/deployment.md
#   ZJTX_DB=zjtx BACKUP_DIR=/var/backups/zjtx KEEP_DAYS=30 deploy/backup/backup-postgres.sh
# Connection: the usual libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass).
set -euo pipefail
DB="${ZJTX_DB:-zjtx}"
DIR="${BACKUP_DIR:-/var/backups/zjtx}"
KEEP="${KEEP_DAYS:-30}"
mkdir -p "$DIR"
stamp="$(date +%Y%m%d-%H%M%S)"
target="$DIR/$DB-$stamp.dump"
# Written under a temporary name first: a file with the final name is always a complete dump.
pg_dump --format=custom --compress=6 --no-owner --file="$target.partial" "$DB"
mv "$target.partial" "$target"
# A dump that pg_restore cannot list is not a backup.
pg_restore --list "$target" > /dev/null
find "$DIR" -name "$DB-*.dump" -mtime +"$KEEP" -delete
echo "backup written: $target ($(du -h "$target" | cut -f1))"
