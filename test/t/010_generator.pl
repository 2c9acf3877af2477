# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

# 010_generator.pl
#
# tools/generate_customers.py, the generator of messy customer records with
# their ground truth that unification is tested and benchmarked on:
# - the same arguments give byte-identical output (SQL and CSV), another seed
#   different output;
# - the SQL script of about 3,000 records loads into a real server with
#   psql -v ON_ERROR_STOP=1; the tables have the rows the generator printed,
#   unique keys of the documented shapes, and every source record appears
#   exactly once in the truth table;
# - the noise rates documented at the top of the script hold roughly (share
#   of British customers, customers per number of sources, duplicates,
#   missing emails, phones and birth dates, swapped names, upper-case names),
#   households exist (different customers at one address, mostly with one
#   last name), some customers are in all three sources, and there are
#   non-ASCII names and values with a newline;
# - the CSV files hold exactly the same rows as the SQL script;
# - --noise 0 gives records whose names agree across sources;
# - a schema name that needs quoting works, and bad arguments are refused
#   with a message.
#
# The generator lives in tools/ and reads data/nicknames.csv: the test finds
# it in $PG_CDP_TOOLSDIR if set, else in tools/ of the tree it runs from
# ($PG_CDP_SRCDIR), and is skipped, saying so, when neither has it.

use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA ();
use IPC::Run    ();

my $srcdir = $ENV{PG_CDP_SRCDIR}   // '.';
my $tools  = $ENV{PG_CDP_TOOLSDIR} // "$srcdir/tools";
my $gen    = "$tools/generate_customers.py";
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

plan skip_all => "generator not found: $gen (test/run.sh copies no tools/ "
  . "and data/ into the test tree: set PG_CDP_TOOLSDIR to the source tree's "
  . "tools/)"
  unless -f $gen;

my $dir = PostgreSQL::Test::Utils::tempdir;

# Run the generator with @args, standard output to $out (a file) or
# nowhere; returns (exit status, standard error).
sub generate
{
	my ($out, @args) = @_;
	my $err = '';
	IPC::Run::run(
		[ $python, $gen, @args ],
		'<',  \undef, '>', $out // \my $ignored,
		'2>', \$err);
	return ($? >> 8, $err);
}

# The SHA-256 of a file, in hex.
sub digest
{
	my ($file) = @_;
	return Digest::SHA->new(256)->addfile($file, 'b')->hexdigest;
}

# ---- determinism ----

# Python salts its str hashes per process: two runs with different salts
# show that nothing depends on them.
my $seed = 20260401;
my ($rc, $err, $rc2, $rc3);
{
	local $ENV{PYTHONHASHSEED} = '1';
	($rc, $err) =
	  generate("$dir/a.sql", '--records', '3000', '--seed', $seed);
	is($rc, 0, 'the generator runs') or diag($err);
	$ENV{PYTHONHASHSEED} = '12345';
	($rc2) = generate("$dir/b.sql", '--records', '3000', '--seed', $seed);
}
($rc3) = generate("$dir/c.sql", '--records', '3000', '--seed', $seed + 1);
is($rc2 + $rc3, 0, 'it runs again, and with another seed');
is(digest("$dir/a.sql"), digest("$dir/b.sql"),
	'the same seed gives byte-identical SQL (with other str hash salts)');
isnt(digest("$dir/a.sql"), digest("$dir/c.sql"),
	'another seed gives different SQL');

for my $d ('csv1', 'csv2')
{
	mkdir "$dir/$d" or die "mkdir $dir/$d: $!";
	my ($r, $e) = generate(
		undef, '--records', '3000', '--seed',
		$seed, '--format',  'csv',  '--out',
		"$dir/$d");
	is($r, 0, "CSV output into $d") or diag($e);
}
for my $f ('web_shop.csv', 'loyalty.csv', 'pos.csv', 'truth.csv')
{
	is(digest("$dir/csv1/$f"), digest("$dir/csv2/$f"),
		"the same seed gives byte-identical $f");
}
my @left = grep { !/\.csv$/ } glob("$dir/csv1/*");
is(scalar(@left), 0, 'no temporary files are left behind');

# The counts the generator printed.
my %printed;
$printed{$1} = $2 while $err =~ /^\s+(\w+): (\d+) rows$/mg;
my ($customers) = $err =~ /: (\d+) customers /;
ok( defined $customers
	  && defined $printed{web_shop_customer}
	  && defined $printed{loyalty_member}
	  && defined $printed{pos_customer}
	  && defined $printed{truth},
	'the counts are printed on standard error') or diag($err);
