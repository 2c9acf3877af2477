# Delivery through libcurl (src/mail.c), seen through cdp._mail_send and
# cdp._mail_post against real local servers: test/smtp_server.py (aiosmtpd)
# plain, and with STARTTLS (a self-signed certificate made with openssl) and
# AUTH; test/http_sink.py for the HTTP e-mail API and webhooks.
# - a message with a UTF-8 subject and display name and HTML special
#   characters arrives once, with the right headers (Message-ID,
#   List-Unsubscribe, List-Unsubscribe-Post, encoded-words) and a
#   multipart/alternative body whose decoded parts equal what was sent;
# - classification: tempfail / bounce (bad_address, 5.1.1) / reject, an
#   overloaded server (.mode), a timeout, a server not listening, header
#   injection, STARTTLS with ca_file or verify_peer false, tls required
#   without STARTTLS, AUTH with the right and a wrong password;
# - one connection for many messages, and a transparent reconnect when the
#   server closes the connection after each message;
# - HTTP API 200 / 503 / 400 / 401 with the JSON body checked; a webhook.
use strict;
use warnings;
use utf8;
use Encode qw(decode encode_utf8);
use IPC::Run ();
use JSON::PP;
use MIME::QuotedPrint qw(decode_qp);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $src = $ENV{PG_CDP_SRCDIR} // '.';
my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my @servers;

# start_server: runs a test server script with its arguments and waits for
# its "ready" line; it is stopped at the end whatever happens
sub start_server
{
	my ($script, @args) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start([ '/usr/bin/python3', "$src/test/$script", @args ],
		\$in, \$out, \$err, IPC::Run::timeout(20));
	$h->pump until $out =~ /ready/ || !$h->pumpable;
	die "$script did not start: $err" unless $out =~ /ready/;
	push @servers, $h;
	return $h;
}

END
{
	for my $h (@servers)
	{
		eval { $h->signal('TERM'); $h->finish; 1 } or eval { $h->kill_kill };
	}
}

my $smtp_port = PostgreSQL::Test::Cluster::get_free_port();
my $tls_port = PostgreSQL::Test::Cluster::get_free_port();
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my $dead_port = PostgreSQL::Test::Cluster::get_free_port();
my ($smtp_dir, $tls_dir, $http_dir) = map { "$tmp/$_" } qw(smtp tls http);
mkdir $_ for ($smtp_dir, $tls_dir, $http_dir);

system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
	'-keyout', "$tmp/key.pem", '-out', "$tmp/cert.pem", '-days', '2',
	'-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
	'-loglevel', 'error') == 0 || system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
	'-keyout', "$tmp/key.pem", '-out', "$tmp/cert.pem", '-days', '2',
	'-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1') == 0
  or die "openssl could not make a certificate";

start_server('smtp_server.py', '--port', $smtp_port, '--dir', $smtp_dir,
	'--delay-ms', '1500');
start_server('smtp_server.py', '--port', $tls_port, '--dir', $tls_dir,
	'--tls-cert', "$tmp/cert.pem", '--tls-key', "$tmp/key.pem",
	'--auth', 'joe:s3cret');
start_server('http_sink.py', '--port', $http_port, '--dir', $http_dir);

my $node = PostgreSQL::Test::Cluster->new('mail');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cdp');

my $json = JSON::PP->new->utf8->canonical;

# send: cdp._mail_send(config, message) with Perl structures; the result
# as a hash (or an array of hashes when message is an array)
sub send_mail
{
	my ($config, $message) = @_;
	my $c = $json->encode($config);
	my $m = $json->encode($message);
	s/'/''/g for ($c, $m);
	my $r = $node->safe_psql('postgres', "SELECT cdp._mail_send('$c', '$m')");
	return $json->decode($r);
}

# stored: the files a server stored, sorted by name
sub stored
{
	my ($dir, $pattern) = @_;
	opendir(my $d, $dir) or die "$dir: $!";
	my @f = sort grep { /$pattern/ } readdir($d);
	closedir($d);
	return map { "$dir/$_" } @f;
}

sub slurp
{
	my ($path) = @_;
	open(my $f, '<:raw', $path) or die "$path: $!";
	local $/;
	return scalar <$f>;
}

