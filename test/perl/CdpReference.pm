# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

=pod

=head1 NAME

CdpReference - slow, obvious reference implementations of pg_cdp's
string metrics, and helpers shared by pg_cdp's TAP tests

=head1 SYNOPSIS

  use utf8;
  use CdpReference;

  my $d = CdpReference::levenshtein('kitten', 'sitting');    # 3
  my $j = CdpReference::jaro_winkler('martha', 'marhta', 0.1);

=head1 DESCRIPTION

The C kernels of pg_cdp use bit-parallel algorithms, ASCII fast paths and
early exits.  This module is the second implementation the TAP tests
compare them against: textbook dynamic programming over Perl character
strings (call it on decoded text, with C<use utf8> in the caller), written
for clarity and not for speed.

Conventions (they are the ones pg_cdp documents):

=over

=item *

Distances count characters, never bytes.

=item *

C<osa_distance> is the restricted edit distance (optimal string alignment):
insertions, deletions, substitutions and transpositions of two adjacent
characters, where no substring is edited more than once.

=item *

C<damerau_levenshtein> is the unrestricted distance, computed with the
Lowrance-Wagner recurrence.

=item *

Jaro follows Winkler's reference: match window
C<max(floor(max(|a|,|b|)/2) - 1, 0)>; each character of a is matched to the
first still unmatched equal character of b inside the window; the
transpositions are the matched positions where the two sequences of
matched characters differ, halved with integer division; two empty
strings score 1, exactly one empty string 0.

=item *

Jaro-Winkler adds C<l * p * (1 - jaro)> with C<l> the common prefix length,
at most 4, and only when jaro is above 0.7.

=back

=cut

package CdpReference;

use strict;
use Encode ();
use Test::More ();
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(u seed_random levenshtein levenshtein_bounded osa_distance
  damerau_levenshtein jaro jaro_winkler edit_similarity
  copy_escape read_csv);

# Smaller of a list of numbers.
sub _min
{
	my $m = shift;
	for (@_) { $m = $_ if $_ < $m; }
	return $m;
}

=pod

=head1 FUNCTIONS

=over

=item levenshtein(a, b)

The Levenshtein distance of two character strings: the least number of
single-character insertions, deletions and substitutions that turn a into
b.  Plain Wagner-Fischer dynamic programming, two rows.

=cut

sub levenshtein
{
	my ($a, $b) = @_;
	my @a    = split //, $a;
	my @b    = split //, $b;
	my @prev = (0 .. scalar @b);

	for my $i (1 .. scalar @a)
	{
		my @cur = ($i);
		for my $j (1 .. scalar @b)
		{
			my $cost = $a[ $i - 1 ] eq $b[ $j - 1 ] ? 0 : 1;
			$cur[$j] = _min(
				$prev[$j] + 1,         # delete a[i]
				$cur[ $j - 1 ] + 1,    # insert b[j]
				$prev[ $j - 1 ] + $cost);    # substitute or keep
		}
		@prev = @cur;
	}
	return $prev[ scalar @b ];
}

=pod

=item levenshtein_bounded(a, b, k)

What a Levenshtein function with a maximum distance k returns: the
distance when it is at most k, otherwise k + 1.

=cut

sub levenshtein_bounded
{
	my ($a, $b, $k) = @_;
	my $d = levenshtein($a, $b);
	return $d <= $k ? $d : $k + 1;
}

=pod

=item osa_distance(a, b)

The optimal string alignment (restricted Damerau-Levenshtein) distance:
Levenshtein plus the transposition of two adjacent characters, with no
substring edited more than once ('CA' to 'ABC' is 3).

=cut

