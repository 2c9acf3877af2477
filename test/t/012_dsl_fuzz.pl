# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

# 012_dsl_fuzz.pl
#
# The parser and compiler of the measure language (cdp.parse_expression,
# cdp.compile_measure) on thousands of generated definitions:
# - random character strings (ASCII, punctuation, digits, accented letters,
#   CJK, emoji, control characters; 0 to 300 characters);
# - token soups drawn from the language's own words and operators;
# - measures generated from the grammar with the catalog's names, most of
#   them valid, some with one random edit (a character deleted, inserted or
#   replaced, a token dropped or doubled);
# - deep nesting (parentheses, not, unary minus, calls, long sums) around
#   the limit of 200 levels;
# - a few long inputs (100 KB to 1 MB).
# No input may crash the server, and the only errors allowed are the
# documented ones: 42601 (syntax), 54001 (too deep) and 42883 (a window after
# a call that is not an aggregate) for the parser, plus
# 42703 (unknown activity or column), 42883 (unknown function) and 42804
# (type mismatch) for the compiler.  Every definition that compiles must
# give SQL that runs: it is executed over a small activity table, where only
# arithmetic errors of the data (division by zero, overflow) are allowed.
#
# The inputs come from a fixed seed, printed at the start; set PG_CDP_SEED
# to replay another run.

use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use CdpReference qw(u seed_random);

my $seed = seed_random(20260404);

sub pick { return $_[ int rand @_ ]; }

# ---- random characters ----
my @ranges = (
	[ 0x20, 0x7e ], [ 0x20, 0x7e ], [ 0x20, 0x7e ],    # ASCII, often
	[ 0x30, 0x39 ],  [ 0x27, 0x29 ],                      # digits, ' ( )
	[ 0x01, 0x1f ],                                       # control
	[ 0xc0, 0x17f ],                                      # accented
	[ 0x4e00, 0x4e80 ],                                   # CJK
	[ 0x1f600, 0x1f64f ],                                 # emoji
	[ 0x300, 0x36f ]);                                    # combining

sub random_chars
{
	my ($n) = @_;
	my $s = '';
	for (1 .. $n)
	{
		my ($lo, $hi) = @{ pick(@ranges) };
		$s .= chr($lo + int rand($hi - $lo + 1));
	}
	return $s;
}

# ---- token soups ----
my @tokens = (
	'sum(', 'count(', 'avg(', 'min(', 'max(', 'first(', 'last(', 'top(',
	'argmax(', 'argmin(', 'days_since(', 'coalesce(', 'nullif(', 'abs(',
	'round(', 'least(', 'greatest(', 'median(', ')', '(', ',', 'where',
	'within', 'between', 'and', 'or', 'not', 'in', 'is', 'null', 'like',
	'ilike', 'distinct', 'true', 'false', '=', '<>', '!=', '<', '<=', '>',
	'>=', '+', '-', '*', '/', '%', '.', 'purchase', 'page_view', 'email',
	'.amount', '.category', '.status', '.occurred_at', 'amount', 'category',
	'days', 'weeks', 'hours', 'months', 'years', '3', '0', '1.5', '1e3',
	"'shoes'", "'2026-01-01'", "'2026-13-45'", '"Odd"', '"', "'", 'é',
	'日本', '😀');

sub soup
{
	my $n = 1 + int rand 30;
	return join(pick(' ', ' ', ''), map { pick(@tokens) } 1 .. $n);
}

# ---- measures from the grammar ----
my %columns = (
	purchase  => [ [ 'amount', 'n' ], [ 'category', 't' ], [ 'product', 't' ], [ 'occurred_at', 'd' ] ],
	page_view => [ [ 'url', 't' ], [ 'dwell_seconds', 'n' ] ],
	email     => [ [ 'status', 't' ] ],
	wrong     => [ [ 'x', 'n' ] ]);    # not in the catalog: 42703
my @acts = sort keys %columns;

