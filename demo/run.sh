#!/bin/sh
# make demo: start a throwaway PostgreSQL 15 server, run demo/demo.sql on the
# bundled sample of messy customer records, print the result, clean up.
set -eu
cd "$(dirname "$0")/.."
. test/tmpserver.sh
trap tmpserver_stop EXIT
trap 'exit 130' INT TERM
tmpserver_start "shared_preload_libraries = 'pg_cdp'"
echo "pg_cdp demo: throwaway server on port $PGPORT"
tmpserver_psql -q -f demo/demo.sql
echo
echo "pg_cdp demo: done."
