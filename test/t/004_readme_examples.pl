# The README's examples are run and their results compared with what the
# README says: every line of an ```sql block of the form
#     SELECT ...;   -- result
# whose SELECT returns one column.  A parenthesised remark after the result
# ("-- 3 (= 2 + 1: more than 2)") is ignored; "NULL" means a NULL result.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $srcdir = $ENV{PG_CDP_SRCDIR} // '.';
open my $fh, '<:encoding(UTF-8)', "$srcdir/README.md" or die "README.md: $!";
my @examples;
my $in_sql = 0;
my $lineno = 0;
while (my $line = <$fh>)
{
	$lineno++;
	if ($line =~ /^```sql/) { $in_sql = 1; next; }
	if ($line =~ /^```/)    { $in_sql = 0; next; }
	next unless $in_sql;
	if ($line =~ /^(SELECT\s.*;)\s+--\s+(.*?)\s*$/)
	{
		my ($sql, $expected) = ($1, $2);
		$expected =~ s/\s+\(.*\)$//;
		push @examples, [ $lineno, $sql, $expected ];
	}
}
close $fh;
cmp_ok(scalar(@examples), '>=', 40, 'the README has examples with results');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

my @wrong;
for my $ex (@examples)
{
	my ($lineno, $sql, $expected) = @$ex;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET extra_float_digits = 0; $sql",
		extra_params => [ '-A', '-t', '-P', 'null=NULL' ]);
	if ($ret != 0)
	{
		push @wrong, "README line $lineno: $sql failed: $err";
		next;
	}
	utf8::decode($out);
	push @wrong, "README line $lineno: $sql gave '$out', the README says '$expected'"
	  if $out ne $expected;
}
is(scalar(@wrong), 0, 'every README example gives the result the README shows')
  or diag(join("\n", @wrong));

$node->stop;
done_testing();
