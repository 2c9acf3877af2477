# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

# 001_metrics_random.pl
#
# The distance and similarity kernels of pg_cdp against a second
# implementation: the plain dynamic-programming references of
# test/perl/CdpReference.pm, on thousands of random pairs of character
# strings.  The pairs come in classes chosen to reach every code path of the
# kernels: short strings over small alphabets (many matches and
# transpositions), ASCII and multibyte; lengths around 64 and 128 characters
# and exactly at 63, 64, 65, 127, 128, 129, where the kernels switch between
# bit-parallel algorithms (one machine word for patterns of up to 64
# characters, blocks of words or a dynamic program beyond); and a few long
# strings.  Levenshtein with a limit is checked with small limits (0-5, the
# banded algorithm) and big ones (6-500).  Every pair is checked in both argument orders.  Integers
# must agree exactly, floats to 1e-12.
#
# Then the published reference values of the jellyfish project
# (test/data/jellyfish/*.csv, MIT, rounded to 3 decimals) are checked, both
# against the Perl references and against the kernels.
#
# The random pairs come from a fixed seed, printed at the start; set
# PG_CDP_SEED to replay another run.

use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode ();

use CdpReference qw(u seed_random);

my $seed = seed_random(20260314);

# ---- the random pairs ----

my @ascii_letters = ('a' .. 'z', 'A' .. 'Z');
my @mixed         = (
	'a' .. 'h', 'é', 'è', 'ü', 'ß', 'ø', 'ñ', '中',
	'文',        '字', '😀', '🎉', 'Ж', 'я', 'ש');

# A random string of $len characters drawn from the list @$alphabet.
sub random_string
{
	my ($alphabet, $len) = @_;
	return join '', map { $alphabet->[ int rand @$alphabet ] } 1 .. $len;
}

# A random integer in [lo, hi].
sub between
{
	my ($lo, $hi) = @_;
	return $lo + int rand($hi - $lo + 1);
}

# $s after $n random edits (substitution, insertion, deletion, transposition
# of neighbours) with characters drawn from @$alphabet: a string close to $s,
# so that distances are small and Jaro scores high.
sub mutate
{
	my ($s, $alphabet, $n) = @_;
	my @c = split //, $s;
	for (1 .. $n)
	{
		my $op  = int rand 4;
		my $pos = int rand(@c + 1);
		my $ch  = $alphabet->[ int rand @$alphabet ];
		if ($op == 0 && $pos < @c)
		{
			$c[$pos] = $ch;
		}
		elsif ($op == 1)
		{
			splice @c, $pos, 0, $ch;
		}
		elsif ($op == 2 && $pos < @c)
		{
			splice @c, $pos, 1;
		}
		elsif ($op == 3 && $pos + 1 < @c)
		{
			@c[ $pos, $pos + 1 ] = @c[ $pos + 1, $pos ];
		}
	}
	return join '', @c;
}

my @pairs;    # [class, a, b], both orders

# Add the pair (a, b) and (b, a) to class $class.
sub add_pair
{
	my ($class, $a, $b) = @_;
	push @pairs, [ $class, $a, $b ], [ $class, $b, $a ];
}

# Short strings, 0-20 characters, over small alphabets.
my %short = (
	'short ab'             => [ 'a', 'b' ],
	'short abcd'           => [ 'a' .. 'd' ],
	'short multibyte'      => [ 'a', 'é', '中', '😀' ],
	'short case & accents' => [ 'a', 'A', 'á', 'Á', 'b' ]);
for my $class (sort keys %short)
{
	my $alphabet = $short{$class};
	for my $i (1 .. 800)
	{
		my $a = random_string($alphabet, between(0, 20));
		my $b =
		  $i % 2
		  ? random_string($alphabet, between(0, 20))
		  : mutate($a, $alphabet, between(0, 4));
		add_pair($class, $a, $b);
	}
}

