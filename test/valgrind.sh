#!/bin/sh
# Run the pg_regress suite and a randomised fuzz of every kernel against a
# PostgreSQL server running under valgrind's memcheck, with the installed
# pg_cdp preloaded.  Not part of `make test` (it takes several minutes): run
# it, after `make install`, before resolving a change that adds C code.
#
#   sh test/valgrind.sh [pg_regress test names...]
#
# Fails when valgrind reports any error in any server process; the reports
# are printed.  Needs the Debian package valgrind.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- $(sed -n 's/^REGRESS = //p' "$srcdir/Makefile")
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

. "$srcdir/test/tmpserver.sh"
vgdir=$(mktemp -d /tmp/pg_cdp_valgrind.XXXXXX)
chmod 777 "$vgdir"
cleanup() { tmpserver_stop; rm -rf "$vgdir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Padding bytes of structs written to files and sockets are uninitialised
# by design in PostgreSQL.  The regular-expression cache of the server
# (RE_compile_and_cache) shifts its entries with memmove, which the fortified
# Debian build routes through a checked copy that valgrind reports as an
# overlapping memcpy.  The shared-invalidation ring buffer is written by one
# process and read by another, which valgrind, tracking definedness per
# process, cannot follow: inval.c marks its messages defined for that reason
# (see AddCatcacheInvalidationMessage), but only in builds configured with
# valgrind support, which Debian's is not.  Nothing else is suppressed.
cat > "$vgdir/pg.supp" <<'SUPP'
{
   padding_sendto
   Memcheck:Param
   sendto(msg)
   fun:*
   ...
}
{
   padding_write
   Memcheck:Param
   write(buf)
   fun:*
   ...
}
{
   padding_pwrite
   Memcheck:Param
   pwrite64(buf)
   fun:*
   ...
}
{
   sinval_ring_cond
   Memcheck:Cond
   ...
   fun:ReceiveSharedInvalidMessages
}
{
   sinval_ring_value
   Memcheck:Value8
   ...
   fun:ReceiveSharedInvalidMessages
}
{
   regex_cache_memmove
   Memcheck:Overlap
   fun:__memcpy_chk
   fun:RE_compile_and_cache
   ...
}
SUPP
chmod 644 "$vgdir/pg.supp"

status=0
TMPSERVER_WRAPPER="valgrind ${VALGRIND_EXTRA:-} --quiet --error-limit=no --num-callers=30 --suppressions=$vgdir/pg.supp --log-file=$vgdir/vg.%p.log"
export TMPSERVER_WRAPPER
# JIT is off: loading LLVM under valgrind is slow and trips glibc's loader
tmpserver_start "shared_preload_libraries = 'pg_cdp'" "max_parallel_workers_per_gather = 0" "jit = off" \
	"cdp.database = 'vg_journeys'" "cdp.worker_naptime = 200"
echo "server under valgrind on port $PGPORT"

# The worker under valgrind: a journey scenario in its database, with a
# real SMTP server (test/smtp_server.py), until every e-mail is handled.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	smtp_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$vgdir/mail"
	/usr/bin/python3 "$srcdir/test/smtp_server.py" --port "$smtp_port" --dir "$vgdir/mail" > "$vgdir/smtp.log" 2>&1 &
	smtp_pid=$!
	sleep 1
	tmpserver_psql -q -c "CREATE DATABASE vg_journeys"
	tmpserver_psql -q -d vg_journeys -v smtp_port="$smtp_port" -f "$srcdir/test/valgrind_journeys.sql" >/dev/null
	echo "journey scenario: waiting for the worker (under valgrind) to handle every e-mail"
	i=0
	until [ "$(tmpserver_psql -qAt -d vg_journeys -c "SELECT count(*) FROM cdp.message WHERE kind = 'email' AND state IN ('queued', 'sending')")" = 0 ] &&
		[ "$(tmpserver_psql -qAt -d vg_journeys -c "SELECT count(*) FROM cdp.refresh_run WHERE schedule = 'vg'")" = 2 ]; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { echo "journey scenario: the worker did not finish in 300 s"; status=1; break; }
		sleep 1
	done
	tmpserver_psql -qAt -d vg_journeys -c "SELECT 'journey scenario: ' || string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) AS n FROM cdp.message GROUP BY 1 ORDER BY 1) x"
	kill "$smtp_pid" 2>/dev/null || true
else
	echo "python3-aiosmtpd missing: the worker is not exercised"
fi

# pg_regress against the running server, from a copy readable by anyone
mkdir -p "$vgdir/src" "$vgdir/out"
cp -R "$srcdir/sql" "$srcdir/expected" "$srcdir/test" "$vgdir/src/"
chmod -R a+rwX "$vgdir"
tmpserver_psql -q -c "CREATE DATABASE contrib_regression"
(cd "$vgdir/src" && PGTZ=UTC "$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")/src/test/regress/pg_regress" \
	--bindir="$TMPSERVER_BINDIR" --use-existing --host="$PGHOST" --port="$PGPORT" \
	--inputdir=. --outputdir="$vgdir/out" --dbname=contrib_regression "$@") || status=$?
[ -s "$vgdir/out/regression.diffs" ] && cat "$vgdir/out/regression.diffs"

echo "fuzzing every kernel under valgrind"
tmpserver_psql -q -d contrib_regression -f "$srcdir/test/fuzz.sql" || status=$?

tmpserver_stop
errors=0
for f in "$vgdir"/vg.*.log; do
	if [ -s "$f" ]; then
		echo "== $f"
		cat "$f"
		errors=$((errors + 1))
	fi
done
if [ "$errors" -gt 0 ]; then
	echo "valgrind: reports from $errors processes"
	exit 1
fi
echo "valgrind: no errors"
exit $status
