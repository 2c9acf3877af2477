# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

# 003_encodings.pl
#
# Any encoding the database uses works: the kernels count characters and
# fold accents the same way whether the database is UTF8 (where é takes two
# bytes) or LATIN1 (where it takes one byte that is not ASCII).  Three
# databases of one server: u8 (UTF8), l1 (LATIN1) and sa (SQL_ASCII), all
# with the C locale.
#
#  1. Fixed cases with Latin-1 letters: values worked out by hand, or by the
#     Perl reference implementations (test/perl/CdpReference.pm) for the
#     metrics; each must hold in u8 and in l1.
#  2. Random strings of Latin-1 characters through every function of schema
#     cdp that takes text: l1 must give what u8 gives, and the metrics what
#     the references give.
#  3. SQL_ASCII, where the server does not interpret bytes above 127: ASCII
#     strings must give the same results as in u8, and arbitrary bytes
#     (including invalid UTF-8) must neither crash the server nor raise an
#     error.
#
# The random strings come from a fixed seed, printed at the start; set
# PG_CDP_SEED to replay another run.

use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode ();

use CdpReference qw(u seed_random);


my $seed = seed_random(20260316);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$ENV{PGCLIENTENCODING} = 'UTF8';

my %encoding = (u8 => 'UTF8', l1 => 'LATIN1', sa => 'SQL_ASCII');
for my $db (sort keys %encoding)
{
	$node->safe_psql('postgres',
			"CREATE DATABASE $db ENCODING '$encoding{$db}'"
		  . " LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	my ($ret, $out, $err) = $node->psql($db, 'CREATE EXTENSION pg_cdp');
	is($ret, 0, "CREATE EXTENSION pg_cdp in a $encoding{$db} database")
	  or diag($err);
}

# Run $sql (a Perl character string) in database $db; returns the exit
# code, the output decoded from UTF-8 and the error output.
sub run_sql
{
	my ($db, $sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql($db, Encode::encode('UTF-8', $sql));
	return ($ret, Encode::decode('UTF-8', $out), $err);
}

# The functions of schema cdp taking text, as regprocedure text
# (cdp.levenshtein(text,text,integer)), to skip those not written yet.
my %sig = map { $_ => 1 } split /\n/, $node->safe_psql(
	'u8', q{
	SELECT p.oid::regprocedure FROM pg_proc p
	  JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname = 'cdp' AND 'text'::regtype = ANY (p.proargtypes)
	   AND p.provolatile IN ('i', 's') AND p.proname !~ '^_'
	   -- a parser: random text is a syntax error (42601); see 012_dsl_fuzz.pl
	   AND p.proname NOT IN ('parse_expression', 'segment_sql', 'segment_members', 'estimate_segment',
	                       'template_check', 'template_paths', 'template_coupons', 'coupon_code',
	                       'journey_stats', 'journey_funnel', 'render_template', 'customer_card')});
note "functions: " . join(' ', sort keys %sig);

# ---- 1. fixed cases ----
#
# [ function signature, SQL expression, expected value or undef (then only
# u8 and l1 are compared) ].

my @fixed = (
	[ 'cdp.levenshtein(text,text)', "cdp.levenshtein('café', 'cafe')", 1 ],
	[   'cdp.levenshtein(text,text)',
		"cdp.levenshtein('Ærøskøbing', 'Aeroskobing')", 4 ],
	[   'cdp.levenshtein(text,text,integer)',
		"cdp.levenshtein('Ærøskøbing', 'Aeroskobing', 2)",
		3 ],
	[ 'cdp.osa_distance(text,text)', "cdp.osa_distance('Çé', 'éÇ')", 1 ],
	[   'cdp.damerau_levenshtein(text,text)',
		"cdp.damerau_levenshtein('ßüa', 'aüß')",
		2 ],
	[   'cdp.jaro(text,text)',
		"round(cdp.jaro('Müller', 'Mueller')::numeric, 12)",
		sprintf('%.12f', CdpReference::jaro('Müller', 'Mueller')) ],
	[   'cdp.jaro_winkler(text,text,double precision)',
		"round(cdp.jaro_winkler('Müller', 'Mueller')::numeric, 12)",
		sprintf(
			'%.12f', CdpReference::jaro_winkler('Müller', 'Mueller', 0.1)) ],
	[   'cdp.jaro_winkler(text,text,double precision)',
		"round(cdp.jaro_winkler('Jérôme', 'Jerome', 0.2)::numeric, 12)",
		sprintf('%.12f', CdpReference::jaro_winkler('Jérôme', 'Jerome', 0.2))
	],
	[   'cdp.edit_similarity(text,text)',
		"round(cdp.edit_similarity('Zoë', 'Zoe')::numeric, 12)",
		sprintf('%.12f', 2 / 3) ],
	[   'cdp.normalize_text(text,text[])',
		"cdp.normalize_text('Crème Brûlée')",
		'creme brulee' ],
	[   'cdp.normalize_text(text,text[])',
		"cdp.normalize_text('  Ça   va, Ægir?  ')",
		'ca va aegir' ],
	[   'cdp.normalize_text(text,text[])',
		"cdp.normalize_text('Straße', '{unicode}')",
		'Strasse' ],
	[   'cdp.normalize_text(text,text[])',
		"cdp.normalize_text('ÀÉÎÕÜ', '{}')",
		'ÀÉÎÕÜ' ],
	[   'cdp.normalize_name(text)',
		"cdp.normalize_name('Dr. José Núñez, Jr.')",
		'jose nunez' ],
	[   'cdp.normalize_name(text)',
		"cdp.normalize_name('Müller-Lüdenscheidt, Hans')",
		'hans muller ludenscheidt' ],
	[   'cdp.normalize_name(text)',
		"cdp.normalize_name('Søren O''Brien')",
		'soren obrien' ],
	[   'cdp.normalize_org(text)',
		"cdp.normalize_org('Société Générale S.A.')",
		'societe generale' ],
	[   'cdp.normalize_address(text)',
		"cdp.normalize_address('Hauptstraße 5')",
		undef ],
	[   'cdp.normalize_address(text)',
		"cdp.normalize_address('12 Rue de l''Église, Bâtiment B')", undef ],
	[   'cdp.normalize_email(text,boolean)',
		"cdp.normalize_email(' José.Núñez\@Exámple.es ')",
		undef ],
	[   'cdp.normalize_phone(text,text)',
		"cdp.normalize_phone('+49 (0)30 1234567 Durchwahl 12', 'DE')", undef
	],
	[   'cdp.double_metaphone(text)', "cdp.double_metaphone('Müller')",
		'{MLR,MLR}' ],
	[   'cdp.double_metaphone(text)',
		"cdp.double_metaphone('Müller') = cdp.double_metaphone('Muller')",
		't' ],
	[   'cdp.double_metaphone(text)',
		"cdp.double_metaphone('Çelik') = cdp.double_metaphone('Celik')", 't'
	],
	[   'cdp.double_metaphone(text)',
		"cdp.double_metaphone('Straße') = cdp.double_metaphone('Strasse')",
		't' ],
	[   'cdp.token_similarity(text,text)',
		"cdp.token_similarity('Crème brûlée', 'Crème brûlée')", 1 ],
	[   'cdp.token_similarity(text,text)',
"round(cdp.token_similarity('Crème brûlée', 'creme brulee')::numeric, 12)",
		undef ],
	[   'cdp.name_similarity(text,text)',
		"cdp.name_similarity('José Núñez', 'José Núñez')", 1 ],
	[   'cdp.name_similarity(text,text)',
		"round(cdp.name_similarity('José Núñez', 'Jose Nunez')::numeric, 12)",
		undef ],
	[   'cdp.name_similarity(text,text)',
"round(cdp.name_similarity('Dr. Jürgen Groß', 'Jurgen Gross')::numeric, 12)",
		undef ],);

for my $case (@fixed)
{
	my ($fn, $expr, $want) = @$case;
  SKIP:
	{
		skip "$fn does not exist yet", 1 unless $sig{$fn};
		my %got;
		for my $db (qw(u8 l1))
		{
			my ($ret, $out, $err) = run_sql($db, "SELECT $expr");
			$got{$db} = $ret == 0 ? $out : "ERROR: $err";
		}
		my $ok =
		  $got{u8} eq $got{l1} && (!defined $want || $got{u8} eq $want);
		ok($ok,
			u($expr, defined $want ? " = $want" : '', ' in UTF8 and LATIN1'))
		  or diag(u("  UTF8: $got{u8}\n  LATIN1: $got{l1}"));
	}
}

# In UTF8, characters are not bytes there either: a one-letter word in a
# script with no ASCII spelling is an initial like any other.
SKIP:
{
	skip 'cdp.name_similarity does not exist yet', 1
	  unless $sig{'cdp.name_similarity(text,text)'};
	my ($ret, $out, $err) = run_sql('u8',
			"SELECT cdp.name_similarity('Д Иванов', 'Дмитрий Иванов')"
		  . " = cdp.name_similarity('D Ivanov', 'Dmitry Ivanov')");
	is( "$ret $out",
		'0 t',
		u(
"name_similarity('Д Иванов', 'Дмитрий Иванов') scores the initial like 'D Ivanov', 'Dmitry Ivanov'"
		)) or diag($err);
}

# ---- 2. random Latin-1 strings ----

# Latin-1 letters and signs, with enough ASCII that matches are common.
my @latin1 =
  (map({ chr } 0xa0 .. 0xff), split(//, 'aeiouAEIOUnsrtlcmpb  -.,\''));

# A random string of Latin-1 characters, 0 to $max long.
sub latin1_string
{
	my ($max) = @_;
	return join '',
	  map { $latin1[ int rand @latin1 ] } 1 .. int rand($max + 1);
}

my @pairs;
for my $i (0 .. 399)
{
	my $max = $i < 300 ? 12 : 80;    # short ones, then some past 64
	my $a   = latin1_string($max);
	my $b   = $i % 3 == 0 ? latin1_string($max) : $a;
	# near-copies: a few substitutions with an accented look-alike
	$b =~ s/(.)/rand() < 0.2 ? $latin1[ int rand @latin1 ] : $1/ge
	  if $i % 3 != 0;
	push @pairs, [ $i, $a, $b ];
}

my $file = "$PostgreSQL::Test::Utils::tmp_check/latin1.copy";
open my $fh, '>:encoding(UTF-8)', $file or die "cannot write $file: $!";
print $fh
  join("\t", $_->[0], map { CdpReference::copy_escape($_) } @$_[ 1, 2 ]), "\n"
  for @pairs;
close $fh;
(my $file_sql = $file) =~ s/'/''/g;
for my $db (qw(u8 l1))
{
	$node->safe_psql(
		$db, qq{
		CREATE TABLE pairs (id int PRIMARY KEY, a text, b text);
		COPY pairs FROM '$file_sql' WITH (ENCODING 'UTF8');
	});
}
is( $node->safe_psql(
		'l1', 'SELECT sum(length(a)), sum(octet_length(a)) FROM pairs'),
	$node->safe_psql(
		'l1', 'SELECT sum(length(a)), sum(length(a)) FROM pairs'),
	'in LATIN1 every character is one byte');

# Every function taking text, called with its text arguments from the
# pairs (and fixed valid values for the others).
my @calls;
for my $s (sort keys %sig)
{
	my ($name, $args) = $s =~ /^cdp\.(\w+)\((.*)\)$/ or next;
	my @types     = split /,/, $args;
	my $text_seen = 0;
	my @args      = map {
		$_ eq 'text'
		  ? ($name eq 'normalize_phone'
			  && $text_seen ? "'FR'" : $text_seen++ ? 'b' : 'a')
		  : $_ eq 'text[]'           ? "'{whitespace,lowercase,unicode}'"
		  : $_ eq 'boolean'          ? 'true'
		  : $_ eq 'integer'          ? '3'
		  : $_ eq 'double precision' ? '0.15'
		  : undef
	} @types;
	next if grep { !defined } @args;
	push @calls, "cdp.$name(" . join(', ', @args) . ')';
}

my %reference = (
	'cdp.levenshtein(a, b)'    => \&CdpReference::levenshtein,
	'cdp.levenshtein(a, b, 3)' =>
	  sub { CdpReference::levenshtein_bounded(@_, 3) },
	'cdp.osa_distance(a, b)'        => \&CdpReference::osa_distance,
	'cdp.damerau_levenshtein(a, b)' => \&CdpReference::damerau_levenshtein,
	'cdp.jaro(a, b)'                => \&CdpReference::jaro,
	'cdp.jaro_winkler(a, b, 0.15)'  =>
	  sub { CdpReference::jaro_winkler(@_, 0.15) },
	'cdp.edit_similarity(a, b)' => \&CdpReference::edit_similarity,);

for my $call (@calls)
{
	my %got;
	my $failed = 0;
	for my $db (qw(u8 l1))
	{
		my ($ret, $out, $err) = run_sql($db,
"SET extra_float_digits = 3; SELECT id, $call FROM pairs ORDER BY id"
		);
		if ($ret != 0)
		{
			fail("$call runs in $db");
			diag(u($err));
			$failed = 1;
			next;
		}
		$got{$db} = { map { split /\|/, $_, 2 } split /\n/, $out };
	}
	next if $failed;

	my @diff =
	  grep { ($got{u8}{$_} // '') ne ($got{l1}{$_} // '') } 0 .. $#pairs;
	is( scalar @diff,
		0,
		"$call: LATIN1 gives what UTF8 gives on "
		  . scalar(@pairs)
		  . " Latin-1 pairs");
	diag(
		u(
"  a = '$pairs[$_][1]', b = '$pairs[$_][2]': UTF8 $got{u8}{$_}, LATIN1 $got{l1}{$_}"
		)) for @diff[ 0 .. ($#diff < 2 ? $#diff : 2) ];

	if (my $ref = $reference{$call})
	{
		my @bad = grep {
			my $want = $ref->($pairs[$_][1], $pairs[$_][2]);
			!(     defined $got{l1}{$_}
				&& $got{l1}{$_} ne ''
				&& abs($got{l1}{$_} - $want) <= 1e-12)
		} 0 .. $#pairs;
		is(scalar @bad, 0, "$call in LATIN1 agrees with the reference");
		diag(
			u(  "  a = '$pairs[$_][1]', b = '$pairs[$_][2]': expected ",
				$ref->($pairs[$_][1], $pairs[$_][2]),
				", got $got{l1}{$_}")
		) for @bad[ 0 .. ($#bad < 2 ? $#bad : 2) ];
	}
}

# ---- 3. SQL_ASCII ----
#
# ASCII strings: the same results as UTF8.  Other bytes are not characters
# in SQL_ASCII; the folding functions read them as UTF-8 (PostgreSQL's
# conversion from SQL_ASCII checks that they are), so valid UTF-8 must work
# and invalid UTF-8 may be refused with SQLSTATE 22021 (invalid byte
# sequence), but nothing else: no other error, no crash.

my @ascii = (
	'',                          ' ',
	'Mr. John Smith, Jr.',       'ACME Corp.',
	'+1 (415) 555-0123 x12',     'John.Smith+tag@GMail.com',
	'123 N. Main Street, Apt 4', 'Henry VIII',
	'twenty-first',              'martha',
	'marhta',                    'DIXON',
	'DICKSONX');
push @ascii, join('', map { chr(32 + int rand 95) } 1 .. int rand 90)
  for 1 .. 150;

$file = "$PostgreSQL::Test::Utils::tmp_check/ascii.copy";
open $fh, '>', $file or die "cannot write $file: $!";
for my $i (0 .. $#ascii)
{
	print $fh join("\t",
		$i,
		CdpReference::copy_escape($ascii[$i]),
		CdpReference::copy_escape($ascii[ ($i * 7 + 3) % @ascii ])),
	  "\n";
}
close $fh;
($file_sql = $file) =~ s/'/''/g;
for my $db (qw(u8 sa))
{
	$node->safe_psql(
		$db, qq{
		CREATE TABLE ascii (id int PRIMARY KEY, a text, b text);
		COPY ascii FROM '$file_sql';
	});
}

# Bytes that are not ASCII, written with E'' escapes so that the SQL itself
# is ASCII: UTF-8 sequences, Latin-1 bytes and other invalid UTF-8 (lone
# continuation bytes, truncated sequences, 0xFF, surrogates, overlong).
$node->safe_psql(
	'sa', q{
	CREATE TABLE bytes (id int PRIMARY KEY, a text, b text, utf8 bool);
	INSERT INTO bytes VALUES
		(1, E'Caf\xc3\xa9 M\xc3\xbcller', E'Cafe Muller', true),
		(2, E'\xc3\xa9t\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80', E'\xc3\xa9t\xc3\xa9', true),
		(3, repeat(E'\xc3\xa9', 1000), repeat(E'\xd0\x96', 999), true),
		(4, E'Caf\xe9 M\xfcller', E'Cafe Muller', false),
		(5, E'Caf\xc3\xa9', E'Caf\xe9', false),
		(6, E'\x80\x81\xbf', E'\xc3', false),
		(7, E'abc\xe2\x82', E'\xf0\x9f\x98', false),
		(8, E'\xff\xfe\xfd', E'\xf4\x90\x80\x80', false),
		(9, E'\xed\xa0\x80 surrogate', E'\xc0\xaf overlong', false),
		(10, E'Jos\xe9 N\xfa\xf1ez, Jr.', E'+49 (0)30 \xb7 123', false),
		(11, repeat(E'\xe9', 2000), repeat(E'\xc3', 1999), false),
		(12, E'\xe9@\xe9.com', E'\xa0\xa0', false);
});

my %refused;
for my $call (@calls)
{
	my ($ret_u, $u8, $err_u) = run_sql('u8',
"SET extra_float_digits = 3; SELECT id, ($call)::text FROM ascii ORDER BY id"
	);
	my ($ret_s, $sa, $err_s) = run_sql('sa',
"SET extra_float_digits = 3; SELECT id, ($call)::text FROM ascii ORDER BY id"
	);
	ok($ret_u == 0 && $ret_s == 0 && $u8 eq $sa,
		"$call: SQL_ASCII gives what UTF8 gives on ASCII strings")
	  or diag(
		u(  "  UTF8 ($ret_u): ",
			substr($u8, 0, 300),
			" $err_u\n",
			"  SQL_ASCII ($ret_s): ",
			substr($sa, 0, 300),
			" $err_s"));

	my ($ret, $out, $err) = $node->psql(
		'sa', qq{
		DO \$\$
		DECLARE
			rid int;
			a text;
			b text;
			valid bool;
		BEGIN
			FOR rid, a, b, valid IN SELECT * FROM bytes ORDER BY id LOOP
				BEGIN
					PERFORM $call;
				EXCEPTION WHEN OTHERS THEN
					IF valid OR SQLSTATE <> '22021' THEN
						RAISE WARNING 'row %: unexpected error %: %', rid, SQLSTATE, SQLERRM;
					ELSE
						RAISE NOTICE 'refused row %', rid;
					END IF;
				END;
			END LOOP;
		END
		\$\$;
	});
	ok( $ret == 0 && $err !~ /WARNING/,
"$call: bytes that are not ASCII in SQL_ASCII, no unexpected error, no crash"
	) or diag($err);
	$node->poll_query_until('sa', 'SELECT 1', '1') if $ret != 0;
	my $n = () = $err =~ /refused row/g;
	$refused{$call} = $n if $n;
}
note "refused invalid UTF-8 in SQL_ASCII (22021): "
  . join(', ', map { "$_ ($refused{$_} rows)" } sort keys %refused);

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still up');
$node->stop;
done_testing();