sub osa_distance
{
	my ($a, $b) = @_;
	my @a = split //, $a;
	my @b = split //, $b;
	my ($la, $lb) = (scalar @a, scalar @b);
	my @d;

	$d[$_][0] = $_ for 0 .. $la;
	$d[0][$_] = $_ for 0 .. $lb;
	for my $i (1 .. $la)
	{
		for my $j (1 .. $lb)
		{
			my $cost = $a[ $i - 1 ] eq $b[ $j - 1 ] ? 0 : 1;
			my $v    = _min(
				$d[ $i - 1 ][$j] + 1,
				$d[$i][ $j - 1 ] + 1,
				$d[ $i - 1 ][ $j - 1 ] + $cost);
			if (   $i > 1
				&& $j > 1
				&& $a[ $i - 1 ] eq $b[ $j - 2 ]
				&& $a[ $i - 2 ] eq $b[ $j - 1 ])
			{
				$v = _min($v, $d[ $i - 2 ][ $j - 2 ] + 1);
			}
			$d[$i][$j] = $v;
		}
	}
	return $d[$la][$lb];
}

=pod

=item damerau_levenshtein(a, b)

The unrestricted Damerau-Levenshtein distance (insertions, deletions,
substitutions and adjacent transpositions, where a transposed pair may be
edited again: 'CA' to 'ABC' is 2), by the Lowrance-Wagner algorithm.  The
matrix is shifted by one so that row and column 0 hold the "infinite"
sentinel.

=cut

sub damerau_levenshtein
{
	my ($a, $b) = @_;
	my @a = split //, $a;
	my @b = split //, $b;
	my ($la, $lb) = (scalar @a, scalar @b);
	my $inf = $la + $lb;
	my %last_row;    # character -> last row (1-based) of a holding it
	my @h;

	$h[0][0] = $inf;
	for my $i (0 .. $la)
	{
		$h[ $i + 1 ][0] = $inf;
		$h[ $i + 1 ][1] = $i;
	}
	for my $j (0 .. $lb)
	{
		$h[0][ $j + 1 ] = $inf;
		$h[1][ $j + 1 ] = $j;
	}

	for my $i (1 .. $la)
	{
		my $last_col = 0;    # last column of this row where a[i] = b[j]
		for my $j (1 .. $lb)
		{
			my $i1   = $last_row{ $b[ $j - 1 ] } // 0;
			my $j1   = $last_col;
			my $cost = 1;
			if ($a[ $i - 1 ] eq $b[ $j - 1 ])
			{
				$cost     = 0;
				$last_col = $j;
			}
			$h[ $i + 1 ][ $j + 1 ] = _min(
				$h[$i][$j] + $cost,
				$h[ $i + 1 ][$j] + 1,
				$h[$i][ $j + 1 ] + 1,
				$h[$i1][$j1] + ($i - $i1 - 1) + 1 + ($j - $j1 - 1));
		}
		$last_row{ $a[ $i - 1 ] } = $i;
	}
	return $h[ $la + 1 ][ $lb + 1 ];
}

=pod

=item jaro(a, b)

The Jaro similarity with the conventions above, in [0, 1].

=cut

sub jaro
{
	my ($a, $b) = @_;
	my @a = split //, $a;
	my @b = split //, $b;
	my ($la, $lb) = (scalar @a, scalar @b);

	return 1.0 if $la == 0 && $lb == 0;
	return 0.0 if $la == 0 || $lb == 0;

	my $window = int(($la > $lb ? $la : $lb) / 2) - 1;
	$window = 0 if $window < 0;

	my (@a_matched, @b_matched);
	my $m = 0;
	for my $i (0 .. $la - 1)
	{
		my $lo = $i - $window;
		$lo = 0 if $lo < 0;
		my $hi = $i + $window;
		$hi = $lb - 1 if $hi > $lb - 1;
		for my $j ($lo .. $hi)
		{
			next if $b_matched[$j] || $a[$i] ne $b[$j];
			$a_matched[$i] = 1;
			$b_matched[$j] = 1;
			$m++;
			last;
		}
	}
	return 0.0 if $m == 0;

	# Walk the matched characters of both strings in order.
	my $half = 0;
	my $k    = 0;
	for my $i (0 .. $la - 1)
	{
		next unless $a_matched[$i];
		$k++ until $b_matched[$k];
		$half++ if $a[$i] ne $b[$k];
		$k++;
	}
	my $t = int($half / 2);

	return ($m / $la + $m / $lb + ($m - $t) / $m) / 3.0;
}

