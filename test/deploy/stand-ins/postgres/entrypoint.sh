#!/bin/sh
# The stand-in postgres image's start: on an empty data folder, a cluster whose superuser is
# POSTGRES_USER with POSTGRES_PASSWORD (password logins over the network), and the database
# POSTGRES_DB; then PostgreSQL itself, as this process, listening on every interface.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
  echo 'postgres stand-in: POSTGRES_PASSWORD is required' >&2
  exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  pg_ctl --wait --silent --options="-c listen_addresses=''" start
  if [ "$POSTGRES_DB" != postgres ]; then createdb --username="$POSTGRES_USER" "$POSTGRES_DB"; fi
  pg_ctl --wait --silent --mode=fast stop
  echo 'postgres stand-in: cluster made'
fi
exec postgres -c listen_addresses='*'
