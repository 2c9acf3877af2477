# cdp.unify() seen from other sessions, on a server without
# shared_preload_libraries (so the progress slot is allocated lazily):
# - a run in progress shows its phase in cdp.unify_progress() elsewhere;
# - pg_cancel_backend stops it and the previous result stays;
# - a second run waits for the first (lock_timeout shows it waits), or fails
#   at once with nowait => true (SQLSTATE 55P03);
# - readers see the old customers until the run commits;
# - pg_dump keeps the configuration and ids, and after a restore the first
#   run is a full one that gives every record its old customer id.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('unify');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_cdp;
	-- 3,000 people, each with a web and a store record sharing an e-mail
	CREATE TABLE web AS
	  SELECT i AS id, 'person' || i || '@mail.test.org' AS email,
	         'First' || i AS first_name, 'Last' || (i % 300) AS last_name
	    FROM generate_series(1, 3000) i;
	ALTER TABLE web ADD PRIMARY KEY (id);
	CREATE TABLE store AS
	  SELECT 'S' || i AS id, upper('person' || i || '@MAIL.test.org') AS email
	    FROM generate_series(1, 3000) i;
	ALTER TABLE store ADD PRIMARY KEY (id);
	-- a view over store that takes its time, so a run can be watched
	CREATE TABLE delay (seconds float8);
	INSERT INTO delay VALUES (0);
	-- (cdp functions run with search_path = pg_catalog, pg_temp: functions
	-- that source views call must qualify names or set their own path)
	CREATE FUNCTION take_time() RETURNS float8 LANGUAGE sql VOLATILE
	  SET search_path = public
	  AS 'SELECT pg_sleep(seconds) FROM delay; SELECT seconds FROM delay';
	CREATE VIEW slow_store AS SELECT s.* FROM store s, (SELECT take_time()) t;
	SELECT cdp.add_source('web', 'web', 'id',
	  '{"email": "email", "first_name": "first_name", "last_name": "last_name"}');
	SELECT cdp.add_source('store', 'slow_store', 'id', '{"email": "email"}');
	SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
});
$node->safe_psql('postgres', 'CALL cdp.unify()');
my $snapshot = q{SELECT count(*) || '/' || count(DISTINCT customer_id) || '/' || sum(customer_id)
                   FROM cdp.customer_source};
my $first = $node->safe_psql('postgres', $snapshot);
is($first, '6000/3000/' . (3000 * 3001),
	'first run: 6000 records, 3000 customers with ids 1..3000 (two records each)');

# ---- progress and cancel ----
$node->safe_psql('postgres', 'UPDATE delay SET seconds = 60');
$node->safe_psql('postgres',
	"UPDATE web SET email = 'changed' || id || '\@mail.test.org' WHERE id <= 10");
my $runner = $node->background_psql('postgres', on_error_stop => 0);
$runner->query_until(qr/started/, "\\echo started\nCALL cdp.unify();\n");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM cdp.unify_progress() WHERE phase = 'read' AND total = 2"),
	'another session sees the run reading its sources');
my ($pid, $run_id) = split /\|/,
  $node->safe_psql('postgres', 'SELECT pid, run_id FROM cdp.unify_progress()');
ok($pid > 0 && $run_id > 1, "the progress row names the backend ($pid) and the run ($run_id)");
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"),
	't', 'the run is cancelled');
my ($out, $err) = $runner->query('SELECT 1');
like($runner->{stderr}, qr/canceling statement due to user request/,
	'the cancelled CALL reports the cancel');
$runner->{stderr} = '';
is($node->safe_psql('postgres', 'SELECT count(*) FROM cdp.unify_progress()'),
	'0', 'no progress is shown once the run is gone');
is($node->safe_psql('postgres', $snapshot),
	$first, 'the previous result is intact after the cancel');
is($node->safe_psql('postgres', 'SELECT count(*) FROM cdp.unify_run'),
	'1', 'the cancelled run left no row in cdp.unify_run');

# ---- one run at a time; readers see the old result until commit ----
$node->safe_psql('postgres', 'UPDATE delay SET seconds = 0');
# web 1..10 got new e-mails: their store records split off as new customers
$runner->query_safe('BEGIN');
$runner->query_safe('CALL cdp.unify()');
is($runner->query_safe('SELECT count(DISTINCT customer_id) FROM cdp.customer_source'),
	'3010', 'inside the running transaction the split is visible');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT customer_id) FROM cdp.customer_source'),
	'3000', 'other sessions still read the old customers');

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CALL cdp.unify(nowait => true)');
isnt($ret, 0, 'a second run with nowait fails at once');
like($stderr, qr/another cdp\.unify\(\) is running/, 'with a clear message');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nCALL cdp.unify(nowait => true)");
like($stderr, qr/55P03/, 'and SQLSTATE 55P03');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET lock_timeout = '300ms'; CALL cdp.unify()");
like($stderr, qr/lock timeout/, 'without nowait the second run waits for the first');

$runner->query_safe('COMMIT');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT customer_id) FROM cdp.customer_source'),
	'3010', 'after the commit every session reads the new customers');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM cdp.customer_id_history WHERE reason = 'split'"),
	'10', 'ten ids recorded as split');
$node->safe_psql('postgres', 'CALL cdp.unify()');
is($node->safe_psql('postgres', 'SELECT mode FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1'),
	'incremental', 'a run after the committed one is incremental');
$runner->quit;

# ---- pg_dump / restore ----
my $before = $node->safe_psql('postgres',
	'SELECT string_agg(source || source_key || customer_id, \',\' ORDER BY source, source_key) FROM cdp.customer_source');
my $dump = $node->basedir . '/unify.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump of a database with unified customers');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into a new database');
is($node->safe_psql('restored', 'SELECT count(*) FROM cdp.source') . '/'
	  . $node->safe_psql('restored', 'SELECT count(*) FROM cdp.match_rule'),
	'2/1', 'sources and rules were restored');
$node->safe_psql('restored', 'CALL cdp.unify()');
is($node->safe_psql('restored', 'SELECT mode FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1'),
	'full', 'the first run after a restore is a full one');
is($node->safe_psql('restored',
		'SELECT string_agg(source || source_key || customer_id, \',\' ORDER BY source, source_key) FROM cdp.customer_source'),
	$before, 'and every record keeps its customer id');
is($node->safe_psql('restored', 'SELECT count(*) FROM cdp.customer'),
	'3010', 'cdp.customer is rebuilt');

$node->stop;
done_testing();