=pod

=item jaro_winkler(a, b, prefix_scale)

The Jaro-Winkler similarity: jaro + l * prefix_scale * (1 - jaro) when
jaro > 0.7, with l the length of the common prefix counted up to 4
characters; plain jaro otherwise.  prefix_scale defaults to 0.1.

=cut

sub jaro_winkler
{
	my ($a, $b, $p) = @_;
	$p //= 0.1;
	my $j = jaro($a, $b);
	return $j unless $j > 0.7;

	my $l = 0;
	while ($l < 4
		&& $l < length($a)
		&& $l < length($b)
		&& substr($a, $l, 1) eq substr($b, $l, 1))
	{
		$l++;
	}
	return $j + $l * $p * (1.0 - $j);
}

=pod

=item edit_similarity(a, b)

1 - levenshtein(a, b) / max(|a|, |b|), and 1 for two empty strings.

=cut

sub edit_similarity
{
	my ($a, $b) = @_;
	my $n = length($a) > length($b) ? length($a) : length($b);
	return 1.0 if $n == 0;
	return 1.0 - levenshtein($a, $b) / $n;
}

=pod

=item copy_escape(s)

The string written as a field of COPY's text format: backslash, tab,
newline and carriage return escaped.  (NUL cannot be stored in text and
must not be passed.)

=cut

=head2 u(@strings)

The strings joined and encoded as UTF-8 bytes, for test names and
diagnostics (the test output goes through a handle that takes bytes).

=cut

sub u
{
	return Encode::encode('UTF-8', join('', @_));
}

=head2 seed_random($default)

Seed Perl's generator with $ENV{PG_CDP_SEED} or $default, say which, and
return the seed, so that a failing run can be replayed.

=cut

sub seed_random
{
	my ($default) = @_;
	my $seed = $ENV{PG_CDP_SEED} // $default;
	srand($seed);
	Test::More::note("random seed $seed (set PG_CDP_SEED=$seed to replay)");
	return $seed;
}

sub copy_escape
{
	my ($s) = @_;
	$s =~ s/\\/\\\\/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\r/\\r/g;
	return $s;
}

=pod

=item read_csv(path)

The rows of a small UTF-8 CSV file (RFC 4180 quoting: fields in double
quotes may hold commas and doubled quotes; no newlines inside fields), as
a list of array references.

=cut

sub read_csv
{
	my ($path) = @_;
	my @rows;

	open my $fh, '<:encoding(UTF-8)', $path or die "cannot open $path: $!";
	while (my $line = <$fh>)
	{
		$line =~ s/\r?\n\z//;
		my @fields;
		my $pos = 0;
		while (1)
		{
			my $field;
			if (substr($line, $pos, 1) eq '"')
			{
				$line =~ /\G"((?:[^"]|"")*)"/gc
				  or die "$path: bad quoting in line $.";
				$field = $1;
				$field =~ s/""/"/g;
				$pos = pos($line);
			}
			else
			{
				my $end = index($line, ',', $pos);
				$end   = length($line) if $end < 0;
				$field = substr($line, $pos, $end - $pos);
				$pos   = $end;
			}
			push @fields, $field;
			last if $pos >= length($line);
			die "$path: expected a comma in line $."
			  unless substr($line, $pos, 1) eq ',';
			$pos++;
			pos($line) = $pos;
			if ($pos == length($line))
			{
				push @fields, '';
				last;
			}
		}
		push @rows, \@fields;
	}
	close $fh;
	return @rows;
}

=pod

=back

=cut

1;
