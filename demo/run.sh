#!/bin/sh
# make demo: the retailer's story on a throwaway PostgreSQL 15 server.
#
# Generates the data (tools/generate_story.py, its reference time = now),
# starts a local SMTP server that keeps what it receives
# (test/smtp_server.py) and a server with the pg_cdp worker preloaded for the
# database "shop", loads the loyalty programme into a database of its own,
# then runs demo/story/01_setup.sql ... 08_clienteling.sql in "shop" and
# prints their report.  At the end it writes demo/out/story.html (the funnel
# and the segment's growth as SVG charts) and the two charts as SVG files.
# Exits non-zero when any step fails.  Needs pg_cdp installed (make demo
# does that first).
#
# Environment:
#   STORY_CUSTOMERS=5000   about how many customers
#   STORY_SEED=1           the generator's seed
#   STORY_WAIT='30 seconds' the journey's wait ("3 days" in real life)
#   STORY_KEEP=DIR         generate into DIR and keep the data and the
#                          e-mails received there
#   STORY_OUT=DIR          where the report goes (default demo/out)
#
# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
set -eu
cd "$(dirname "$0")/.."
srcdir=$(pwd)
. test/tmpserver.sh

customers=${STORY_CUSTOMERS:-5000}
seed=${STORY_SEED:-1}
wait=${STORY_WAIT:-30 seconds}
out=${STORY_OUT:-$srcdir/demo/out}
if [ -n "${STORY_KEEP:-}" ]; then
	mkdir -p "$STORY_KEEP"
	datadir=$(cd "$STORY_KEEP" && pwd)
else
	datadir=$(mktemp -d /tmp/pg_cdp_story.XXXXXX)
fi
smtp_pid=
cleanup() {
	tmpserver_stop
	if [ -n "$smtp_pid" ]; then
		kill "$smtp_pid" 2>/dev/null || true
		wait "$smtp_pid" 2>/dev/null || true
	fi
	[ -n "${STORY_KEEP:-}" ] || rm -rf "$datadir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s)
ref=$(date -u '+%Y-%m-%d %H:%M:00')
echo "pg_cdp demo: the retailer's story ($customers customers, seed $seed, reference time $ref UTC)"
/usr/bin/python3 tools/generate_story.py --out "$datadir" --customers "$customers" \
	--seed "$seed" --ref "$ref"
chmod -R a+rX "$datadir"

# the local SMTP server: every message it accepts becomes a file in mail/
mkdir -p "$datadir/mail"
smtp_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 test/smtp_server.py --port "$smtp_port" --dir "$datadir/mail" >"$datadir/smtp.log" 2>&1 &
smtp_pid=$!
i=0
until grep -q ready "$datadir/smtp.log" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$smtp_pid" 2>/dev/null; then
		cat "$datadir/smtp.log" >&2
		echo "pg_cdp demo: the SMTP server did not start" >&2
		exit 1
	fi
	sleep 0.1
done

tmpserver_start "shared_preload_libraries = 'pg_cdp'" "cdp.database = 'shop'" \
	"cdp.worker_naptime = '200ms'" "log_min_messages = warning"
echo "pg_cdp demo: throwaway server on port $PGPORT (worker for database shop), SMTP server on port $smtp_port"
tmpserver_psql -q -c 'CREATE DATABASE loyalty' -c 'CREATE DATABASE shop'
tmpserver_psql -q -d loyalty -f "$datadir/loyalty.sql" >/dev/null

step() {
	tmpserver_psql -q -d shop -v datadir="$datadir" -v loyalty_host="$PGHOST" \
		-v loyalty_port="$PGPORT" -v loyalty_db=loyalty -v loyalty_user="$PGUSER" \
		-v ref="$ref+00" -v smtp_port="$smtp_port" -v wait="$wait" \
		-f "demo/story/$1.sql"
}
for s in 01_setup 02_unify 03_activities 04_segment; do
	step "$s"
done
# the worker started with the server, before the database "shop" existed;
# the postmaster restarts it every few seconds until it can connect
i=0
until [ "$(tmpserver_psql -d shop -Atc 'SELECT running FROM cdp.worker_status()')" = t ]; do
	i=$((i + 1))
	if [ "$i" -gt 300 ]; then
		echo "pg_cdp demo: the worker did not start in database shop (see the server log)" >&2
		exit 1
	fi
	sleep 0.1
done
step 05_journey
echo
echo "The same e-mail as the SMTP server received it:"
/usr/bin/python3 demo/show_mail.py "$datadir/mail"
for s in 06_respond 07_question 08_clienteling; do
	step "$s"
done

# the report: the funnel and the segment's growth as SVG charts
mkdir -p "$out"
tmpserver_psql -d shop -q -c "\\copy (SELECT * FROM cdp.journey_funnel('dwellers_coupon')) TO '$out/funnel.csv' (FORMAT csv, HEADER)"
tmpserver_psql -d shop -q -c "\\copy (SELECT reference_time, entered, exited, members FROM cdp.segment_refresh WHERE segment = 'dwelling_not_buying' ORDER BY reference_time) TO '$out/growth.csv' (FORMAT csv, HEADER)"
/usr/bin/python3 demo/report.py --funnel "$out/funnel.csv" --growth "$out/growth.csv" --out "$out" \
	--title "pg_cdp demo, reference time $ref UTC"
rm -f "$out/funnel.csv" "$out/growth.csv"
echo
echo "pg_cdp demo: the whole story in $(( $(date +%s) - t0 )) s; $(ls "$datadir/mail" | grep -c '^msg-') e-mails reached the SMTP server."
echo "pg_cdp demo: report in $out/story.html (charts: $out/funnel.svg, $out/growth.svg)"
