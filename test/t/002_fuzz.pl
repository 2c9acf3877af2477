# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

# 002_fuzz.pl
#
# Bad and odd input never crashes the server and never raises an error that
# is not documented.  Thousands of random strings (ASCII, punctuation,
# digits, control characters other than NUL, combining marks, accented
# letters, right-to-left text, CJK, emoji, odd spaces, long runs of one
# character, things shaped like emails, phone numbers, names, addresses and
# company names, lengths 0 to 500, plus a few of 100 KB) go through every
# IMMUTABLE or STABLE function of schema cdp that takes text (the kernels;
# configuration functions and internal _functions are tested on their own),
# found in pg_catalog.pg_proc, so the
# test grows with the extension.  Each function is called with its required
# arguments only (defaults for the rest) and with all of them.
#
# The only errors allowed are the documented ones: SQLSTATE 22023 (invalid
# parameter value) when an option, region, limit or scale argument is
# invalid, and 54000 (program_limit_exceeded) from the functions that
# document a size limit: damerau_levenshtein beyond its matrix limit
# (CDP_MAX_MATRIX_CELLS), token_similarity and name_similarity beyond their
# word limits, on long inputs only.  Then invariants every kernel keeps:
# scores in [0, 1], f(x, x) = 1 for similarities and 0 for distances,
# symmetry, levenshtein >= osa_distance >= damerau_levenshtein >= 0, the
# bounded levenshtein, idempotent normalisers, NULL in gives NULL out.
#
# The strings come from a fixed seed, printed at the start; set PG_CDP_SEED
# to replay another run.

use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode ();

use CdpReference qw(u seed_random);


my $seed = seed_random(20260315);

# ---- random strings ----

# Character classes, as lists of [first, last] code points.
my %classes = (
	lower => [ [ 0x61, 0x7a ] ],
	upper => [ [ 0x41, 0x5a ] ],
	digit => [ [ 0x30, 0x39 ] ],
	punct =>
	  [ [ 0x21, 0x2f ], [ 0x3a, 0x40 ], [ 0x5b, 0x60 ], [ 0x7b, 0x7e ] ],
	space     => [ [ 0x20, 0x20 ], [ 0x09, 0x0d ] ],
	control   => [ [ 0x01, 0x08 ], [ 0x0e, 0x1f ], [ 0x7f, 0x9f ] ],
	combining => [ [ 0x300, 0x36f ], [ 0x20d0, 0x20f0 ] ],
	accented  => [ [ 0xc0, 0xff ], [ 0x100, 0x17f ], [ 0x1e00, 0x1eff ] ],
	greek_cyr => [ [ 0x391, 0x3c9 ], [ 0x410, 0x44f ] ],
	rtl       => [
		[ 0x5d0,  0x5ea ],
		[ 0x621,  0x64a ],
		[ 0x660,  0x669 ],
		[ 0x200e, 0x200f ],
		[ 0x202a, 0x202e ] ],
	cjk => [
		[ 0x4e00, 0x9fff ],
		[ 0x3041, 0x3096 ],
		[ 0xac00, 0xd7a3 ],
		[ 0xff01, 0xff5e ],
		[ 0x3000, 0x3003 ] ],
	emoji => [
		[ 0x1f300, 0x1f64f ],
		[ 0x1f900, 0x1f9ff ],
		[ 0x1f3fb, 0x1f3ff ],
		[ 0x1f1e6, 0x1f1ff ],
		[ 0x200d,  0x200d ],
		[ 0xfe0f,  0xfe0f ] ],
	special => [
		[ 0xa0,     0xbf ],
		[ 0x2000,   0x200b ],
		[ 0x2028,   0x202f ],
		[ 0xfeff,   0xfeff ],
		[ 0xfb00,   0xfb06 ],
		[ 0x2160,   0x2188 ],
		[ 0x2070,   0x2079 ],
		[ 0x2460,   0x2473 ],
		[ 0xfffd,   0xffff ],
		[ 0xe000,   0xe010 ],
		[ 0x1d400,  0x1d433 ],
		[ 0x10fffd, 0x10ffff ],
		[ 0x130,    0x131 ],
		[ 0x1e9e,   0x1e9e ] ],);
