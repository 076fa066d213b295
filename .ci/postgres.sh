#!/usr/bin/env bash
# Best effort: a throwaway PostgreSQL cluster on loopback for the store's PostgreSQL test.
# Prints the database URL and the cluster's folder on success; prints nothing (and the test skips) if
# it cannot be had. `.ci/postgres.sh stop FOLDER` stops that cluster and removes it (.ci/run does, on exit:
# clusters left running by earlier runs made a later one fail to start, and its test skip).
set -u
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ "${1:-}" = "stop" ]; then
  [ -n "${2:-}" ] && [ -d "$2" ] || exit 0
  su postgres -c "$pg_bin/pg_ctl -D $2/data -m fast stop" >/dev/null 2>&1
  rm -rf "$2"
  exit 0
fi
if [ -z "$pg_bin" ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/dev/null 2>&1 || exit 0
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$pg_bin" ] || exit 0
fi
dir=$(mktemp -d /tmp/doorstep-pg.XXXXXX)
chown postgres "$dir" 2>/dev/null || exit 0
port=$((55000 + RANDOM % 1000))
su postgres -c "$pg_bin/initdb -D $dir/data -A trust -U postgres" >/dev/null 2>&1 || exit 0
su postgres -c "$pg_bin/pg_ctl -D $dir/data -w -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -l $dir/log start" \
  >/dev/null 2>&1 || exit 0
su postgres -c "psql -h 127.0.0.1 -p $port -U postgres -qc 'create database doorstep_test'" >/dev/null 2>&1 || exit 0
echo "postgresql+asyncpg://postgres@127.0.0.1:$port/doorstep_test $dir"