sub column_of
{
	my ($act, $type) = @_;
	my @c = grep { !defined $type || $_->[1] eq $type } @{ $columns{$act} };
	@c = @{ $columns{$act} } unless @c;
	return pick(@c)->[0];
}

sub condition
{
	my ($act, $depth) = @_;
	my $k = int rand 6;
	if ($depth > 0 && $k == 0)
	{
		return condition($act, $depth - 1) . pick(' and ', ' or ')
		  . condition($act, $depth - 1);
	}
	return 'not (' . condition($act, $depth - 1) . ')' if $depth > 0 && $k == 1;
	my $col = pick(@{ $columns{$act} });
	my ($c, $t) = @$col;
	my @values =
	    $t eq 'n' ? ('10', '2.5', "'7'")
	  : $t eq 'd' ? ("'2026-01-01'", "'2026-05-01 10:00:00+00'")
	  :             ("'v'", "'shoes'");
	return "$c is not null" if $k == 4;
	return "$c like '%x%'" if $k == 2 && $t eq 't';
	return "$c in (" . join(', ', @values) . ')' if $k == 3;
	return "$c " . pick('=', '<>', '>', '<=') . ' ' . pick(@values);
}

sub window
{
	my $k = int rand 4;
	return '' if $k < 2;
	return ' within ' . (1 + int rand 400) . ' ' . pick('day', 'days', 'weeks', 'hours', 'months', 'years')
	  if $k == 2;
	return " between '2026-01-01' and '2026-06-30'";
}

sub aggregate
{
	my $act = pick(@acts);
	my $agg = pick('count', 'count', 'sum', 'avg', 'min', 'max', 'first', 'last',
		'argmax', 'argmin', 'top');
	my $arg;
	if ($agg eq 'count')
	{
		$arg = pick($act, "$act." . column_of($act), "distinct $act." . column_of($act));
	}
	elsif ($agg eq 'argmax' || $agg eq 'argmin')
	{
		$arg = "$act." . column_of($act) . ", $act." . column_of($act);
	}
	elsif ($agg eq 'top')
	{
		$arg = "$act." . column_of($act) . ', ' . (1 + int rand 5);
	}
	else
	{
		$arg = "$act." . column_of($act, $agg =~ /sum|avg/ ? 'n' : undef);
	}
	$arg .= ' where ' . condition($act, 2) if rand() < 0.4;
	return "$agg($arg)" . window();
}

sub measure
{
	my ($depth) = @_;
	my $k = int rand 8;
	return aggregate() if $depth <= 0 || $k < 3;
	return measure($depth - 1) . ' ' . pick('+', '-', '*', '/', '%') . ' ' . measure($depth - 1)
	  if $k == 3;
	return 'coalesce(' . measure($depth - 1) . ', 0)' if $k == 4;
	return 'days_since(max(purchase.occurred_at))' if $k == 5;
	return 'round(' . measure($depth - 1) . ', 2)' if $k == 6;
	return measure($depth - 1) . ' ' . pick('>', '>=', '=') . ' ' . (int rand 10);
}

sub mutate
{
	my ($s) = @_;
	my $k   = int rand 4;
	my $pos = int rand(length($s) + 1);
	return substr($s, 0, $pos) . substr($s, $pos + 1) if $k == 0;
	return substr($s, 0, $pos) . pick('(', ')', "'", '"', ',', ' ', 'x', '.', '-', 'é', '日')
	  . substr($s, $pos)
	  if $k == 1;
	my @t = split / /, $s;
	my $i = int rand @t;
	if ($k == 2) { splice @t, $i, 1; }
	else         { splice @t, $i, 0, $t[$i]; }
	return join ' ', @t;
}

# ---- nesting ----
sub nested
{
	my $n = 150 + int rand 120;
	my $k = int rand 5;
	return ('(' x $n) . 'count(purchase)' . (')' x $n) if $k == 0;
	return ('not ' x $n) . 'x'                          if $k == 1;
	return ('- ' x $n) . 'count(purchase)'              if $k == 2;
	return ('abs(' x $n) . 'count(purchase)' . (')' x $n) if $k == 3;
	return join(' + ', ('count(purchase)') x $n);
}