my @class_names = sort keys %classes;

# One random character of class $name.
sub random_char
{
	my ($name) = @_;
	my $ranges = $classes{$name};
	my ($lo, $hi) = @{ $ranges->[ int rand @$ranges ] };
	return chr($lo + int rand($hi - $lo + 1));
}

# One element of a list, at random.
sub pick
{
	return $_[ int rand @_ ];
}

# Strings shaped like the values the normalisers expect, to reach deep
# into their parsers.
my @first = qw(John Mary José Zoë Åsa Łukasz Björn Siobhán Nguyễn 李 Ōta);
my @last  = (
	"O'Brien",    'Smith-Jones', 'Müller', 'van der Berg',
	'de la Cruz', 'Ñúñez',       'Straße', 'MacDonald',
	'王',          'Çelik',       "D'Angelo");
my @titles =
  ('Dr.', 'Mr', 'Mrs.', 'Ms', 'Prof.', 'Sir', 'Herr', 'Mme', 'Sra.', 'Rev');
my @suffix = ('Jr.', 'Sr', 'II', 'III', 'IV', 'PhD', 'M.D.', 'Esq.');
my @street = (
	'Street',    'St.',       'Avenue', 'ave',
	'Rd',        'Boulevard', 'Lane',   'Hauptstraße',
	'Hauptstr.', 'Pkwy',      'Court',  'Place');
my @dir = ('N.', 'north', 'SE', 'Southwest', 'W', '');
my @unit =
  ('Apt 4', '#12', 'Suite 300', 'Ste. B', 'Floor 2', 'Bldg 7', 'Rm 1');
my @legal = (
	'Inc.',          'LLC',  'Ltd',     'GmbH',
	'GmbH & Co. KG', 'S.A.', 'S.p.A.',  'B.V.',
	'plc',           'Corp', 'Company', 'Pty Ltd',
	'AG',            'Oy');
my @numw = (
	'twenty-one', 'third',    'XIII',        'VIII',
	'3rd',        '21st',     'one hundred', 'II',
	'MIX',        'nineteen', 'zero',        'thirtieth',
	'XXXIX');

# A random string shaped like some kind of customer data.
sub shaped
{
	my $k = int rand 6;
	if ($k == 0)    # email
	{
		my $local = join '',
		  map { random_char(pick('lower', 'lower', 'digit', 'upper')) }
		  1 .. 1 + int rand 12;
		$local .= pick('', '.x', '+tag', '-x', '..', '+');
		my $domain = pick(
			'gmail.com',    'GoogleMail.com',
			'outlook.com',  'hotmail.co.uk',
			'icloud.com',   'proton.me',
			'yahoo.com',    'exämple.de',
			'例え.jp',        'a-b.c',
			'-bad.com',     'x.y',
			'example..com', 'localhost',
			'fastmail.fm');
		my $e = "$local\@$domain";
		$e = pick($e, $e, "Name <$e>", "mailto:$e", " $e ", "$e\@x", uc $e);
		return $e;
	}
	if ($k == 1)    # phone
	{
		my $p = pick('+', '00', '011', '', '', '0', '+44 (0)', '1-', '8~10');
		$p .= join pick(' ', '-', '.', '/', ''), map {
			join '',
			  map { random_char('digit') }
			  1 .. 1 +
			  int rand 4
		} 1 .. 1 + int rand 5;
		$p .= pick(
			'',             '',     ' ext. 123', ' x12',
			';ext=9',       ' #44', 'FLOWERS',   ' poste 12',
			' extension 7', ')',    '(');
		return $p;
	}
	if ($k == 2)    # person's name
	{
		my $n = join ' ', grep { length } (rand() < 0.3 ? pick(@titles) : ''),
		  pick(@first), pick(@last), (rand() < 0.3 ? pick(@suffix) : '');
		$n =
			pick(@last) . ', '
		  . pick(@first)
		  . (rand() < 0.5 ? ' ' . pick(@suffix) : '')
		  if rand() < 0.3;
		return $n;
	}
	if ($k == 3)    # address
	{
		return join ' ', grep { length } int(rand 9999), pick(@dir),
		  pick(@first, @numw), pick(@street),
		  (rand() < 0.5 ? pick(@unit) : '');
	}
	if ($k == 4)    # company
	{
		return join ' ', grep { length } (rand() < 0.2 ? 'The' : ''),
		  pick(@last),
		  (rand() < 0.3 ? '&' : ''), (rand() < 0.8 ? pick(@legal) : '');
	}
	return join ' ',
	  map { pick(@numw, @first) } 1 .. 1 + int rand 5;    # numerals
}

