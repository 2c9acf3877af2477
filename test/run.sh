#!/bin/sh
# Run the whole pg_cdp test suite against the installed extension:
#   1. the pg_regress files named on the command line (sql/*.sql against
#      expected/*.out), in a temporary instance set up like pg_cron's, with
#      pg_cdp in shared_preload_libraries (test/pg_cdp.conf);
#   2. every TAP test test/t/*.pl, each starting its own servers.
# PostgreSQL refuses to run as root, so as root the servers run as the
# unprivileged "postgres" user, in a temporary directory that is removed at
# the end.  Ends with one line: "N passed, N failed".
#
# Environment: PG_CONFIG (default: PostgreSQL 15's), TAP_TESTS (a subset of
# test/t/*.pl), KEEP_TMP=1 (leave the temporary directory for inspection).
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$PG_CONFIG" ] || PG_CONFIG=pg_config
bindir=$("$PG_CONFIG" --bindir)
pgxs=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
pg_regress="$pgxs/src/test/regress/pg_regress"

tmp=$(mktemp -d /tmp/pg_cdp_test.XXXXXX)
cleanup() {
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "test files kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The servers run from a copy of the test inputs that the unprivileged user
# can read wherever the source tree lives.
mkdir -p "$tmp/src"
cp -R "$srcdir/sql" "$srcdir/expected" "$srcdir/test" "$srcdir/README.md" "$srcdir/tools" "$srcdir/data" "$srcdir/demo" "$tmp/src/"
chmod -R a+rX "$tmp"

if [ "$(id -u)" = 0 ]; then
	runner=postgres
	chown -R "$runner" "$tmp"
	as_runner() { runuser -u "$runner" -- "$@"; }
else
	as_runner() { "$@"; }
fi

# A free TCP port on loopback for the pg_regress instance.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

passed=0
failed=0

# ---- pg_regress ----
if [ $# -gt 0 ]; then
	echo "== pg_regress: $*"
	(cd "$tmp/src" && as_runner env PGTZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 "$pg_regress" \
		--bindir="$bindir" \
		--inputdir=. --outputdir="$tmp/regress" \
		--temp-instance="$tmp/regress/instance" \
		--temp-config=test/pg_cdp.conf \
		--port="$port" --dbname=contrib_regression --encoding=UTF8 \
		"$@") > "$tmp/regress.log" 2>&1
	status=$?
	cat "$tmp/regress.log"
	ok=$(grep -Ec '\.\.\. ok' "$tmp/regress.log")
	bad=$(grep -Ec '\.\.\. FAILED|\.\.\. failed' "$tmp/regress.log")
	if [ "$status" != 0 ] && [ "$bad" = 0 ]; then
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" != 0 ]; then
		rm -rf "$srcdir/results"
		cp -R "$tmp/regress/results" "$srcdir/results" 2>/dev/null || true
	fi
	if [ -s "$tmp/regress/regression.diffs" ]; then
		echo "== regression.diffs"
		cat "$tmp/regress/regression.diffs"
		cp "$tmp/regress/regression.diffs" "$srcdir/regression.diffs" 2>/dev/null || true
	else
		rm -f "$srcdir/regression.diffs"
	fi
fi

# ---- TAP ----
tests=${TAP_TESTS:-$(cd "$srcdir" && ls test/t/*.pl 2>/dev/null)}
for t in $tests; do
	name=$(basename "$t" .pl)
	echo "== TAP: $t"
	mkdir -p "$tmp/tap/$name"
	[ "$(id -u)" = 0 ] && chown "$runner" "$tmp/tap" "$tmp/tap/$name"
	(cd "$tmp/src" && as_runner env LANG=C.UTF-8 LC_ALL=C.UTF-8 PATH="$bindir:$PATH" \
		PG_REGRESS="$pg_regress" TESTDIR="$tmp/tap/$name" \
		PG_TEST_PORT_DIR="$tmp/tap" \
		PG_CDP_SRCDIR="$tmp/src" \
		prove -v -I "$pgxs/src/test/perl" -I test/perl "$t") > "$tmp/tap/$name.out" 2>&1
	status=$?
	cat "$tmp/tap/$name.out"
	ok=$(grep -Ec '^ *ok [0-9]' "$tmp/tap/$name.out")
	bad=$(grep -Ec '^ *not ok [0-9]' "$tmp/tap/$name.out")
	if [ "$status" != 0 ] && [ "$bad" = 0 ]; then
		echo "$t exited with status $status"
		bad=1
	fi
	if [ "$bad" != 0 ] && [ -d "$tmp/tap/$name/tmp_check/log" ]; then
		for f in "$tmp/tap/$name"/tmp_check/log/*; do
			echo "== $f"; tail -n 40 "$f"
		done
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