my @inputs = ('', ' ', '()', "'", '"', '(', ')', 'count(', 'sum(purchase.amount) within');
push @inputs, random_chars(int rand 301)   for 1 .. 1500;
push @inputs, soup()                       for 1 .. 1500;
push @inputs, measure(3)                   for 1 .. 1000;
push @inputs, mutate(measure(2))           for 1 .. 1000;
push @inputs, nested()                     for 1 .. 60;
push @inputs, "'" . ('ab' x 50000) . "'";
push @inputs, 'count(purchase where category in (' . join(', ', ("'x'") x 20000) . '))';
push @inputs, ('a' x 1000000);
push @inputs, join(' or ', ('x = 1') x 30000);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;
$ENV{PGCLIENTENCODING} = 'UTF8';
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

my $file = "$PostgreSQL::Test::Utils::tmp_check/dsl_fuzz.copy";
open my $fh, '>:encoding(UTF-8)', $file or die "cannot write $file: $!";
my $id = 0;
for my $s (@inputs)
{
	print $fh ++$id, "\t", CdpReference::copy_escape($s), "\n";
}
close $fh;
(my $file_sql = $file) =~ s/'/''/g;
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE dsl_fuzz (id int PRIMARY KEY, d text);
	COPY dsl_fuzz FROM '$file_sql' WITH (ENCODING 'UTF8');
	CREATE TABLE dsl_errors (fn text, id int, state text, msg text);
	CREATE TABLE dsl_ok (id int, sql text, rows_sql text);
	CREATE TABLE act (customer_id bigint, activity text, type text,
		occurred_at timestamptz, source_key text, detail jsonb);
	INSERT INTO act VALUES
		(1, 'purchase', 'purchase', '2026-06-01', 'k1',
		 '{"amount": 10, "category": "shoes", "product": "a"}'),
		(1, 'purchase', 'purchase', '2026-06-02', 'k2',
		 '{"amount": 0, "category": "hats", "product": "b"}'),
		(2, 'page_view', 'web', '2026-06-03', 'k3',
		 '{"url": "/x", "dwell_seconds": 5}'),
		(2, 'email', 'email', '2026-06-04', 'k4', '{"status": "sent"}');
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM dsl_fuzz'),
	scalar(@inputs), 'the inputs arrived intact');

my $catalog = q{{"purchase": {"type": "purchase", "columns": {"amount": "numeric",
	"category": "text", "product": "text"}}, "page_view": {"columns": {"url": "text",
	"dwell_seconds": "integer"}}, "email": {"columns": {"status": "text"}}}};

# Run the parser and both compilers over every input, recording errors (a PL/pgSQL loop:
# a crash would end it and show as a failed psql).
my ($ret, $out, $err) = $node->psql(
	'postgres', qq{
	SET statement_timeout = '300s';
	DO \$fuzz\$
	DECLARE
		r dsl_fuzz;
		j jsonb;
	BEGIN
		FOR r IN SELECT * FROM dsl_fuzz ORDER BY id LOOP
			BEGIN
				PERFORM cdp.parse_expression(r.d);
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO dsl_errors VALUES ('parse', r.id, SQLSTATE, SQLERRM);
			END;
			BEGIN
				PERFORM cdp.compile_segment(r.d, jsonb_build_object('activities', '$catalog'::jsonb,
					'attributes', '{"city": "text", "birth_date": "date", "tags": "text[]"}'::jsonb,
					'measures', '{"amount": "numeric", "top": "text[]"}'::jsonb, 'segments', '{"vip": "dynamic"}'::jsonb));
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO dsl_errors VALUES ('segment', r.id, SQLSTATE, SQLERRM);
			END;
			BEGIN
				j := cdp.compile_measure(r.d, '$catalog');
				INSERT INTO dsl_ok VALUES (r.id, j ->> 'select', cdp._activity_rows_sql(j -> 'columns',
					  ARRAY(SELECT jsonb_array_elements_text(j -> 'activities')), 'act'));
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO dsl_errors VALUES ('compile', r.id, SQLSTATE, SQLERRM);
			END;
		END LOOP;
	END
	\$fuzz\$;
});
ok($ret == 0, 'every input ran, no crash') or diag(u($err));
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server up after the fuzz');