# A random string of 0 to 500 characters: runs from random classes, shaped
# values, and now and then a long run of one character.
sub random_string
{
	my $max = pick(0, 3, 10, 30, 30, 60, 100, 500);
	my $s   = '';
	while (length($s) < $max)
	{
		my $r = rand;
		if ($r < 0.25)
		{
			$s .= shaped();
		}
		elsif ($r < 0.30)
		{
			$s .= random_char(pick(@class_names)) x (1 + int rand 500);
		}
		else
		{
			my $class = pick(@class_names);
			$s .= random_char($class) for 1 .. 1 + int rand 12;
		}
		last if rand() < 0.2;
	}
	return length($s) > 500 ? substr($s, 0, int rand 501) : $s;
}

my @strings = (
	'',           ' ',       "\t\n",     '.',
	'@',          '+',       '0',        '00',
	'0000000000', 'x',       'é',        "e\x{301}",
	'中',          '😀',       "\x{200d}", "\x{feff}",
	"\x{10ffff}", 'Dr',      'Mr Jr',    'The Company',
	'Inc.',       '+1',      'n/a',      'unknown',
	'a' x 500,    '9' x 500, '-' x 500,  '😀' x 500,
	"\x{301}" x 500);
push @strings, shaped() for 1 .. 600;
push @strings, random_string() while @strings < 3000;

# A few of 100 KB: mixed text, digits, one multibyte character, a phone
# number pattern.
my @huge = (
	join('', map { random_char(pick(@class_names)) } 1 .. 60000),
	'1' x 100000,
	'é' x 50000,
	'+1 (415) 555-0123 ' x 5500,
	('Jean-Pierre de la Fontaine, Jr. ' x 3200));

# ---- per-row argument values ----
#
# Every row has: a and b (text), and for the non-text arguments a value and
# whether it is valid (an invalid one may be refused with 22023).

my @valid_regions = qw(US GB DE FR IT JP AU BR IN CA ZA us uk De);
my @bad_regions   = ('XX', '', 'USA', 'U', '1', 'ÜS', 'gb ');
my @valid_options = qw(whitespace symbols lowercase unicode numerals);

