#!/usr/bin/env bash
# Full logical backup of the Whispr database (seed §10.1): pg_dump's custom
# format (-Fc), compressed, restorable table by table and in parallel with
# infra/restore.sh. Optionally prunes old dumps by the seed's §10.2 retention.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: infra/backup.sh [-d DATABASE_URL] [-o DIR] [--prune]

Writes DIR/whispr_full_<UTC time>.dump with pg_dump -Fc and checks that
pg_restore can read it back.

  -d DATABASE_URL  database to dump (default: $DATABASE_URL)
  -o DIR           where dumps go (default: $WHISPR_BACKUP_DIR, else ./backups)
  --prune          afterwards delete dumps in DIR past the seed's retention:
                   daily ones after 14 days, Sunday ones after 62 days,
                   first-of-month ones after 365 days
  -h, --help       this text

Needs pg_dump/pg_restore of the server's major version or newer. A password
can come from the URL, PGPASSWORD or ~/.pgpass.
Example (a daily cron job or Kubernetes CronJob):
  DATABASE_URL=postgres://whispr@db:5432/whispr infra/backup.sh -o /backups --prune
USAGE
}

die() { echo "backup.sh: $*" >&2; exit 2; }

database_url="${DATABASE_URL:-}"
out_dir="${WHISPR_BACKUP_DIR:-./backups}"
prune=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    -d) [[ $# -ge 2 ]] || die "-d needs a value"; database_url="$2"; shift 2 ;;
    -o) [[ $# -ge 2 ]] || die "-o needs a value"; out_dir="$2"; shift 2 ;;
    --prune) prune=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ -n "$database_url" ]] || { usage >&2; die "no database: pass -d or set DATABASE_URL"; }
command -v pg_dump >/dev/null || die "pg_dump not found (install the PostgreSQL client)"

mkdir -p "$out_dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
final="$out_dir/whispr_full_$stamp.dump"
partial="$final.partial"
# A dump interrupted half-way keeps the .partial name, so it is never taken
# for a complete backup (nor restored, nor counted by --prune).
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --compress=6 --no-password --file="$partial" --dbname="$database_url"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$final"
trap - EXIT
echo "backup.sh: wrote $final ($(du -h "$final" | cut -f1))"

if $prune; then
  now="$(date -u +%s)"
  for file in "$out_dir"/whispr_full_*.dump; do
    [[ -e "$file" ]] || continue
    name="$(basename "$file")"
    ts="${name#whispr_full_}"; ts="${ts%.dump}"                  # 20250510T020000Z
    [[ "$ts" =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T ]] || continue   # not ours: leave it
    day="${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]}"
    taken="$(date -u -d "$day" +%s)"
    age_days=$(( (now - taken) / 86400 ))
    keep_days=14
    [[ "$(date -u -d "$day" +%u)" == 7 ]] && keep_days=62         # weekly: Sundays
    [[ "${BASH_REMATCH[3]}" == 01 ]] && keep_days=365             # monthly: the 1st
    if (( age_days > keep_days )); then
      rm -f -- "$file"
      echo "backup.sh: pruned $name (${age_days} days old, kept ${keep_days})"
    fi
  done
fi