for my $c ([ 'parse', "'42601', '54001', '42883'" ],
	[ 'compile', "'42601', '54001', '42703', '42883', '42804'" ],
	[ 'segment', "'42601', '54001', '42703', '42883', '42804', '42P01'" ])
{
	my ($fn, $allowed) = @$c;
	my $bad = $node->safe_psql(
		'postgres', qq{
		SELECT e.state || ': ' || e.msg || ' -- input ' || e.id || ': '
		       || quote_literal(left(f.d, 120))
		  FROM dsl_errors e JOIN dsl_fuzz f USING (id)
		 WHERE e.fn = '$fn' AND e.state NOT IN ($allowed)
		 ORDER BY e.id LIMIT 5});
	is($bad, '', "$fn: only documented SQLSTATEs") or diag(u($bad));
	note "$fn errors: "
	  . $node->safe_psql(
		'postgres', qq{
		SELECT string_agg(state || ' x' || n, ', ' ORDER BY state)
		  FROM (SELECT state, count(*) AS n FROM dsl_errors WHERE fn = '$fn' GROUP BY state) s});
}

# the generated measures: most of them compile
my $compiled = $node->safe_psql('postgres', 'SELECT count(*) FROM dsl_ok');
note "$compiled definitions compiled";
cmp_ok($compiled, '>', 500, 'the grammar-generated measures compile');

# every compiled measure runs over the activity table
($ret, $out, $err) = $node->psql(
	'postgres', q{
	SET statement_timeout = '300s';
	CREATE TABLE dsl_run_errors (id int, state text, msg text, sql text);
	DO $run$
	DECLARE
		r dsl_ok;
	BEGIN
		FOR r IN SELECT * FROM dsl_ok ORDER BY id LOOP
			BEGIN
				EXECUTE format('SELECT x.customer_id, %s FROM %s x GROUP BY x.customer_id', r.sql, r.rows_sql)
				  USING timestamptz '2026-07-01';
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO dsl_run_errors VALUES (r.id, SQLSTATE, SQLERRM, r.sql);
			END;
		END LOOP;
	END
	$run$;
});
ok($ret == 0, 'every compiled measure ran, no crash') or diag(u($err));
my $bad = $node->safe_psql(
	'postgres', q{
	SELECT e.state || ': ' || e.msg || ' -- ' || f.d || ' => ' || left(e.sql, 300)
	  FROM dsl_run_errors e JOIN dsl_fuzz f USING (id)
	 WHERE e.state NOT IN ('22012', '22003')
	 ORDER BY e.id LIMIT 5});
is($bad, '', 'compiled SQL runs (only division by zero or overflow in the data)')
  or diag(u($bad));

# positions: the root of every parsed input starts inside it
$bad = $node->safe_psql(
	'postgres', q{
	SELECT count(*) FROM dsl_fuzz f
	 WHERE f.id NOT IN (SELECT id FROM dsl_errors WHERE fn = 'parse')
	   AND NOT ((cdp.parse_expression(f.d) ->> 'pos')::int BETWEEN 1 AND length(f.d))});
is($bad, '0', 'the position of every root node lies inside its definition');