my $records =
  $printed{web_shop_customer} +
  $printed{loyalty_member} +
  $printed{pos_customer};
ok($records > 2700 && $records < 3300,
	"about 3,000 records were asked for: $records");
is($printed{truth}, $records, 'one truth row per record');

# ---- loading ----

my $node = PostgreSQL::Test::Cluster->new('gen');
$node->init;
$node->start;

# Load a SQL script with psql as the generator's users would.
sub load
{
	my ($file, $what) = @_;
	$node->command_ok(
		[   'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-d',   $node->connstr('postgres'),
			'-f',   $file ],
		$what);
}

load("$dir/a.sql", 'the SQL script loads with psql -v ON_ERROR_STOP=1');
load("$dir/a.sql", 'and loads again over the tables it made');

# A single value from a query.
sub q1
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

is( q1('SELECT count(*) FROM sample.web_shop_customer'),
	$printed{web_shop_customer},
	'web_shop_customer has the printed rows');
is( q1('SELECT count(*) FROM sample.loyalty_member'),
	$printed{loyalty_member},
	'loyalty_member has the printed rows');
is(q1('SELECT count(*) FROM sample.pos_customer'),
	$printed{pos_customer}, 'pos_customer has the printed rows');
is(q1('SELECT count(*) FROM sample.truth'),
	$printed{truth}, 'truth has the printed rows');
is(q1('SELECT count(DISTINCT customer_no) FROM sample.truth'),
	$customers, 'truth has the printed number of customers');

is( q1( "SELECT string_agg(conrelid::regclass::text || ':'
		                   || pg_get_constraintdef(oid), ' '
		                   ORDER BY conrelid::regclass::text)
		   FROM pg_constraint
		  WHERE contype = 'p' AND connamespace = 'sample'::regnamespace"),
	'sample.loyalty_member:PRIMARY KEY (member_no) '
	  . 'sample.pos_customer:PRIMARY KEY (pos_id) '
	  . 'sample.truth:PRIMARY KEY (source, source_key) '
	  . 'sample.web_shop_customer:PRIMARY KEY (customer_ref)',
	'the four tables have their primary keys');
is( q1( "SELECT (SELECT count(*) FROM sample.web_shop_customer
		          WHERE customer_ref !~ '^W[0-9]{7}\$')
		      + (SELECT count(*) FROM sample.pos_customer
		          WHERE pos_id !~ '^P-[0-9]{6}\$')
		      + (SELECT count(*) FROM sample.loyalty_member
		          WHERE member_no <= 0)"),
	'0',
	'keys have the documented shapes (W0000001, P-000001, a positive number)'
);
is( q1( "SELECT count(*) FROM sample.truth
		  WHERE source NOT IN ('web_shop', 'loyalty', 'pos')"),
	'0',
	'truth names only the three sources');

# every record exactly once in truth, and nothing else there
is( q1( "SELECT (SELECT count(*) FROM sample.web_shop_customer w
		          WHERE (SELECT count(*) FROM sample.truth t
		                  WHERE t.source = 'web_shop' AND t.source_key = w.customer_ref) <> 1)
		      + (SELECT count(*) FROM sample.loyalty_member l
		          WHERE (SELECT count(*) FROM sample.truth t
		                  WHERE t.source = 'loyalty' AND t.source_key = l.member_no::text) <> 1)
		      + (SELECT count(*) FROM sample.pos_customer p
		          WHERE (SELECT count(*) FROM sample.truth t
		                  WHERE t.source = 'pos' AND t.source_key = p.pos_id) <> 1)"
	),
	'0',
	'every source record appears exactly once in truth');
is( q1( "SELECT count(*) FROM sample.truth t
		  WHERE NOT EXISTS (SELECT FROM sample.web_shop_customer
		                     WHERE t.source = 'web_shop'
		                       AND customer_ref = t.source_key)
		    AND NOT EXISTS (SELECT FROM sample.loyalty_member
		                     WHERE t.source = 'loyalty'
		                       AND member_no::text = t.source_key)
		    AND NOT EXISTS (SELECT FROM sample.pos_customer
		                     WHERE t.source = 'pos' AND pos_id = t.source_key)"
	),
	'0',
	'every truth row names an existing record');
is( q1( "SELECT count(*) FROM (
		   SELECT created_at AS t FROM sample.web_shop_customer
		   UNION ALL SELECT updated_at FROM sample.web_shop_customer
		   UNION ALL SELECT updated_at FROM sample.loyalty_member
		   UNION ALL SELECT last_visit FROM sample.pos_customer) x
		  WHERE t IS NULL OR t < '2019-01-01 00:00+00' OR t >= '2026-07-01 00:00+00'"
	),
	'0',
	'timestamps lie between 2019 and mid-2026');