my @rows;
for my $i (0 .. $#strings + @huge)
{
	my $a = $i <= $#strings ? $strings[$i] : $huge[ $i - @strings ];
	# b: a random other string; for the huge ones a short one, or once a
	# string of 2,000 characters (two huge ones would take seconds in the
	# quadratic kernels, osa_distance and token_similarity, which is not what
	# this test is about).
	my $b =
	  $i > $#strings
	  ? (
		$i == $#strings + 1
		? substr($huge[3], 0, 2000)
		: $strings[ int rand @strings ])
	  : rand() < 0.1 ? $a
	  :                $strings[ int rand @strings ];

	my ($region, $region_ok) =
	  rand() < 0.85 ? (pick(@valid_regions), 1) : (pick(@bad_regions, $b), 0);

	my @opts    = grep { rand() < 0.5 } @valid_options;
	my $opts_ok = 1;
	if (rand() < 0.1)
	{
		push @opts, pick('bogus', 'LOWERCASE', '', 'unicode ', 'numeral');
		$opts_ok = 0;
	}
	for my $k (reverse 1 .. $#opts)    # shuffle
	{
		my $l = int rand($k + 1);
		@opts[ $k, $l ] = @opts[ $l, $k ];
	}
	my $opts = '{' . join(',', map { '"' . $_ . '"' } @opts) . '}';

	my $int   = pick(-1,  0,    1,   2,   3,    5, 10, 64, 1000, 2147483647);
	my $float = pick(0,   0.05, 0.1, 0.2, 0.25, -0.1, 0.3, 1);
	my $bool  = pick('t', 'f');

	push @rows,
	  [ $i,    $a, $b, $region, $region_ok ? 't' : 'f',
		$opts, $opts_ok ? 't' : 'f',
		$int,  $float, $bool ];
}

# ---- the server ----

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$ENV{PGCLIENTENCODING} = 'UTF8';
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

my $file = "$PostgreSQL::Test::Utils::tmp_check/fuzz.copy";
open my $fh, '>:encoding(UTF-8)', $file or die "cannot write $file: $!";
for my $r (@rows)
{
	print $fh join("\t", map { CdpReference::copy_escape($_) } @$r), "\n";
}
close $fh;
(my $file_sql = $file) =~ s/'/''/g;
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE fuzz (id int PRIMARY KEY, a text, b text,
		region text, region_ok bool, opts text[], opts_ok bool,
		i int, f float8, bo bool);
	COPY fuzz FROM '$file_sql' WITH (ENCODING 'UTF8');
	CREATE TABLE fuzz_errors (fn text, id int, state text, msg text,
		allowed bool);
});
my $longest = 0;
for (@rows) { $longest = length($_->[1]) if length($_->[1]) > $longest; }
is( $node->safe_psql('postgres', 'SELECT count(*), max(length(a)) FROM fuzz'),
	scalar(@rows) . "|$longest",
	'the random strings arrived intact');

# ---- the functions ----

my $catalog = $node->safe_psql(
	'postgres', q{
	SELECT p.proname, p.oid::regprocedure, p.pronargs, p.pronargdefaults,
	       array_to_string(ARRAY(SELECT format_type(t, NULL)
	                             FROM unnest(p.proargtypes) t), ','),
	       array_to_string(coalesce(p.proargnames, '{}'), ','),
	       format_type(p.prorettype, NULL)
	  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname = 'cdp' AND p.prokind = 'f'
	   AND 'text'::regtype = ANY (p.proargtypes)
	   AND p.provolatile IN ('i', 's') AND p.proname !~ '^_'
	   -- the measure language answers most random text with a syntax
	   -- error (42601); 012_dsl_fuzz.pl fuzzes it with its own rules
	   AND p.proname NOT IN ('parse_expression', 'segment_sql', 'segment_members', 'estimate_segment',
	                       'template_check', 'template_paths', 'template_coupons', 'coupon_code',
	                       'journey_stats', 'journey_funnel', 'render_template', 'customer_card')
	 ORDER BY 1, 2});

