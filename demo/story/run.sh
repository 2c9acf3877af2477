#!/bin/sh
# demo/story/run.sh: steps 1-4 of the retailer's story (issue 8) on a
# throwaway PostgreSQL 15 server: generate the data (tools/generate_story.py),
# load the loyalty programme into a second database, then run
# 01_setup.sql ... 04_segment.sql in the main one and print their report.
# Exits non-zero when any step fails.  Needs pg_cdp installed.
#
# Environment: STORY_CUSTOMERS (default 5000), STORY_SEED (default 1),
# STORY_KEEP=DIR (generate into DIR and keep the files there).
set -eu
cd "$(dirname "$0")/../.."
. test/tmpserver.sh

customers=${STORY_CUSTOMERS:-5000}
seed=${STORY_SEED:-1}
if [ -n "${STORY_KEEP:-}" ]; then
	datadir=$(cd "$STORY_KEEP" && pwd)
else
	datadir=$(mktemp -d /tmp/pg_cdp_story.XXXXXX)
fi
cleanup() {
	tmpserver_stop
	[ -n "${STORY_KEEP:-}" ] || rm -rf "$datadir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
/usr/bin/python3 tools/generate_story.py --out "$datadir" --customers "$customers" --seed "$seed"
chmod -R a+rX "$datadir"
chmod a+x "$datadir"

tmpserver_start "shared_preload_libraries = 'pg_cdp'"
echo "pg_cdp story: throwaway server on port $PGPORT"
tmpserver_psql -q -c 'CREATE DATABASE loyalty' -c 'CREATE DATABASE shop'
tmpserver_psql -q -d loyalty -f "$datadir/loyalty.sql" >/dev/null
for step in 01_setup 02_unify 03_activities 04_segment; do
	tmpserver_psql -d shop -v datadir="$datadir" -v loyalty_host="$PGHOST" \
		-v loyalty_port="$PGPORT" -v loyalty_db=loyalty -v loyalty_user="$PGUSER" \
		-f "demo/story/$step.sql"
done
t1=$(date +%s)
echo
echo "pg_cdp story: steps 1-4 done in $((t1 - t0)) s."
