# cdp.nickname across sessions and through pg_dump:
# - a nickname committed in one session is used by another, already running
#   session (its cache is dropped by relcache invalidation), and a deleted
#   one stops being used;
# - pg_dump keeps the rows users added and not the shipped ones, so a
#   restore gives the same table without duplicates.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nick');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

# ---- invalidation across sessions ----
my $other = $node->background_psql('postgres');
my $q = "SELECT cdp.names_equivalent('Sasha', 'Alexander')";
is($other->query_safe($q), 'f', 'a running session: Sasha is not Alexander yet');

$node->safe_psql('postgres',
	"INSERT INTO cdp.nickname (name, nickname) VALUES ('alexander', 'sasha')");
is($other->query_safe($q), 't',
	'the running session sees the nickname once it is committed elsewhere');

$node->safe_psql('postgres',
	"DELETE FROM cdp.nickname WHERE nickname = 'sasha'");
is($other->query_safe($q), 'f', 'and stops using it once it is deleted');

# an uncommitted change is not seen by others
$node->safe_psql('postgres',
	"INSERT INTO cdp.nickname (name, nickname) VALUES ('alexander', 'sasha')");
$other->query_safe("BEGIN; INSERT INTO cdp.nickname (name, nickname) VALUES ('nicholas', 'klaus')");
is($node->safe_psql('postgres', "SELECT cdp.names_equivalent('Klaus', 'Nicholas')"),
	'f', 'an uncommitted nickname is not used by other sessions');
is($other->query_safe("SELECT cdp.names_equivalent('Klaus', 'Nicholas')"),
	't', 'but by the session that added it, from its next statement');
$other->query_safe('ROLLBACK');
$other->quit;

# ---- pg_dump and restore ----
my $builtin = $node->safe_psql('postgres',
	"SELECT count(*) FROM cdp.nickname WHERE source = 'builtin'");
cmp_ok($builtin, '>', 2000, 'the shipped nicknames are there');

my $dump = "$PostgreSQL::Test::Utils::tmp_check/nick.dump";
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump of a database using pg_cdp');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(
	[ 'pg_restore', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into a new database');

is( $node->safe_psql('restored',
		"SELECT source, count(*) FROM cdp.nickname GROUP BY source ORDER BY source"),
	"builtin|$builtin\nuser|1",
	'the restored table has the shipped rows once and the user row');
is($node->safe_psql('restored', "SELECT cdp.names_equivalent('Sasha', 'Alexander')"),
	't', 'the restored user nickname is used');

$node->stop;
done_testing();