# ---- other server encodings ----
# The inputs made only of Latin-1 characters, parsed in a LATIN1 database,
# give the trees (positions included) and errors they give in UTF8; in a
# SQL_ASCII database, bytes of any value (not UTF-8) only give documented
# errors.
my @latin1 = grep { !/[^\x{01}-\x{ff}]/ && length($_) < 10000 } @inputs;
my $l1file = "$PostgreSQL::Test::Utils::tmp_check/dsl_latin1.copy";
open $fh, '>:encoding(UTF-8)', $l1file or die "cannot write $l1file: $!";
$id = 0;
print $fh ++$id, "\t", CdpReference::copy_escape($_), "\n" for @latin1;
close $fh;
(my $l1file_sql = $l1file) =~ s/'/''/g;
$node->safe_psql('postgres',
	"CREATE DATABASE l1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
$node->safe_psql('postgres',
	"CREATE DATABASE sa TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'");
my %result;
for my $db ('postgres', 'l1', 'sa')
{
	$node->safe_psql($db, 'CREATE EXTENSION IF NOT EXISTS pg_cdp');
	$node->safe_psql(
		$db, qq{
		CREATE TABLE l1_inputs (id int PRIMARY KEY, d text);
		COPY l1_inputs FROM '$l1file_sql' WITH (ENCODING 'UTF8');
		CREATE TABLE l1_out (id int, r text);
		DO \$l1\$
		DECLARE
			r l1_inputs;
		BEGIN
			FOR r IN SELECT * FROM l1_inputs ORDER BY id LOOP
				BEGIN
					INSERT INTO l1_out VALUES (r.id, cdp.parse_expression(r.d)::text);
				EXCEPTION WHEN OTHERS THEN
					INSERT INTO l1_out VALUES (r.id, SQLSTATE || ' ' || SQLERRM);
				END;
			END LOOP;
		END
		\$l1\$;
	});
	$result{$db} = $node->safe_psql($db, 'SELECT r FROM l1_out ORDER BY id');
}
ok(scalar(@latin1) > 1000, scalar(@latin1) . ' Latin-1 inputs');
ok($result{l1} eq $result{postgres}, 'LATIN1 gives the trees and errors UTF8 gives')
  or diag(u(substr($result{l1}, 0, 500)), "\n", u(substr($result{postgres}, 0, 500)));

# SQL_ASCII: random bytes, most of them not valid UTF-8
my @bytes;
push @bytes, join('', map { chr(1 + int rand 255) } 1 .. int rand 200) for 1 .. 1000;
push @bytes, "count(purchase where category = '\xe9\xc3')", "\"\xff\xfe\" = 1",
  "sum(p.a) within 3 days > \xc3";
my $safile = "$PostgreSQL::Test::Utils::tmp_check/dsl_bytes.copy";
open $fh, '>:raw', $safile or die "cannot write $safile: $!";
$id = 0;
print $fh ++$id, "\t", CdpReference::copy_escape($_), "\n" for @bytes;
close $fh;
(my $safile_sql = $safile) =~ s/'/''/g;
($ret, $out, $err) = $node->psql(
	'sa', qq{
	CREATE TABLE bytes (id int PRIMARY KEY, d text);
	COPY bytes FROM '$safile_sql' WITH (ENCODING 'SQL_ASCII');
	DO \$sa\$
	DECLARE
		r bytes;
	BEGIN
		FOR r IN SELECT * FROM bytes ORDER BY id LOOP
			BEGIN
				PERFORM cdp.parse_expression(r.d);
				PERFORM cdp.compile_measure(r.d, '{"p": {"columns": {"a": "numeric"}}}');
			EXCEPTION WHEN OTHERS THEN
				IF SQLSTATE NOT IN ('42601', '54001', '42703', '42883', '42804') THEN
					RAISE WARNING 'row %: unexpected error %: %', r.id, SQLSTATE, SQLERRM;
				END IF;
			END;
		END LOOP;
	END
	\$sa\$;
});
ok($ret == 0 && $err !~ /WARNING/,
	'SQL_ASCII: arbitrary bytes give only documented errors, no crash')
  or diag(u($err));

$node->stop;
done_testing();