# parse_entity: (headers hash with lower-case names, unfolded; body)
sub parse_entity
{
	my ($raw) = @_;
	my ($head, $body) = split /\r\n\r\n/, $raw, 2;
	$head =~ s/\r\n[ \t]+/ /g;
	my %h;
	for my $line (split /\r\n/, $head)
	{
		my ($n, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
		push @{ $h{ lc $n } }, $v;
	}
	return (\%h, $body // '');
}

my $smtp = { url => "smtp://127.0.0.1:$smtp_port" };
my $sessions = sub { my $s = eval { slurp("$smtp_dir/.sessions") } // 0; $s + 0 };

# ---- one rich message, checked in detail ----
my $text = "Hallo Jürgen,\nyour coupon: 20 % off — today only.\n.a line starting with a dot\n";
my $html = "<p>Hallo <b>Jürgen</b> &amp; friends: 5 &lt; 7 &gt; 3 \"quoted\" 'x' =3D</p>\n<p>日本語 🎉</p>";
my $subject = "Grüße aus Zürich — 20 % für dich 🎉";
my $r = send_mail(
	$smtp,
	{
		from => 'Café Ünïcode <news@shop.test>',
		to => 'juergen@example.test',
		subject => $subject,
		text => $text,
		html => $html,
		message_id => '<journey-1.42@shop.test>',
		list_unsubscribe => 'https://shop.test/unsubscribe?t=abc&u=42',
		headers => { 'X-Campaign' => 'spring-sale' }
	});
is($r->{status}, 'sent', 'the rich message is sent');
is("$r->{reply_code} $r->{enhanced}", '250 2.0.0', 'with the reply code and enhanced code of the last reply');
like($r->{detail}, qr/^250 2\.0\.0 Message accepted/, 'the detail is the server\'s last line');
my @files = stored($smtp_dir, qr/\.eml$/);
is(scalar @files, 1, 'exactly one message arrived');
my ($h, $body) = parse_entity(slurp($files[0]));
is($h->{'x-envelope-from'}[0], 'news@shop.test', 'envelope sender taken from From');
is($h->{'x-envelope-to'}[0], 'juergen@example.test', 'envelope recipient');
is($h->{'message-id'}[0], '<journey-1.42@shop.test>', 'Message-ID as given');
is($h->{'list-unsubscribe'}[0], '<https://shop.test/unsubscribe?t=abc&u=42>', 'List-Unsubscribe exact');
is($h->{'list-unsubscribe-post'}[0], 'List-Unsubscribe=One-Click', 'List-Unsubscribe-Post exact (RFC 8058)');
is($h->{'x-campaign'}[0], 'spring-sale', 'extra header');
is($h->{'mime-version'}[0], '1.0', 'MIME-Version');
is(scalar @{ $h->{subject} }, 1, 'one Subject header');
like($h->{subject}[0], qr/^=\?UTF-8\?B\?/, 'the UTF-8 subject is an encoded-word');
is(decode('MIME-Header', $h->{subject}[0]), $subject, 'the subject decodes to what was sent');
is(decode('MIME-Header', $h->{from}[0]), 'Café Ünïcode <news@shop.test>',
	'the From display name decodes to what was sent');
like($h->{date}[0], qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/,
	'an RFC 5322 Date');
my ($boundary) = $h->{'content-type'}[0] =~ /^multipart\/alternative;\s*boundary="?([^";]+)"?/;
ok(defined $boundary, 'the message is multipart/alternative');
my @parts = grep { $_ !~ /^(--)?\s*$/ } split /\r?\n?--\Q$boundary\E/, $body;
is(scalar @parts, 2, 'with two parts');
my %decoded;
for my $p (@parts)
{
	$p =~ s/^\r\n//;
	my ($ph, $pb) = parse_entity($p);
	my ($type) = $ph->{'content-type'}[0] =~ /^([^;]+)/;
	like($ph->{'content-type'}[0], qr/charset=utf-8/i, "$type has charset=utf-8");
	my $cte = lc($ph->{'content-transfer-encoding'}[0] // '');
	ok($cte eq 'quoted-printable' || $cte eq 'base64', "$type is $cte");
	my $d = $cte eq 'base64' ? MIME::Base64::decode_base64($pb) : decode_qp($pb);
	$d = decode('UTF-8', $d, Encode::FB_CROAK);
	$d =~ s/\r\n/\n/g;
	$decoded{$type} = $d;
}
is($decoded{'text/plain'}, $text, 'the decoded text part equals what was sent');
is($decoded{'text/html'}, $html, 'the decoded HTML part equals what was sent');

# ---- random subjects, display names and bodies read back exactly ----
# (ASCII, punctuation, digits, accented letters, CJK, emoji, "=?" and
# spaces at either end; lengths 0..300; one connection for all)
srand(20);
my @alphabet = (('a' .. 'z'), ('A' .. 'Z'), (0 .. 9), split(//, q{ !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~}),
	split(//, 'éèüößçñØÆłŁœ'), split(//, '日本語中文한국어'), "\x{1F389}", "\x{1F600}", '=?', '?=', "\t");
sub random_text
{
	my ($max) = @_;
	return join '', map { $alphabet[ int(rand(@alphabet)) ] } 1 .. int(rand($max + 1));
}
my @random = map {
	{
		from => random_text(40) =~ s/[<>"\\]//gr . " <fuzz$_\@shop.test>",
		to => "fuzz$_\@example.test",
		subject => random_text(300),
		text => random_text(300) . "\n" . random_text(100),
		html => '<p>' . random_text(300) . '</p>' }
} 1 .. 300;
my $rs = send_mail($smtp, \@random);
is(scalar(grep { $_->{status} eq 'sent' } @$rs), 300, '300 random messages are sent');
my %got;
for my $f (stored($smtp_dir, qr/\.eml$/))
{
	my ($fh, $fb) = parse_entity(slurp($f));
	my ($n) = $fh->{'x-envelope-to'}[0] =~ /^fuzz(\d+)\@/ or next;
	my ($b) = $fh->{'content-type'}[0] =~ /boundary="?([^";]+)"?/;
	my @p = grep { $_ !~ /^(--)?\s*$/ } split /\r?\n?--\Q$b\E/, $fb;
	my ($tp) = map { (parse_entity($_ =~ s/^\r\n//r))[1] } $p[0];
	$got{$n} = {
		subject => decode('MIME-Header', $fh->{subject}[0]),
		from => decode('MIME-Header', $fh->{from}[0]) =~ s/^"((?:[^"\\]|\\.)*)" </$1 </r =~ s/\\(.)(?=.* <)/$1/gr,
		text => decode('UTF-8', decode_qp($tp)) =~ s/\r\n/\n/gr };
}
my @bad = grep {
	my $w = $random[ $_ - 1 ];
	my $g = $got{$_} // {};
	my ($name, $addr) = $w->{from} =~ /^(.*)<([^<>]*)>$/s;
	$name =~ s/^ +| +$//g;
	($g->{subject} // '') ne $w->{subject} || ($g->{text} // '') ne $w->{text}
	  || ($g->{from} // '') ne ($name eq '' ? $addr : "$name <$addr>")
} 1 .. 300;
is(scalar(keys %got), 300, 'all 300 arrived');
is("@bad", '', 'every subject, From and text part decodes back to what was sent');
for my $i (@bad[0 .. ($#bad < 2 ? $#bad : 2)])
{
	diag(encode_utf8($json->encode({ want => $random[ $i - 1 ], got => $got{$i} })));
}

# ---- classification by the server's answers ----
my %expect = (
	'tempfail1@example.test' => [ 'tempfail', 451, '4.3.0', 0 ],
	'bounce1@example.test' => [ 'permfail', 550, '5.1.1', 1 ],
	'reject1@example.test' => [ 'permfail', 554, '5.7.1', 0 ],);
for my $to (sort keys %expect)
{
	$r = send_mail($smtp, { from => 'news@shop.test', to => $to, text => 'x' });
	is_deeply([ @$r{qw(status reply_code enhanced)}, $r->{bad_address} ? 1 : 0 ],
		$expect{$to}, "$to: @{$expect{$to}}[0..2], bad_address $expect{$to}[3]");
}
like(send_mail($smtp, { from => 'news@shop.test', to => 'bounce2@example.test', text => 'x' })->{detail},
	qr/^550 5\.1\.1 No such user/, 'the detail of a bounce is the server\'s reply line');

open(my $mode, '>', "$smtp_dir/.mode") or die;
print $mode "tempfail\n";
close($mode);
$r = send_mail($smtp, { from => 'news@shop.test', to => 'anyone@example.test', text => 'x' });
is("$r->{status} $r->{reply_code}", 'tempfail 451', 'an overloaded server (.mode tempfail) gives tempfail');
unlink("$smtp_dir/.mode");

$r = send_mail({ %$smtp, timeout_ms => 400 },
	{ from => 'news@shop.test', to => 'slow1@example.test', text => 'x' });
is($r->{status}, 'tempfail', 'a timeout after RCPT was sent is a tempfail');
like($r->{detail}, qr/timed out/i, 'and says it timed out');

$r = send_mail({ url => "smtp://127.0.0.1:$dead_port" },
	{ from => 'news@shop.test', to => 'a@example.test', text => 'x' });
is($r->{status}, 'channel_error', 'a server not listening is a channel error');
like($r->{detail}, qr/connect/i, 'and says it could not connect');

my $before = scalar stored($smtp_dir, qr/\.eml$/);
for my $case (
	[ 'subject', { subject => "Hi\r\nBcc: victim\@example.test" } ],
	[ 'subject LF', { subject => "Hi\nBcc: victim\@example.test" } ],
	[ 'from', { from => "news\@shop.test\r\nBcc: victim\@example.test" } ],
	[ 'to', { to => "a\@example.test\r\nBcc: victim\@example.test" } ],
	[ 'message_id', { message_id => "<x\@y>\nBcc: victim\@example.test" } ],
	[ 'list_unsubscribe', { list_unsubscribe => "https://x.test/\r\nBcc: v\@example.test" } ],
	[ 'two recipients', { to => 'a@example.test, b@example.test' } ],
	[ 'display name in to', { to => 'Anna <a@example.test>' } ])
{
	my ($what, $override) = @$case;
	$r = send_mail($smtp, { from => 'news@shop.test', to => 'a@example.test', text => 'x', %$override });
	is($r->{status}, 'permfail', "header injection refused: $what");
}
like($r->{detail}, qr/recipient is not one plausible/, 'the detail says why');
is(scalar stored($smtp_dir, qr/\.eml$/), $before, 'nothing was sent by the refused messages');

# ---- connection reuse and reconnect (an array sends through one mailer) ----
my $s0 = $sessions->();
my $t0 = time;
$rs = send_mail($smtp,
	[ map { { from => 'news@shop.test', to => "bulk$_\@example.test", subject => "n$_", text => "t$_" } } 1 .. 1000 ]);
my $secs = time - $t0;
is(scalar(grep { $_->{status} eq 'sent' } @$rs), 1000, '1000 messages through one mailer are all sent');
is($sessions->() - $s0, 1, 'over one SMTP connection');
note(sprintf('1000 messages in %.2f s: %.0f messages/s (one call, one connection)', $secs, 1000 / $secs));

open($mode, '>', "$smtp_dir/.mode") or die;
print $mode "close\n";
close($mode);
$s0 = $sessions->();
$rs = send_mail($smtp,
	[ map { { from => 'news@shop.test', to => "again$_\@example.test", text => 'x' } } 1 .. 4 ]);
is(join(',', map { $_->{status} } @$rs), 'sent,sent,sent,sent',
	'when the server closes the connection after each message, the next one reconnects');
is($sessions->() - $s0, 4, 'on four connections');
unlink("$smtp_dir/.mode");

# ---- STARTTLS and AUTH ----
my $msg = { from => 'news@shop.test', to => 'tls@example.test', text => 'over TLS' };
my $tls = { url => "smtp://127.0.0.1:$tls_port", tls => 'required', username => 'joe', password => 's3cret' };
$r = send_mail({ %$tls, ca_file => "$tmp/cert.pem" }, $msg);
is($r->{status}, 'sent', 'STARTTLS with the self-signed certificate as ca_file, AUTH with the right password');
$r = send_mail({ %$tls, verify_peer => JSON::PP::false }, $msg);
is($r->{status}, 'sent', 'STARTTLS with verify_peer false');
$r = send_mail($tls, $msg);
is($r->{status}, 'channel_error', 'an untrusted certificate is a channel error');
like($r->{detail}, qr/certificate/i, 'and says so');
$r = send_mail({ %$tls, ca_file => "$tmp/cert.pem", password => 'wrong' }, $msg);
is("$r->{status} $r->{reply_code}", 'channel_error 535', 'a wrong password is a channel error (535)');
$r = send_mail({ %$tls, ca_file => "$tmp/cert.pem", username => undef, password => undef }, $msg);
is("$r->{status} $r->{reply_code}", 'channel_error 530', 'no credentials where AUTH is required is a channel error (530)');
is(scalar stored($tls_dir, qr/\.eml$/), 2, 'the TLS server stored exactly the two accepted messages');
$r = send_mail({ %$smtp, tls => 'required' }, $msg);
is($r->{status}, 'channel_error', 'tls required against a server without STARTTLS is a channel error');

# ---- HTTP e-mail API and webhooks ----
my $api = { url => "http://127.0.0.1:$http_port/v1/send", headers => { Authorization => 'Bearer key-1' } };
my $m = {
	from => 'Café <news@shop.test>',
	to => 'api@example.test',
	subject => "Grüße \"quoted\" \\ back\tslash",
	text => "line1\nline2\x01",
	html => '<p>&amp; 日本</p>',
	message_id => '<api-1@shop.test>',
	list_unsubscribe => 'https://shop.test/u/1',
	headers => { 'X-Campaign' => 'c1' } };
$r = send_mail($api, $m);
is("$r->{status} $r->{reply_code}", 'sent 200', 'HTTP API 200 is sent');
like($r->{detail}, qr/"id"/, 'the detail is the response body');
my @reqs = stored($http_dir, qr/\.json$/);
is(scalar @reqs, 1, 'one request arrived');
my $req = $json->decode(slurp($reqs[0]));
is($req->{path}, '/v1/send', 'at the channel URL');
is($req->{headers}{'Content-Type'}, 'application/json', 'as application/json');
is($req->{headers}{Authorization}, 'Bearer key-1', 'with the channel\'s headers');
my $sent = JSON::PP->new->decode($req->{body});
my %want = (%$m);
delete $want{list_unsubscribe};
delete $want{headers};
is_deeply({ map { $_ => $sent->{$_} } grep { $_ ne 'headers' } keys %$sent },
	\%want, 'the JSON body has every field, escaped correctly');
is_deeply($sent->{headers}, {
	'List-Unsubscribe' => '<https://shop.test/u/1>',
	'List-Unsubscribe-Post' => 'List-Unsubscribe=One-Click',
	'X-Campaign' => 'c1' }, 'and the headers object');
for my $case ([ 503, 'tempfail' ], [ 429, 'tempfail' ], [ 400, 'permfail' ], [ 401, 'channel_error' ])
{
	$r = send_mail({ url => "http://127.0.0.1:$http_port/status/$case->[0]" }, $m);
	is("$r->{status} $r->{reply_code}", "$case->[1] $case->[0]", "HTTP $case->[0] is $case->[1]");
}
$r = send_mail({ url => "http://127.0.0.1:$dead_port/" }, $m);
is($r->{status}, 'channel_error', 'an HTTP API not listening is a channel error');

$r = $json->decode($node->safe_psql('postgres', encode_utf8(
	qq{SELECT cdp._mail_post('{"url": "smtp://127.0.0.1:$smtp_port", "headers": {"X-Signature": "s1"}}',
	                         'http://127.0.0.1:$http_port/hook', '{"event": "sent", "n": [1, 2], "s": "é"}')})));
is("$r->{status} $r->{reply_code}", 'sent 200', 'a webhook is posted');
@reqs = stored($http_dir, qr/\.json$/);
$req = $json->decode(slurp($reqs[-1]));
is($req->{path}, '/hook', 'to the URL given');
is($req->{headers}{'X-Signature'}, 's1', 'with the channel\'s headers');
is_deeply(JSON::PP->new->decode($req->{body}), { event => 'sent', n => [ 1, 2 ], s => 'é' },
	'with the JSON document');
$r = $json->decode($node->safe_psql('postgres',
	qq{SELECT cdp._mail_post('{"url": "http://127.0.0.1:$http_port/status/503"}', NULL, '[]')}));
is("$r->{status} $r->{reply_code}", 'tempfail 503', 'a webhook to the channel URL answering 503 is a tempfail');

$node->stop;
done_testing();