my %have;     # proname -> list of { sig, types, args, ret }
my %sig;      # regprocedure text, like cdp.levenshtein(text,text,integer)
my @calls;    # [ label, SQL call expression on row r, allowed expression ]
for my $line (split /\n/, $catalog)
{
	my ($name, $regproc, $nargs, $ndefaults, $types, $argnames, $rettype) =
	  split /\|/, $line;
	my @types = split /,/, $types;
	my @names = split /,/, $argnames;
	my (@args, @invalid);
	my $text_seen = 0;
	my $usable    = 1;
	for my $k (0 .. $#types)
	{
		my ($t, $n) = ($types[$k], $names[$k] // '');
		if ($t eq 'text' && $n =~ /region|country/)
		{
			push @args,    'r.region';
			push @invalid, 'NOT r.region_ok';
		}
		elsif ($t eq 'text')
		{
			push @args,    $text_seen++ ? 'r.b' : 'r.a';
			push @invalid, undef;
		}
		elsif ($t eq 'text[]')
		{
			push @args,    'r.opts';
			push @invalid, 'NOT r.opts_ok';
		}
		elsif ($t eq 'integer' || $t eq 'bigint' || $t eq 'smallint')
		{
			push @args,    "r.i::$t";
			push @invalid, 'r.i < 0';
		}
		elsif ($t eq 'double precision' || $t eq 'real' || $t eq 'numeric')
		{
			push @args,    "r.f::$t";
			push @invalid, 'r.f NOT BETWEEN 0 AND 0.25';
		}
		elsif ($t eq 'boolean')
		{
			push @args,    'r.bo';
			push @invalid, undef;
		}
		else
		{
			$usable = 0;
		}
	}
	unless ($usable)
	{
		note
		  "not fuzzed: $regproc (an argument type the test cannot make up)";
		next;
	}
	$sig{$regproc} = 1;
	push @{ $have{$name} },
	  { sig => $regproc, types => \@types, args => \@args, ret => $rettype };

	# With the required arguments only, then with all of them.
	my @shapes = ($nargs - $ndefaults .. $nargs);
	@shapes = ($nargs) if $ndefaults == 0;
	for my $n (@shapes)
	{
		next if $n == 0;
		my @inv          = grep { defined } @invalid[ 0 .. $n - 1 ];
		my $allowed22023 = @inv ? join(' OR ', @inv) : 'false';
		my $allowed54000 =
		  $name eq 'damerau_levenshtein'
		  ? '(length(r.a)::float8 + 1) * (length(r.b) + 1) > 16777216'
		  : $name =~ /^(token|name)_similarity$/
		  ? 'least(length(r.a), length(r.b)) > 32'
		  : 'false';
		push @calls,
		  [ "cdp.$name("
			  . join(', ', map { s/^r\.//r } @args[ 0 .. $n - 1 ]) . ')',
			"cdp.$name(" . join(', ', @args[ 0 .. $n - 1 ]) . ')',
			"CASE SQLSTATE WHEN '22023' THEN $allowed22023"
			  . " WHEN '54000' THEN $allowed54000 ELSE false END" ];
	}
}
ok( scalar @calls,
	scalar(@calls)
	  . ' calls of '
	  . scalar(keys %have)
	  . ' functions to fuzz: '
	  . join(', ', sort keys %have));

# Each call over every row, in a PL/pgSQL loop that records the errors.
for my $c (@calls)
{
	my ($label, $call, $allowed) = @$c;
	(my $label_sql = $label) =~ s/'/''/g;
	my $start = time;
	my ($ret, $out, $err) = $node->psql(
		'postgres', qq{
		SET statement_timeout = '40s';
		DO \$fuzz\$
		DECLARE
			r fuzz;
		BEGIN
			FOR r IN SELECT * FROM fuzz ORDER BY id LOOP
				BEGIN
					PERFORM $call;
				EXCEPTION WHEN OTHERS THEN
					INSERT INTO fuzz_errors
					VALUES ('$label_sql', r.id, SQLSTATE, SQLERRM, $allowed);
				END;
			END LOOP;
		END
		\$fuzz\$;
	});
	my $secs = time - $start;
	ok($ret == 0, "$label: every row ran, no crash (${secs}s)")
	  or diag(u($err));
	# After a crash, wait for the server to be back before going on.
	$node->poll_query_until('postgres', 'SELECT 1', '1') if $ret != 0;
	note "$label took ${secs}s"                          if $secs > 5;
	my $bad = $node->safe_psql(
		'postgres', qq{
		SELECT count(*) FROM fuzz_errors WHERE fn = '$label_sql' AND NOT allowed});
	is($bad, 0, "$label: no unexpected error");
	if ($bad)
	{
		my $ex = $node->safe_psql(
			'postgres', qq{
			SELECT e.state || ': ' || e.msg || ' -- input id ' || e.id
			       || ': a = ' || quote_literal(left(f.a, 100))
			       || ' (' || length(f.a) || ' chars), b = '
			       || quote_literal(left(f.b, 60)) || ', region = '
			       || quote_literal(f.region) || ', opts = ' || f.opts::text
			       || ', i = ' || f.i || ', f = ' || f.f
			  FROM fuzz_errors e JOIN fuzz f USING (id)
			 WHERE fn = '$label_sql' AND NOT allowed
			 ORDER BY id LIMIT 3});
		diag("  $_") for split /\n/, $ex;
	}
	is($node->safe_psql('postgres', 'SELECT 1'),
		'1', "server up after $label");
}

my $allowed_errors = $node->safe_psql(
	'postgres', q{
	SELECT fn || ': ' || state || ' x' || count(*)
	  FROM fuzz_errors WHERE allowed GROUP BY fn, state ORDER BY 1});
note
"documented errors seen (on invalid arguments, or inputs beyond a size limit):";
note "  $_" for split /\n/, $allowed_errors;

# ---- invariants ----
#
# Over the ordinary strings, not the 100 KB ones (damerau_levenshtein(a, a)
# would be beyond its limit, and the quadratic kernels slow).  A row where a
# function refuses its input with its documented size limit (SQLSTATE 54000,
# program_limit_exceeded) is skipped; the loop above already checked which
# functions may do that.

# Count the ordinary rows where the SQL condition $violation (on a, b, i,
# region, region_ok) holds, show the first three, and pass when there is
# none.
sub invariant
{
	my ($title, $violation) = @_;
	my $n_strings = scalar @strings;
	my ($ret, $out, $err) = $node->psql(
		'postgres', qq{
		DO \$inv\$
		DECLARE
			id int;
			a text;
			b text;
			i int;
			region text;
			region_ok bool;
			bad int := 0;
			skipped int := 0;
		BEGIN
			FOR id, a, b, i, region, region_ok IN
				SELECT f.id, f.a, f.b, f.i, f.region, f.region_ok
				  FROM fuzz f WHERE f.id < $n_strings ORDER BY f.id
			LOOP
				BEGIN
					IF ($violation) THEN
						bad := bad + 1;
						IF bad <= 3 THEN
							RAISE NOTICE 'example: a = %, b = %, i = %',
								quote_literal(left(a, 80)), quote_literal(left(b, 80)), i;
						END IF;
					END IF;
				EXCEPTION WHEN program_limit_exceeded THEN
					skipped := skipped + 1;
				END;
			END LOOP;
			RAISE NOTICE 'violations: %, skipped: %', bad, skipped;
		END
		\$inv\$;
	});
	my ($bad, $skipped) = $err =~ /violations: (\d+), skipped: (\d+)/;
	if ($ret != 0 || !defined $bad)
	{
		fail($title);
		diag(u($err));
		return;
	}
	is($bad, 0,
		$title . ($skipped ? " ($skipped rows beyond a size limit)" : ''));
	diag(u("  $1")) while $err =~ /NOTICE:  (example: .*)/g;
}

my @similarities =
  grep { $have{$_} }
  qw(jaro jaro_winkler edit_similarity token_similarity
  name_similarity);
my @distances = grep { $have{$_} } qw(levenshtein osa_distance
  damerau_levenshtein);
my %symmetric = map { $_ => 1 }
  qw(levenshtein osa_distance damerau_levenshtein
  jaro jaro_winkler edit_similarity token_similarity name_similarity);

for my $f (@similarities)
{
	invariant("$f(a, b) is in [0, 1]",
		"NOT (cdp.$f(a, b) BETWEEN 0 AND 1) OR cdp.$f(a, b) IS NULL");
	invariant("$f(a, a) = 1", "cdp.$f(a, a) IS DISTINCT FROM 1");
}
for my $f (@distances)
{
	invariant("$f(a, a) = 0", "cdp.$f(a, a) IS DISTINCT FROM 0");
	invariant("$f(a, b) >= 0",
		"NOT (cdp.$f(a, b) >= 0) OR cdp.$f(a, b) IS NULL");
}
for my $f (grep { $symmetric{$_} } @similarities, @distances)
{
	invariant(
		"$f(a, b) = $f(b, a)",
		"abs(cdp.$f(a, b) - cdp.$f(b, a)) > 1e-12"
		  . " OR cdp.$f(a, b) IS NULL OR cdp.$f(b, a) IS NULL");
}
if ($sig{'cdp.jaro_winkler(text,text,double precision)'})
{
	invariant("jaro_winkler(a, b, 0.25) is in [0, 1]",
		"NOT (cdp.jaro_winkler(a, b, 0.25) BETWEEN 0 AND 1)");
	invariant("jaro_winkler(a, b, 0) = jaro(a, b)",
		"cdp.jaro_winkler(a, b, 0) IS DISTINCT FROM cdp.jaro(a, b)")
	  if $have{jaro};
	invariant(
		"jaro_winkler(a, b) >= jaro(a, b)",
		"cdp.jaro_winkler(a, b) < cdp.jaro(a, b)") if $have{jaro};
}
if ($have{levenshtein} && $have{osa_distance})
{
	invariant("levenshtein >= osa_distance",
		"cdp.levenshtein(a, b) < cdp.osa_distance(a, b)");
}
if ($have{osa_distance} && $have{damerau_levenshtein})
{
	invariant("osa_distance >= damerau_levenshtein",
		"cdp.osa_distance(a, b) < cdp.damerau_levenshtein(a, b)");
}
if ($have{levenshtein} && $sig{'cdp.levenshtein(text,text,integer)'})
{
	invariant(
		"levenshtein(a, b, k) = least(levenshtein(a, b), k + 1) for k >= 0",
		"i >= 0 AND cdp.levenshtein(a, b, i)"
		  . " IS DISTINCT FROM least(cdp.levenshtein(a, b), i::bigint + 1)");
}
if ($have{edit_similarity} && $have{levenshtein})
{
	invariant(
		"edit_similarity = 1 - levenshtein / max length",
"abs(cdp.edit_similarity(a, b) - CASE WHEN greatest(length(a), length(b)) = 0"
		  . " THEN 1 ELSE 1 - cdp.levenshtein(a, b)::float8"
		  . " / greatest(length(a), length(b)) END) > 1e-12");
}

# Normalisers, idempotent where they are documented to be.
for my $f (
	qw(normalize_text normalize_email normalize_name normalize_address
	normalize_org))
{
	next unless $have{$f};
	invariant("$f is idempotent",
		"cdp.$f(cdp.$f(a)) IS DISTINCT FROM cdp.$f(a)");
}
if ($have{normalize_phone})
{
	invariant(
		"normalize_phone of an E.164 result gives itself",
		"region_ok AND cdp.normalize_phone(a, region) IS NOT NULL AND"
		  . " cdp.normalize_phone(cdp.normalize_phone(a, region), region)"
		  . " IS DISTINCT FROM cdp.normalize_phone(a, region)");
	invariant(
		"normalize_phone results look like E.164",
"region_ok AND cdp.normalize_phone(a, region) !~ '^\\+[1-9][0-9]{1,14}\$'"
	);
}
if ($have{double_metaphone})
{
	invariant(
		"double_metaphone gives two codes of at most 4 characters",
		"cardinality(cdp.double_metaphone(a)) IS DISTINCT FROM 2"
		  . " OR array_position(cdp.double_metaphone(a), NULL) IS NOT NULL"
		  . " OR length((cdp.double_metaphone(a))[1]) > 4"
		  . " OR length((cdp.double_metaphone(a))[2]) > 4");
}

# NULL in, NULL out: every text argument of every function, in turn NULL
# (the others valid).
for my $name (sort keys %have)
{
	for my $fn (@{ $have{$name} })
	{
		my @types = @{ $fn->{types} };
		my @valid = map {
				$fn->{args}[$_] eq 'r.region' ? "'US'"
			  : $types[$_] eq 'text'          ? "'Ab 12'"
			  : $types[$_] eq 'text[]'        ? "'{lowercase}'::text[]"
			  : $types[$_] eq 'boolean'       ? 'true'
			  : $types[$_] =~ /int/           ? '2'
			  : '0.1'
		} 0 .. $#types;
		for my $k (grep { $types[$_] eq 'text' } 0 .. $#types)
		{
			my @a = @valid;
			$a[$k] = 'NULL::text';
			my $expr = "cdp.$name(" . join(', ', @a) . ')';
			my ($ret, $out, $err) =
			  $node->psql('postgres', "SELECT ($expr) IS NULL");
			is("$ret|$out", '0|t', "$expr is NULL")
			  or diag($err);
		}
	}
}

is($node->safe_psql('postgres', 'SELECT 1'),
	'1', 'server still up at the end');
$node->stop;
done_testing();