is( q1( "SELECT count(*) FROM sample.web_shop_customer
		  WHERE updated_at < created_at"),
	'0',
	'no web account was updated before it was created');

# ---- noise rates, with loose bounds (about 1,700 customers) ----

# A view of every record with its customer.
$node->safe_psql(
	'postgres', q{
CREATE VIEW rec AS
SELECT t.customer_no, 'web_shop' AS source, w.first_name, w.last_name,
       w.email, w.phone, w.postal_code
  FROM sample.web_shop_customer w JOIN sample.truth t
    ON t.source = 'web_shop' AND t.source_key = w.customer_ref
UNION ALL
SELECT t.customer_no, 'loyalty', NULL, NULL, l.email, l.mobile, l.zip
  FROM sample.loyalty_member l JOIN sample.truth t
    ON t.source = 'loyalty' AND t.source_key = l.member_no::text
UNION ALL
SELECT t.customer_no, 'pos', p.first_name, p.last_name, p.email, p.phone,
       p.postal_code
  FROM sample.pos_customer p JOIN sample.truth t
    ON t.source = 'pos' AND t.source_key = p.pos_id;
});

# Check that a share lies within [lo, hi].
sub share_between
{
	my ($sql, $lo, $hi, $what) = @_;
	my $v = q1($sql);
	ok($v >= $lo && $v <= $hi, "$what: $v in [$lo, $hi]");
}

share_between(
	"SELECT round(avg(gb::int), 4) FROM (
	   SELECT customer_no, bool_or(postal_code ~* '^[a-z]{1,2}[0-9]') AS gb
	     FROM rec GROUP BY customer_no) x",
	0.10, 0.20, 'customers with a British postcode (15% are British)');
for my $n ([ 1, 0.40, 0.50 ], [ 2, 0.30, 0.40 ], [ 3, 0.16, 0.24 ])
{
	share_between(
		"SELECT round(avg((n = $n->[0])::int), 4) FROM (
		   SELECT customer_no, count(DISTINCT source) AS n
		     FROM sample.truth GROUP BY customer_no) x",
		$n->[1], $n->[2], "customers in $n->[0] source(s)");
}
share_between(
	"SELECT round(avg(d::int), 4) FROM (
	   SELECT customer_no, max(n) > 1 AS d FROM (
	     SELECT customer_no, source, count(*) AS n FROM sample.truth
	      GROUP BY 1, 2) x GROUP BY 1) y",
	0.02, 0.06, 'customers with a duplicate record in one source (4%)');
for my $m (
	[ 'web_shop', 0.025, 0.08 ],
	[ 'loyalty',  0.11,  0.19 ],
	[ 'pos',      0.54,  0.66 ])
{
	share_between(
		"SELECT round(avg((coalesce(trim(email), '') = '')::int), 4)
		   FROM rec WHERE source = '$m->[0]'",
		$m->[1], $m->[2], "$m->[0] records without an email");
}
share_between(
	"SELECT round(avg((coalesce(trim(phone), '') = '')::int), 4) FROM rec",
	0.11, 0.19, 'records without a phone (15%)');
share_between(
	"SELECT round(avg((birth_date IS NULL)::int), 4)
	   FROM sample.loyalty_member",
	0.16, 0.24, 'loyalty members without a birth date (20%)');
share_between(
	"SELECT round(avg((lower(w.first_name) = lower(p.last_name)
	               AND lower(w.last_name) = lower(p.first_name))::int), 4)
	   FROM rec w JOIN rec p ON p.customer_no = w.customer_no
	  WHERE w.source = 'web_shop' AND p.source = 'pos'",
	0.01, 0.09,
	'web and POS records of one customer with first and last name swapped '
	  . '(3% of each record: about 4%)');
share_between(
	"SELECT round(avg((last_name = upper(last_name)
	               AND last_name <> lower(last_name))::int), 4)
	   FROM sample.web_shop_customer",
	0.03, 0.10, 'web last names in upper case (6%)');

# households: different customers at one street address
my $shared = q1(
	"SELECT count(*) || ' ' || coalesce(sum(same_last), 0) FROM (
	   SELECT lower(street) AS s, postal_code,
	          (count(DISTINCT lower(last_name)) = 1)::int AS same_last
	     FROM sample.web_shop_customer w JOIN sample.truth t
	       ON t.source = 'web_shop' AND t.source_key = w.customer_ref
	    WHERE street <> ''
	    GROUP BY 1, 2 HAVING count(DISTINCT t.customer_no) > 1) x");
