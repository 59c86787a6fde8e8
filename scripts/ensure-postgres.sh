#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers for the tests: GRIDGOV_TEST_DATABASE_URL if set,
# otherwise the local server on 127.0.0.1:5432, started with pg_ctlcluster when it is down.
set -euo pipefail

if [ -n "${GRIDGOV_TEST_DATABASE_URL:-}" ]; then
  exit 0
fi

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  cat >&2 <<'MSG'
PostgreSQL is not installed and GRIDGOV_TEST_DATABASE_URL is not set.
The tests need a real PostgreSQL server. Either install it:
    sudo apt-get install postgresql-15
or point the tests at one:
    export GRIDGOV_TEST_DATABASE_URL=postgresql+asyncpg://user@host:5432/postgres
MSG
  exit 1
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "Starting PostgreSQL $version ..." >&2
pg_ctlcluster --skip-systemctl-redirect "$version" main start
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 1
done
echo "PostgreSQL $version did not come up on 127.0.0.1:5432" >&2
exit 1