# Around the word boundaries of the bit-parallel kernels: 60-70 and
# 120-135 characters, half independent strings, half near-copies.
for my $range ([ 60, 70, 100 ], [ 120, 135, 60 ])
{
	my ($lo, $hi, $count) = @$range;
	for my $kind (
		[ 'ASCII',      [ 'a' .. 'f' ] ],
		[ 'ASCII wide', \@ascii_letters ],
		[ 'multibyte',  \@mixed ])
	{
		my ($name, $alphabet) = @$kind;
		my $class = "$lo-$hi chars $name";
		for my $i (1 .. $count / 2)
		{
			my $a = random_string($alphabet, between($lo, $hi));
			my $b =
			  $i % 2
			  ? random_string($alphabet, between($lo, $hi))
			  : mutate($a, $alphabet, between(0, 12));
			add_pair($class, $a, $b);
		}
	}
}

# Exactly at the word sizes: 1, 63, 64, 65, 127, 128, 129 and 192
# characters, against a near-copy and against a random string of the same
# kind.
for my $len (1, 63, 64, 65, 127, 128, 129, 192)
{
	for my $alphabet ([ 'a' .. 'f' ], \@mixed)
	{
		my $a = random_string($alphabet, $len);
		add_pair('word sizes', $a, mutate($a, $alphabet, between(0, 6)));
		add_pair('word sizes', $a,
			random_string($alphabet, between($len - 2, $len + 2)));
	}
}

# A few long ones, 200-400 characters.
for my $i (1 .. 12)
{
	my $alphabet = $i % 3 ? \@ascii_letters : \@mixed;
	my $a        = random_string($alphabet, between(200, 400));
	my $b =
	  $i % 2
	  ? random_string($alphabet, between(200, 400))
	  : mutate($a, $alphabet, between(0, 30));
	add_pair('200-400 chars', $a, $b);
}

# Per pair: a small max_distance (0..5) and a big one (6..500).
for my $p (@pairs)
{
	push @$p, between(0, 5), between(6, 500);
}

# ---- the expected values, from the Perl references ----

my %expected;    # metric name -> [ value per pair ]
for my $i (0 .. $#pairs)
{
	my (undef, $a, $b, $k, $big) = @{ $pairs[$i] };
	my $lev = CdpReference::levenshtein($a, $b);
	my $n   = length($a) > length($b) ? length($a) : length($b);

	$expected{levenshtein}[$i]     = $lev;
	$expected{levenshtein_k}[$i]   = $lev <= $k   ? $lev : $k + 1;
	$expected{levenshtein_big}[$i] = $lev <= $big ? $lev : $big + 1;
	$expected{osa_distance}[$i]    = CdpReference::osa_distance($a, $b);
	$expected{damerau_levenshtein}[$i] =
	  CdpReference::damerau_levenshtein($a, $b);
	$expected{jaro}[$i]            = CdpReference::jaro($a, $b);
	$expected{jaro_winkler}[$i]    = CdpReference::jaro_winkler($a, $b, 0.1);
	$expected{jaro_winkler_02}[$i] = CdpReference::jaro_winkler($a, $b, 0.2);
	$expected{edit_similarity}[$i] = $n == 0 ? 1.0 : 1.0 - $lev / $n;
}

# ---- the server ----

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$ENV{PGCLIENTENCODING} = 'UTF8';
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

# The pairs go to the server through a file in COPY's text format, read
# as UTF-8 whatever the client: no quoting of the strings in SQL.
my $file = "$PostgreSQL::Test::Utils::tmp_check/pairs.copy";
open my $fh, '>:encoding(UTF-8)', $file or die "cannot write $file: $!";
for my $i (0 .. $#pairs)
{
	my ($class, $a, $b, $k, $big) = @{ $pairs[$i] };
	print $fh join("\t",
		$i,
		CdpReference::copy_escape($a),
		CdpReference::copy_escape($b),
		$k, $big),
	  "\n";
}
close $fh;
(my $file_sql = $file) =~ s/'/''/g;
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE pairs (id int PRIMARY KEY, a text, b text, k int, big int);
	COPY pairs FROM '$file_sql' WITH (ENCODING 'UTF8');
});
my $total_chars = 0;
$total_chars += length($_->[1]) + length($_->[2]) for @pairs;
is( $node->safe_psql(
		'postgres', 'SELECT count(*), sum(length(a) + length(b)) FROM pairs'),
	scalar(@pairs) . "|$total_chars",
	'the pairs arrived intact (same count and total length in characters)');

