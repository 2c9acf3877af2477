# Segment refreshes seen from other sessions:
# - while a refresh has not committed, readers of the segment's view and of
#   cdp.segment_members see the old members, without waiting;
# - a second refresh of the same segment waits for the first (lock_timeout
#   shows it waits), a refresh of another segment does not;
# - after the commit, readers see the new members and the history.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('segments');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_cdp;
	CREATE TABLE people AS
	  SELECT i AS id, 'p' || i || '@mail.test.org' AS email,
	         CASE WHEN i % 4 = 0 THEN 'Lyon' ELSE 'Paris' END AS city
	    FROM generate_series(1, 2000) i;
	ALTER TABLE people ADD PRIMARY KEY (id);
	SELECT cdp.add_source('crm', 'people', 'id', '{"email": "email", "city": "city"}');
});
$node->safe_psql('postgres', 'CALL cdp.unify()');
$node->safe_psql(
	'postgres', q{
	SELECT cdp.create_segment('lyon', $$city = 'Lyon'$$);
	SELECT cdp.create_segment('paris', $$city = 'Paris'$$);
	SELECT * FROM cdp.refresh_segments('2026-07-01 00:00+00');
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM cdp_segment.lyon'),
	'500', 'lyon has its 500 members');

# 100 customers move to Lyon; a refresh starts and does not commit yet
$node->safe_psql('postgres',
	"UPDATE cdp.customer SET city = 'Lyon' WHERE city = 'Paris' AND customer_id <= 150");
my $moved = $node->safe_psql('postgres',
	"SELECT count(*) FROM cdp.customer WHERE city = 'Lyon'") - 500;
ok($moved > 0, "$moved customers moved to Lyon");
my $refresher = $node->background_psql('postgres', on_error_stop => 0);
$refresher->query_until(qr/refreshed/,
	"BEGIN;\nSELECT * FROM cdp.refresh_segment('lyon', '2026-07-02 00:00+00');\n\\echo refreshed\n");

# readers: the old members, at once
my ($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '5s'; SELECT count(*) FROM cdp_segment.lyon");
is($out, '500', 'a reader sees the old members while the refresh is open');
($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '5s'; SELECT count(*) FROM cdp.segment_members('lyon')");
is($out, '500', 'cdp.segment_members too, without waiting');

# a second refresh of the same segment waits; another segment does not
($ret, $out, $err) = $node->psql('postgres',
	"SET lock_timeout = '500ms'; SELECT * FROM cdp.refresh_segment('lyon', '2026-07-02 00:00+00')");
like($err, qr/lock timeout/, 'a second refresh of the same segment waits for the first');
($ret, $out, $err) = $node->psql('postgres',
	"SET lock_timeout = '5s'; SELECT entered FROM cdp.refresh_segment('paris', '2026-07-02 00:00+00')");
is($ret, 0, 'another segment refreshes meanwhile') or diag($err);

$refresher->query_safe('COMMIT');
$refresher->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM cdp_segment.lyon'),
	500 + $moved, 'after the commit, readers see the new members');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM cdp.segment_member WHERE segment = 'lyon' AND entered_at = '2026-07-02 00:00+00'"),
	$moved,
	'the customers who moved entered at the reference time of the refresh');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM cdp.segment_member WHERE segment = 'paris' AND exited_at = '2026-07-02 00:00+00'"),
	$moved,
	'and left paris at the same time');

$node->stop;
done_testing();
