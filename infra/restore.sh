#!/usr/bin/env bash
# Restores a dump made by infra/backup.sh (seed §10.3, full recovery) into a
# database. Point-in-time recovery from archived WAL is a server-level
# procedure, described in infra/README.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: infra/restore.sh [--clean] [-j JOBS] DUMP_FILE TARGET_DATABASE_URL

Restores DUMP_FILE (pg_dump -Fc) into the database at TARGET_DATABASE_URL.

  --clean   drop the dump's objects in the target before recreating them
            (restoring over an existing Whispr database); without it the
            target must be empty, and the script refuses otherwise
  -j JOBS   parallel restore jobs (default 2)
  -h, --help

The target database must exist, e.g.
  createdb -h db -U postgres whispr_restored
  infra/restore.sh /backups/whispr_full_20250510T020000Z.dump postgres://postgres@db:5432/whispr_restored
then point DATABASE_URL at it. Stop the nodes (or point them elsewhere) while
restoring over a live database with --clean. Objects are restored without
their original owner (--no-owner), owned by the restoring role; re-run
infra/postgres/roles.sql afterwards to grant the service role.
USAGE
}

die() { echo "restore.sh: $*" >&2; exit 2; }

clean=false
jobs=2
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clean) clean=true; shift ;;
    -j) [[ $# -ge 2 ]] || die "-j needs a value"; jobs="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[[ ${#positional[@]} -eq 2 ]] || { usage >&2; die "expected DUMP_FILE and TARGET_DATABASE_URL"; }
dump="${positional[0]}"
target="${positional[1]}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "-j must be a positive integer, got '$jobs'"
[[ -f "$dump" ]] || die "no such dump file: $dump"
command -v pg_restore >/dev/null || die "pg_restore not found (install the PostgreSQL client)"
pg_restore --list "$dump" >/dev/null || die "$dump is not a readable pg_dump custom-format file"

if ! $clean; then
  tables="$(psql --no-psqlrc --no-password --tuples-only --no-align --dbname="$target" \
    --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
  [[ "$tables" == 0 ]] || die "target already has $tables tables in schema public; use --clean to restore over them"
fi

args=(--no-owner --no-password --exit-on-error --jobs="$jobs" --dbname="$target")
$clean && args+=(--clean --if-exists)
# --exit-on-error and --jobs together: pg_restore still stops at the first
# failed item, so a partly failed restore is never reported as a success.
pg_restore "${args[@]}" "$dump"
echo "restore.sh: restored $dump"