# The SQL expression of each metric, and whether it is an integer.
my @metrics = (
	[ levenshtein         => 'cdp.levenshtein(a, b)',         1 ],
	[ levenshtein_k       => 'cdp.levenshtein(a, b, k)',      1 ],
	[ levenshtein_big     => 'cdp.levenshtein(a, b, big)',    1 ],
	[ osa_distance        => 'cdp.osa_distance(a, b)',        1 ],
	[ damerau_levenshtein => 'cdp.damerau_levenshtein(a, b)', 1 ],
	[ jaro                => 'cdp.jaro(a, b)',                0 ],
	[ jaro_winkler        => 'cdp.jaro_winkler(a, b)',        0 ],
	[ jaro_winkler_02     => 'cdp.jaro_winkler(a, b, 0.2)',   0 ],
	[ edit_similarity     => 'cdp.edit_similarity(a, b)',     0 ],);

# A string for a diagnostic: quoted, with its length in characters.
sub show
{
	my ($s) = @_;
	my $shown = length($s) > 80 ? substr($s, 0, 77) . '...' : $s;
	return sprintf "'%s' (%d chars)", $shown, length($s);
}

my @classes;
{
	my %seen;
	@classes = grep { !$seen{$_}++ } map { $_->[0] } @pairs;
}

