# Sourceable shell functions that start and stop a throwaway PostgreSQL 15
# server for the demo and the benchmarks: initdb in a temporary directory,
# run as the unprivileged "postgres" user when called as root, listening on
# a free loopback port and a Unix socket in that directory.
#
#   . test/tmpserver.sh
#   tmpserver_start [extra postgresql.conf lines...]   sets PGHOST PGPORT PGUSER PGDATABASE
#   tmpserver_psql ...                                  psql as the server's user
#   tmpserver_stop                                      stops it and removes the directory

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$PG_CONFIG" ] || PG_CONFIG=pg_config
TMPSERVER_BINDIR=$("$PG_CONFIG" --bindir)

tmpserver_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

tmpserver_start() {
	TMPSERVER_DIR=$(mktemp -d /tmp/pg_cdp_server.XXXXXX)
	chmod 755 "$TMPSERVER_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$TMPSERVER_DIR"
	PGPORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	tmpserver_as_owner "$TMPSERVER_BINDIR/initdb" -D "$TMPSERVER_DIR/data" -U postgres \
		-A trust -E UTF8 --locale=C.UTF-8 >"$TMPSERVER_DIR/initdb.log" 2>&1 || {
		cat "$TMPSERVER_DIR/initdb.log" >&2; return 1; }
	{
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $PGPORT"
		echo "unix_socket_directories = '$TMPSERVER_DIR'"
		echo "timezone = 'UTC'"
		for line in "$@"; do echo "$line"; done
	} | tmpserver_as_owner sh -c "cat >> '$TMPSERVER_DIR/data/postgresql.conf'"
	if [ -n "${TMPSERVER_WRAPPER:-}" ]; then
		# e.g. valgrind: run postgres itself under the wrapper and wait for it
		tmpserver_as_owner sh -c "$TMPSERVER_WRAPPER '$TMPSERVER_BINDIR/postgres' -D '$TMPSERVER_DIR/data' \
			> '$TMPSERVER_DIR/server.log' 2>&1 &"
		for _ in $(seq 1 300); do
			"$TMPSERVER_BINDIR/pg_isready" -q -h "$TMPSERVER_DIR" -p "$PGPORT" && break
			sleep 1
		done
		"$TMPSERVER_BINDIR/pg_isready" -q -h "$TMPSERVER_DIR" -p "$PGPORT" || {
			cat "$TMPSERVER_DIR/server.log" >&2; return 1; }
	else
		tmpserver_as_owner "$TMPSERVER_BINDIR/pg_ctl" -D "$TMPSERVER_DIR/data" -w \
			-l "$TMPSERVER_DIR/server.log" start >/dev/null || {
			cat "$TMPSERVER_DIR/server.log" >&2; return 1; }
	fi
	export PGHOST="$TMPSERVER_DIR" PGPORT PGUSER=postgres PGDATABASE=postgres
}

tmpserver_psql() {
	"$TMPSERVER_BINDIR/psql" -X -v ON_ERROR_STOP=1 "$@"
}

tmpserver_stop() {
	[ -n "${TMPSERVER_DIR:-}" ] || return 0
	if [ -d "$TMPSERVER_DIR/data" ]; then
		tmpserver_as_owner "$TMPSERVER_BINDIR/pg_ctl" -D "$TMPSERVER_DIR/data" -m fast \
			-t 300 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$TMPSERVER_DIR"
	TMPSERVER_DIR=
}