my ($groups, $same_last) = split / /, $shared;
cmp_ok($groups, '>=', 5,
	'households: web addresses shared by different customers');
cmp_ok($same_last, '>=', $groups * 0.5, 'most of them with one last name');
cmp_ok(
	q1( "SELECT count(*) FROM (SELECT customer_no FROM sample.truth
		 GROUP BY 1 HAVING count(DISTINCT source) = 3) x"),
	'>',
	100,
	'some customers are in all three sources');
cmp_ok(
	q1( "SELECT count(*) FROM rec
		  WHERE first_name || last_name ~ '[^\\x01-\\x7f]'"),
	'>',
	10,
	'some names are not ASCII (José, Müller, 王)');
cmp_ok(
	q1( "SELECT count(*) FROM sample.loyalty_member
		  WHERE address LIKE E'%\\n%'"),
	'>',
	0,
	'some addresses have two lines');

# ---- CSV: the same rows ----

$node->safe_psql('postgres', 'CREATE SCHEMA csv');
for my $t (
	[ 'web_shop_customer', 'web_shop.csv' ],
	[ 'loyalty_member',    'loyalty.csv' ],
	[ 'pos_customer',      'pos.csv' ],
	[ 'truth',             'truth.csv' ])
{
	my ($table, $file) = @$t;
	$node->safe_psql(
		'postgres', qq{
CREATE TABLE csv.$table (LIKE sample.$table);
COPY csv.$table FROM '$dir/csv1/$file' (FORMAT csv, HEADER true);
});
	is( q1( "SELECT count(*) FROM (
			   (SELECT * FROM csv.$table EXCEPT ALL SELECT * FROM sample.$table)
			   UNION ALL
			   (SELECT * FROM sample.$table EXCEPT ALL SELECT * FROM csv.$table)) x"
		),
		'0',
		"$file holds the same rows as the SQL script's $table");
}
is( q1( "SELECT count(*) FILTER (WHERE email = '') > 0
		    AND count(*) FILTER (WHERE email IS NULL) > 0
		   FROM csv.web_shop_customer"),
	't',
	'CSV keeps empty strings and NULLs apart');

# ---- --noise 0 ----

($rc, $err) = generate(
	"$dir/clean.sql", '--records', '3000', '--seed',
	$seed,            '--noise',   '0',    '--schema',
	'clean');
is($rc, 0, '--noise 0 runs') or diag($err);
load("$dir/clean.sql", 'and loads into schema clean');
share_between(
	"SELECT round(avg((w.first_name = p.first_name
	               AND w.last_name = p.last_name)::int), 4)
	   FROM clean.web_shop_customer w
	   JOIN clean.truth tw ON tw.source = 'web_shop' AND tw.source_key = w.customer_ref
	   JOIN clean.truth tp ON tp.source = 'pos' AND tp.customer_no = tw.customer_no
	   JOIN clean.pos_customer p ON p.pos_id = tp.source_key",
	0.95, 1,
	'without noise, web and POS records of one customer give the same name');
is( q1( "SELECT count(*) FROM clean.web_shop_customer
		  WHERE last_name = upper(last_name) AND last_name <> lower(last_name)"),
	'0',
	'without noise, no name is in upper case');

# ---- quoting, empty output, errors ----

($rc, $err) =
  generate("$dir/quoted.sql", '--records', '200', '--schema', 'Gen "Test"');
is($rc, 0, 'a schema name with a space and a quote') or diag($err);
load("$dir/quoted.sql", 'loads');
cmp_ok(q1('SELECT count(*) FROM "Gen ""Test""".truth'),
	'>', 150, 'into that schema');

($rc, $err) =
  generate("$dir/empty.sql", '--records', '0', '--schema', 'empty');
is($rc, 0, '--records 0 runs') or diag($err);
load("$dir/empty.sql", 'and gives a script that loads');
is(q1('SELECT count(*) FROM empty.truth'), '0', 'with empty tables');

($rc, $err) = generate(undef, '--records', '-5');
ok( $rc != 0 && $err =~ /--records must be 0 or more/,
	'a negative --records is refused with a message');
($rc, $err) =
  generate(undef, '--records', '10', '--nicknames', "$dir/no-such-file.csv");
ok( $rc != 0 && $err =~ /cannot read the nickname pairs/,
	'a missing nickname file is refused with a message');
($rc, $err) = generate(undef, '--records', '10', '--format', 'csv', '--out',
	"$dir/no-such-dir");
ok( $rc != 0 && $err =~ /output directory .* does not exist/,
	'a missing output directory is refused with a message');

$node->stop;
done_testing();