for my $m (@metrics)
{
	my ($name, $expr, $is_int) = @$m;

	my ($ret, $out, $err) = $node->psql('postgres',
		"SET extra_float_digits = 3; SELECT id, $expr FROM pairs ORDER BY id"
	);
	if ($ret != 0)
	{
		fail("$expr runs");
		diag($err);
		next;
	}

	my %actual;
	for my $line (split /\n/, $out)
	{
		my ($id, $v) = split /\|/, $line, 2;
		$actual{$id} = $v;
	}

	my (%bad, %count);
	for my $i (0 .. $#pairs)
	{
		my ($class, $a, $b, $k, $big) = @{ $pairs[$i] };
		my $want = $expected{$name}[$i];
		my $got  = $actual{$i};
		$count{$class}++;
		my $agree =
			 defined $got
		  && $got ne ''
		  && ($is_int ? $got == $want : abs($got - $want) <= 1e-12);
		next if $agree;
		push @{ $bad{$class} },
		  sprintf(
			"%s, %s%s: expected %s, got %s",
			show($a),
			show($b),
			(     $name eq 'levenshtein_k'   ? ", max_distance $k"
				: $name eq 'levenshtein_big' ? ", max_distance $big"
				:                              ''),
			$want,
			$got // 'nothing');
	}

	for my $class (@classes)
	{
		my $n = scalar @{ $bad{$class} // [] };
		is($n, 0, "$expr: $class ($count{$class} ordered pairs)");
		if ($n)
		{
			my @first = @{ $bad{$class} };
			splice @first, 3 if @first > 3;
			diag(u("  $_")) for @first;
		}
	}
}

# ---- published reference values (jellyfish) ----

my $datadir   = ($ENV{PG_CDP_SRCDIR} // '.') . '/test/data/jellyfish';
my %published = (
	'jaro_winkler.csv' => [
		'cdp.jaro_winkler(a, b)',
		sub { CdpReference::jaro_winkler($_[0], $_[1], 0.1) } ],
	'jaro_distance.csv' => [ 'cdp.jaro(a, b)', \&CdpReference::jaro ],
	'levenshtein.csv'   =>
	  [ 'cdp.levenshtein(a, b)', \&CdpReference::levenshtein ],
	'damerau_levenshtein.csv' => [
		'cdp.damerau_levenshtein(a, b)', \&CdpReference::damerau_levenshtein
	],);

# Every row of these files follows our conventions, so none is skipped
# (the one place where jellyfish differs, jaro of two empty strings, which
# it scores 0 and we score 1, has no row there).
for my $csv (sort keys %published)
{
	my ($expr, $ref) = @{ $published{$csv} };
	my @rows = CdpReference::read_csv("$datadir/$csv");
	ok(scalar @rows, "$csv has rows");

	# Rounded to 3 decimals as published.
	my $close = sub { abs($_[0] - $_[1]) <= 0.0005 + 1e-12 };

	my @ref_bad =
	  map {
		sprintf "%s, %s: published %s, reference %s",
		  show($_->[0]), show($_->[1]), $_->[2],
		  $ref->($_->[0], $_->[1])
	  }
	  grep { !$close->($ref->($_->[0], $_->[1]), $_->[2]) } @rows;
	is(scalar @ref_bad, 0, "$csv: the Perl reference agrees");
	diag(u("  $_")) for @ref_bad;

	# The kernel, through COPY like the random pairs.
	my $f = "$PostgreSQL::Test::Utils::tmp_check/$csv.copy";
	open my $out, '>:encoding(UTF-8)', $f or die "cannot write $f: $!";
	for my $i (0 .. $#rows)
	{
		print $out join("\t",
			$i,
			CdpReference::copy_escape($rows[$i][0]),
			CdpReference::copy_escape($rows[$i][1])),
		  "\n";
	}
	close $out;
	(my $f_sql = $f) =~ s/'/''/g;
	my ($ret, $res, $err) = $node->psql(
		'postgres', qq{
		SET extra_float_digits = 3;
		CREATE TEMP TABLE published (id int, a text, b text);
		COPY published FROM '$f_sql' WITH (ENCODING 'UTF8');
		SELECT id, $expr FROM published ORDER BY id;
	});
	if ($ret != 0)
	{
		fail("$csv: $expr runs");
		diag($err);
		next;
	}
	my %got = map { split /\|/, $_, 2 } split /\n/, $res;
	my @bad =
	  map {
		sprintf "%s, %s: published %s, got %s",
		  show($rows[$_][0]), show($rows[$_][1]), $rows[$_][2],
		  $got{$_} // 'nothing'
	  }
	  grep {
		!(     defined $got{$_}
			&& $got{$_} ne ''
			&& $close->($got{$_}, $rows[$_][2]))
	  } 0 .. $#rows;
	is(scalar @bad, 0, "$csv: $expr agrees with the published values");
	diag(u("  $_")) for @bad;
}

# A few cases worked out by hand, for the conventions themselves.
my @hand = (
	[ "cdp.osa_distance('CA', 'ABC')",              3 ],
	[ "cdp.damerau_levenshtein('CA', 'ABC')",       2 ],
	[ "cdp.levenshtein('café', 'cafe')",            1 ],
	[ "cdp.levenshtein('😀中', '中😀')",                2 ],
	[ "cdp.damerau_levenshtein('😀中', '中😀')",        1 ],
	[ "cdp.levenshtein('kitten', 'sitting', 2)",    3 ],
	[ "cdp.jaro('', '')",                           1 ],
	[ "cdp.jaro('', 'a')",                          0 ],
	[ "cdp.edit_similarity('', '')",                1 ],
	[ "cdp.edit_similarity('abcd', 'abce')",        0.75 ],
	[ "cdp.jaro_winkler('MARTHA', 'MARHTA') * 1e6", 961111.111111111 ],);
for my $h (@hand)
{
	my ($expr, $want) = @$h;
	my ($ret, $got, $err) =
	  $node->psql('postgres', Encode::encode('UTF-8', "SELECT $expr"));
	ok($ret == 0 && $got ne '' && abs($got - $want) <= 1e-6,
		u("$expr = $want"))
	  or diag("got '$got' $err");
}

ok($node->safe_psql('postgres', 'SELECT 1') eq '1', 'server still up');
$node->stop;
done_testing();
