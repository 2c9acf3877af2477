# Journeys end to end: a server with pg_cdp preloaded (the background
# worker), a real SMTP server (test/smtp_server.py, aiosmtpd) on loopback.
# - the issue's example journey (offer, wait, branch on a purchase since
#   entry, reminder, end): personalised e-mails arrive with the right headers,
#   HTML escaping of profile values, a recorded per-recipient coupon; the
#   customer who bought gets no reminder, the other one does;
# - consent checked before sending (false and NULL: no e-mail), a 5.1.1
#   bounce fails for good and suppresses the address, unsubscribe and
#   provider events, journey statistics and the funnel;
# - re-entry "never", the frequency cap across journeys;
# - retries: 451 replies, then the SMTP server down and back;
# - kill -9 of the worker during a 2,000-message batch loses nothing and
#   duplicates at most the one message in flight; a server restart resumes;
# - without preloading, publishing warns that the worker is not running.
use strict;
use warnings;
use utf8;
use Encode qw(decode);
use IPC::Run ();
use JSON::PP;
use MIME::QuotedPrint qw(decode_qp);
use MIME::Base64 qw(decode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);


my $src = $ENV{PG_CDP_SRCDIR} // '.';
my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my @servers;

# start_smtp: the test SMTP server on a port, storing into a directory
sub start_smtp
{
	my ($port, $dir) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ '/usr/bin/python3', "$src/test/smtp_server.py", '--port', $port, '--dir', $dir ],
		\$in, \$out, \$err, IPC::Run::timeout(600));
	$h->pump until $out =~ /ready/ || !$h->pumpable;
	die "smtp_server.py did not start: $err" unless $out =~ /ready/;
	push @servers, $h;
	return $h;
}

sub start_http
{
	my ($port, $dir) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ '/usr/bin/python3', "$src/test/http_sink.py", '--port', $port, '--dir', $dir ],
		\$in, \$out, \$err, IPC::Run::timeout(600));
	$h->pump until $out =~ /ready/ || !$h->pumpable;
	die "http_sink.py did not start: $err" unless $out =~ /ready/;
	push @servers, $h;
	return $h;
}

sub stop_smtp
{
	my ($h) = @_;
	eval { $h->signal('TERM'); $h->finish; 1 } or eval { $h->kill_kill };
	@servers = grep { $_ != $h } @servers;
}

END
{
	# a copy: stop_smtp takes each server out of @servers
	stop_smtp($_) for my @all = @servers;
}

# mails: the stored messages of a directory, parsed: headers (lower-case
# names, unfolded), decoded text and html parts
sub mails
{
	my ($dir) = @_;
	my @m;
	opendir(my $d, $dir) or die "$dir: $!";
	for my $f (sort grep { /^msg-\d+\.eml$/ } readdir $d)
	{
		open(my $fh, '<:raw', "$dir/$f") or die;
		local $/;
		my $raw = <$fh>;
		close $fh;
		my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
		$head =~ s/\r?\n[ \t]+/ /g;
		my %h;
		for (split /\r?\n/, $head)
		{
			my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
			$h{ lc $k } //= $v;
		}
		my %part;
		if (($h{'content-type'} // '') =~ /boundary="?([^";]+)"?/)
		{
			my $b = $1;
			for my $p (split /--\Q$b\E/, $body)
			{
				my ($ph, $pb) = split /\r?\n\r?\n/, $p, 2;
				next unless defined $pb && $ph =~ /content-type:\s*text\/(plain|html)/i;
				my $kind = lc $1;
				my $dec = $ph =~ /quoted-printable/i ? decode_qp($pb)
				  : $ph =~ /base64/i ? decode_base64($pb) : $pb;
				$part{$kind} = decode('UTF-8', $dec);
			}
		}
		else
		{
			my $dec = ($h{'content-transfer-encoding'} // '') =~ /quoted-printable/i ? decode_qp($body)
			  : ($h{'content-transfer-encoding'} // '') =~ /base64/i ? decode_base64($body) : $body;
			$part{ ($h{'content-type'} // '') =~ /html/i ? 'html' : 'plain' } = decode('UTF-8', $dec);
		}
		push @m, { file => $f, h => \%h, %part };
	}
	closedir $d;
	return @m;
}

# subject: a Subject header with RFC 2047 encoded-words decoded
sub subject
{
	my ($s) = @_;
	$s =~ s/\?=\s+=\?/?==?/g;
	$s =~ s/=\?UTF-8\?B\?([^?]*)\?=/decode('UTF-8', decode_base64($1))/gie;
	$s =~ s/=\?UTF-8\?Q\?([^?]*)\?=/my $q = $1; $q =~ tr{_}{ }; decode('UTF-8', decode_qp($q))/gie;
	return $s;
}

# wait_for: polls a query until it returns the expected value (30 s)
sub wait_for
{
	my ($node, $sql, $expected, $what, $limit) = @_;
	my $deadline = time + ($limit // 30);
	my $got;
	while (time < $deadline)
	{
		# errors are retried: the server may be restarting after a crash
		my ($ret, $out) = $node->psql('postgres', $sql);
		$got = $out;
		return pass($what) if $ret == 0 && $got eq $expected;
		usleep(100_000);
	}
	is($got, $expected, $what);
}

sub count_mails
{
	my ($dir) = @_;
	opendir(my $d, $dir) or die;
	my $n = grep { /^msg-\d+\.eml$/ } readdir $d;
	closedir $d;
	return $n;
}

my $smtp_port = PostgreSQL::Test::Cluster::get_free_port();
my $box = "$tmp/mailbox";
mkdir $box;
my $smtp = start_smtp($smtp_port, $box);

my $node = PostgreSQL::Test::Cluster->new('journeys');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
timezone = 'UTC'
shared_preload_libraries = 'pg_cdp'
cdp.database = 'postgres'
cdp.worker_naptime = 100
restart_after_crash = on
});
$node->start;

$node->safe_psql(
	'postgres', qq{
	SET client_min_messages = warning;
	CREATE EXTENSION pg_cdp;
	CREATE TABLE shop (id int PRIMARY KEY, first_name text, last_name text, email text, consent boolean, tz text);
	INSERT INTO shop VALUES
	  (1, 'Zoë', 'Durand', 'zoe\@example.test', true, 'Europe/Paris'),
	  (2, 'Bob & <Co>', 'Smith', 'bob\@example.test', true, NULL),
	  (3, 'Ann', 'Lee', 'ann\@example.test', false, NULL),
	  (4, 'Tom', 'Ray', 'bounce-tom\@example.test', true, NULL),
	  (5, 'Eve', 'Stone', 'eve\@example.test', NULL, NULL);
	SELECT cdp.add_source('shop', 'shop', 'id', '{"first_name": "first_name", "last_name": "last_name", "email": "email",
	  "email_consent": {"column": "consent", "type": "boolean"}, "time_zone": {"column": "tz", "type": "text"}}');
	SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
	CALL cdp.unify();
	CREATE TABLE orders (order_id int PRIMARY KEY, customer int, at timestamptz, amount numeric);
	SELECT cdp.add_activity('purchase', 'orders', 'at', '{"source": "shop", "column": "customer"}', '{"amount": "amount"}', 'purchase');
	SELECT cdp.create_segment('everyone', 'true');
	SELECT cdp.create_channel('mail', 'smtp://127.0.0.1:$smtp_port', '{"from": "Shop <news\@shop.test>", "tls": "none"}');
	SELECT cdp.create_template('coupon20', 'Hello {{ first_name | default: "there" }}, 20% off',
	  '<p>Hi {{ first_name }}, your code is <b>{{ coupon "SPRING20" }}</b></p>',
	  'Hi {{ first_name }}, your code: {{ coupon "SPRING20" }}');
	SELECT cdp.create_template('reminder', 'Still thinking, {{ first_name }}?', NULL, 'Reminder for {{ first_name }}');
	SELECT cdp.set_journey_setting('unsubscribe_url', '"https://shop.test/u?t={token}"');
	SELECT cdp.set_journey_setting('retry_base', '"1 second"');
	SELECT cdp.set_journey_setting('retry_max', '"2 seconds"');
});

# ---------------------------------------------------------------- the example journey
$node->safe_psql(
	'postgres', q{
	SELECT cdp.create_journey('welcome', '{"trigger": {"segment": "everyone", "members": "new"},
	   "steps": [
	     {"id": "offer",    "type": "email",  "template": "coupon20", "channel": "mail"},
	     {"id": "pause",    "type": "wait",   "duration": "3 seconds"},
	     {"id": "check",    "type": "branch", "if": "exists(purchase since entry)", "then": "done", "else": "reminder"},
	     {"id": "reminder", "type": "email",  "template": "reminder", "channel": "mail"},
	     {"id": "done",     "type": "end"}]}');
	SELECT cdp.publish_journey('welcome');
	SELECT * FROM cdp.refresh_segment('everyone');
});
wait_for($node, q{SELECT count(*) FROM cdp.message WHERE step = 'offer' AND state IN ('sent', 'failed', 'suppressed')},
	'5', 'the five offers are handled');
# Zoë buys right away: the branch after the wait must see it
$node->safe_psql('postgres', q{
	INSERT INTO orders VALUES (1, 1, now(), 42.50);
	CALL cdp.refresh_activities();
});
is( $node->safe_psql('postgres',
		q{SELECT string_agg(to_address || ':' || state || coalesce(':' || enhanced_code, '') || coalesce(':' || detail, ''), ' | ' ORDER BY to_address)
		    FROM cdp.message WHERE step = 'offer' AND state <> 'sent'}),
	'ann@example.test:suppressed:no e-mail consent | bounce-tom@example.test:failed:5.1.1:550 5.1.1 No such user here | eve@example.test:suppressed:no e-mail consent',
	'no consent (false and NULL) suppresses before sending; 5.1.1 fails for good');
is($node->safe_psql('postgres', q{SELECT reason FROM cdp.suppression WHERE address = 'bounce-tom@example.test'}),
	'bounce', 'the bounced address is suppressed');

my @offers = mails($box);
is(scalar(@offers), 2, 'two offers arrived (Zoe and Bob)');
my ($zoe) = grep { $_->{h}{'x-envelope-to'} eq 'zoe@example.test' } @offers;
my ($bob) = grep { $_->{h}{'x-envelope-to'} eq 'bob@example.test' } @offers;
ok($zoe && $bob, 'one each');
is(subject($zoe->{h}{subject}), 'Hello Zoë, 20% off', 'personalised UTF-8 subject');
my $row = $node->safe_psql('postgres',
	q{SELECT m.header_id || '|' || m.token || '|' || c.code FROM cdp.message m JOIN cdp.coupon c USING (message_id)
	   WHERE m.to_address = 'zoe@example.test' AND m.step = 'offer'});
my ($mid, $token, $code) = split /\|/, $row;
is($zoe->{h}{'message-id'}, $mid, 'Message-ID is the recorded one');
is($zoe->{h}{'list-unsubscribe'}, "<https://shop.test/u?t=$token>", 'List-Unsubscribe with the recipient token');
is($zoe->{h}{'list-unsubscribe-post'}, 'List-Unsubscribe=One-Click', 'List-Unsubscribe-Post (RFC 8058)');
like($code, qr/^SPRING20-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$/, 'a coupon code was recorded');
like($zoe->{plain}, qr/your code: \Q$code\E/, 'the text part carries the recorded coupon');
like($zoe->{html}, qr/<b>\Q$code\E<\/b>/, 'the HTML part too');
like($bob->{html}, qr/Hi Bob &amp; &lt;Co&gt;, your code/, 'profile values are HTML-escaped in the HTML part');
like($bob->{plain}, qr/Hi Bob & <Co>, your code/, 'and not in the text part');

# after the wait: Bob gets the reminder, Zoë (who bought) does not
wait_for($node, q{SELECT string_agg(state || ':' || coalesce(step, '-'), ',' ORDER BY customer_id) FROM cdp.journey_member},
	'completed:done,completed:done,completed:done,completed:done,completed:done', 'every member completes the journey at its end step', 30);
is( $node->safe_psql('postgres',
		q{SELECT string_agg(to_address || ':' || state, ',' ORDER BY to_address) FROM cdp.message WHERE step = 'reminder'}),
	'ann@example.test:suppressed,bob@example.test:sent,bounce-tom@example.test:suppressed,eve@example.test:suppressed',
	'only those who did not buy get a reminder (and suppression holds)');
my @reminders = grep { subject($_->{h}{subject}) =~ /^Still thinking/ } mails($box);
is(scalar(@reminders), 1, 'one reminder arrived');
is(subject($reminders[0]{h}{subject}), 'Still thinking, Bob & <Co>?', 'to Bob');

# events, unsubscribe, statistics
$node->safe_psql('postgres', qq{
	SELECT cdp.record_email_event('$mid', 'opened');
	SELECT cdp.record_email_event(trim(both '<>' from '$mid'), 'clicked', now(), 'https://shop.test/p/1');
});
is($node->safe_psql('postgres', qq{SELECT cdp.unsubscribe('$token')}), 'unsubscribed', 'unsubscribe by token');
is($node->safe_psql('postgres', qq{SELECT cdp.unsubscribe('$token')}), 'already', 'twice is harmless');
is($node->safe_psql('postgres', q{SELECT cdp.unsubscribe('nope')}), 'unknown', 'an unknown token changes nothing');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(detail ->> 'event', ',' ORDER BY occurred_at, detail ->> 'event') FROM cdp.activity
		   WHERE activity = 'journey_email' AND customer_id = (SELECT customer_id FROM cdp.message WHERE to_address = 'zoe@example.test' LIMIT 1)}),
	'sent,opened,clicked,unsubscribed', 'e-mail events are activities of the customer');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(format('%s:%s/%s/%s/%s/%s/%s', step, entered, sent, failed, bounced, opened, clicked), ' ' ORDER BY step)
		    FROM cdp.journey_stats('welcome')}),
	'check:5/0/0/0/0/0 done:5/0/0/0/0/0 offer:5/2/1/1/1/1 pause:5/0/0/0/0/0 reminder:4/1/0/0/0/0',
	'journey_stats per step');
is( $node->safe_psql('postgres',
		q{SELECT format('%s %s %s %s %s %s %s', members, emailed, sent, opened, clicked, converted, revenue) FROM cdp.journey_funnel('welcome')}),
	'5 2 3 1 1 1 42.50', 'journey_funnel: Zoe converted with 42.50');

# re-entry "never": refreshing the segment again enrols nobody
$node->safe_psql('postgres', q{SELECT * FROM cdp.refresh_segment('everyone'); SELECT cdp.run_journeys();});
is($node->safe_psql('postgres', q{SELECT count(*) FROM cdp.journey_member}), '5', 're-entry never: no second walk');

# ---------------------------------------------------------------- frequency cap, retries
$node->safe_psql('postgres', q{
	UPDATE cdp.customer SET email_consent = true WHERE email IN ('ann@example.test', 'eve@example.test');
	SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1, "per": "7 days"}');
	SELECT cdp.create_journey('news', '{"trigger": {"segment": "everyone", "members": "all"},
	   "steps": [{"id": "n1", "type": "email", "template": "reminder", "channel": "mail"}]}');
	SELECT cdp.publish_journey('news');
});
wait_for($node, q{SELECT count(*) FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) WHERE j.name = 'news' AND m.state = 'completed'},
	'5', 'the news journey runs');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(e.event, ',' ORDER BY e.event) FROM cdp.journey_event e JOIN cdp.journey j USING (journey_id)
		   WHERE j.name = 'news' AND e.event IN ('queued', 'capped')}),
	'capped,capped,queued,queued,queued',
	'the cap skips Zoe and Bob (already e-mailed this week), the others are queued');

# 451 replies: retried with back-off until the server accepts
open(my $mf, '>', "$box/.mode") or die;
print $mf "tempfail\n";
close $mf;
$node->safe_psql('postgres', q{
	SELECT cdp.set_journey_setting('frequency_cap', NULL);
	SELECT cdp.create_journey('retry', '{"trigger": {"segment": "everyone", "members": "all"},
	   "steps": [{"id": "r1", "type": "email", "template": "reminder", "channel": "mail", "marketing": false}]}');
	SELECT cdp.publish_journey('retry');
});
wait_for($node,
	q{SELECT count(*) > 0 FROM cdp.message WHERE step = 'r1' AND state = 'queued' AND attempts >= 1 AND reply_code = 451},
	't', '451: the message waits for a retry');
unlink "$box/.mode";
wait_for($node, q{SELECT string_agg(state, ',' ORDER BY to_address) FROM cdp.message WHERE step = 'r1' AND to_address <> 'bounce-tom@example.test'},
	'sent,sent,sent,sent', 'retried and sent once the server accepts (non-marketing: consent does not apply)');

# the SMTP server down, then back
stop_smtp($smtp);
$node->safe_psql('postgres', q{
	SELECT cdp.create_journey('down', '{"trigger": {"segment": "everyone", "members": "all"},
	   "steps": [{"id": "d1", "type": "email", "template": "reminder", "channel": "mail", "marketing": false}]}');
	SELECT cdp.publish_journey('down');
});
wait_for($node, q{SELECT errors > 0 AND retry_at IS NOT NULL FROM cdp.channel WHERE name = 'mail'}, 't',
	'server down: the channel backs off');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cdp.message WHERE step = 'd1' AND state IN ('sent', 'failed')}),
	'0', 'nothing is lost or failed while it is down');
$smtp = start_smtp($smtp_port, $box);
wait_for($node, q{SELECT count(*) FROM cdp.message WHERE step = 'd1' AND state = 'sent'}, '4',
	'sent once the server is back', 40);

# ---------------------------------------------------------------- HTTP API, webhook, rate limit, schedules, secrets
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my $sink = "$tmp/sink";
mkdir $sink;
start_http($http_port, $sink);
$node->safe_psql('postgres', qq{
	SELECT cdp.create_channel('api', 'http://127.0.0.1:$http_port/v1/send',
	  '{"from": "Shop <news\@shop.test>", "headers": {"Authorization": "Bearer k1"}, "marketing": false}');
	SELECT cdp.create_journey('hooks', '{"trigger": {"segment": "everyone", "members": "all"},
	   "steps": [{"id": "api_mail", "type": "email", "template": "reminder", "channel": "api", "marketing": false},
	             {"id": "hook", "type": "webhook", "url": "http://127.0.0.1:$http_port/hooks/crm",
	              "payload": {"customer": "{{ customer_id }}", "name": "{{ first_name }}", "source": "pg_cdp"}}]}');
	SELECT cdp.publish_journey('hooks');
});
wait_for($node, q{SELECT count(*) FROM cdp.message m JOIN cdp.journey j USING (journey_id) WHERE j.name = 'hooks' AND m.state IN ('sent', 'failed')},
	'10', 'the HTTP e-mails and the webhooks are delivered');
opendir(my $sd, $sink) or die;
my @reqs = sort grep { /^req-\d+\.json$/ } readdir $sd;
closedir $sd;
my (@api, @hook);
for my $f (@reqs)
{
	open(my $fh, '<:raw', "$sink/$f") or die;
	local $/;
	my $r = JSON::PP->new->utf8->decode(<$fh>);
	close $fh;
	push @api, $r if $r->{path} eq '/v1/send';
	push @hook, $r if $r->{path} eq '/hooks/crm';
}
is(scalar(@api), 5, 'five e-mails went to the HTTP API');
my ($api_zoe) = grep { JSON::PP->new->decode($_->{body})->{to} eq 'zoe@example.test' } @api;
ok($api_zoe && ($api_zoe->{headers}{Authorization} // $api_zoe->{headers}{authorization} // '') eq 'Bearer k1',
	'with the channel secret header');
is(JSON::PP->new->decode($api_zoe->{body})->{subject}, "Still thinking, Zo\x{eb}?", 'and the rendered subject as JSON');
is(scalar(@hook), 5, 'five webhooks arrived');
is(join(',', sort map { my $b = JSON::PP->new->decode($_->{body}); "$b->{customer}:$b->{source}" } @hook),
	'1:pg_cdp,2:pg_cdp,3:pg_cdp,4:pg_cdp,5:pg_cdp', 'with their rendered payloads');

# a channel's rate limit spaces its messages
$node->safe_psql('postgres', qq{
	SELECT cdp.create_channel('slow', 'smtp://127.0.0.1:$smtp_port', '{"from": "Shop <news\@shop.test>", "tls": "none", "rate_per_second": 10}');
	INSERT INTO cdp.message (header_id, kind, channel, marketing, to_address, subject, text_body)
	SELECT '<rate-' || i || '\@shop.test>', 'email', 'slow', false, 'rate' || i || '\@example.test', 'rate ' || i, 'x'
	  FROM generate_series(1, 21) i;
});
wait_for($node, q{SELECT count(*) FROM cdp.message WHERE channel = 'slow' AND state = 'sent'}, '21', '21 rate-limited messages sent');
cmp_ok($node->safe_psql('postgres', q{SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM cdp.message WHERE channel = 'slow'}),
	'>=', 1.8, 'at 10 per second they took at least 1.8 s');

# a refresh schedule run by the worker, with its log
$node->safe_psql('postgres', q{SELECT cdp.schedule_refresh('segs', '1 hour', ARRAY['activities', 'segments'])});
wait_for($node, q{SELECT string_agg(step || ':' || ok, ',' ORDER BY run_id) FROM cdp.refresh_run WHERE schedule = 'segs'},
	'activities:true,segments:true', 'the worker runs a due schedule and logs each step');
cmp_ok($node->safe_psql('postgres', q{SELECT extract(epoch FROM next_run_at - now()) FROM cdp.refresh_schedule WHERE name = 'segs'}),
	'>', 3000, 'and moves it to its next time');

# channel secrets: cdp_admin only
$node->safe_psql('postgres', q{CREATE ROLE clerk LOGIN; CREATE ROLE boss LOGIN IN ROLE cdp_admin;});
my ($r1, $o1, $e1) = $node->psql('postgres', 'SELECT password FROM cdp.channel_secret', extra_params => [ '-U', 'clerk' ]);
like($e1, qr/permission denied for table channel_secret/, 'an ordinary role cannot read channel secrets');
($r1, $o1, $e1) = $node->psql('postgres', q{SELECT headers ->> 'Authorization' FROM cdp.channel_secret WHERE channel = 'api'},
	extra_params => [ '-U', 'boss' ]);
is($o1, 'Bearer k1', 'a member of cdp_admin can');

# ---------------------------------------------------------------- kill -9 in a 2,000-message batch
my $crashbox = "$tmp/crashbox";
mkdir $crashbox;
stop_smtp($smtp);
$smtp = start_smtp($smtp_port, $crashbox);
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET cdp.worker_batch_size = 2000;
	SELECT pg_reload_conf();
	SELECT cdp.create_channel('bulk', 'smtp://127.0.0.1:} . $smtp_port . q{', '{"from": "Shop <news@shop.test>", "tls": "none"}');
	INSERT INTO cdp.message (header_id, kind, channel, marketing, to_address, subject, text_body, next_attempt_at)
	SELECT '<bulk-' || i || '@shop.test>', 'email', 'bulk', false, 'user' || i || '@example.test', 'bulk ' || i, 'hello ' || i, now() + interval '2 seconds'
	  FROM generate_series(1, 2000) i;
});
my $deadline = time + 60;
usleep(100_000) while count_mails($crashbox) < 300 && time < $deadline;
my $pid = $node->safe_psql('postgres', 'SELECT pid FROM cdp.worker_status()');
ok(count_mails($crashbox) >= 300 && count_mails($crashbox) < 2000, 'the batch is being sent when the worker is killed');
kill 'KILL', $pid;
# the postmaster restarts every backend; the worker comes back and recovers
wait_for($node, q{SELECT count(*) FROM cdp.message WHERE channel = 'bulk' AND state = 'sent'}, '2000',
	'after kill -9 and recovery every message is sent', 120);
my %seen;
$seen{ $_->{h}{'message-id'} }++ for mails($crashbox);
is(scalar(keys %seen), 2000, 'every one of the 2,000 messages arrived');
my @dups = grep { $seen{$_} > 1 } keys %seen;
ok(@dups <= 1, 'at most one message (the one in flight) arrived twice: ' . scalar(@dups));
my $flagged = $node->safe_psql('postgres',
	q{SELECT string_agg(header_id, ',') FROM cdp.message WHERE channel = 'bulk' AND possibly_duplicate});
ok(!@dups || $flagged eq $dups[0], 'a duplicate is the message flagged possibly_duplicate');
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM cdp.delivery_recovery}), 't', 'the recovery is reported');

# a server restart in the middle of delivery resumes it
$node->safe_psql('postgres', q{
	INSERT INTO cdp.message (header_id, kind, channel, marketing, to_address, subject, text_body)
	SELECT '<again-' || i || '@shop.test>', 'email', 'bulk', false, 'user' || i || '@example.test', 'again ' || i, 'hello ' || i
	  FROM generate_series(1, 500) i;
});
$node->restart;
wait_for($node, q{SELECT count(*) FROM cdp.message WHERE header_id LIKE '<again-%' AND state = 'sent'}, '500',
	'a restart resumes delivery', 60);
%seen = ();
$seen{ $_->{h}{'message-id'} }++ for grep { $_->{h}{'message-id'} =~ /^<again-/ } mails($crashbox);
is(scalar(keys %seen), 500, 'all 500 arrived');
ok((grep { $seen{$_} > 1 } keys %seen) <= 1, 'with at most one duplicate');
like($node->safe_psql('postgres', q{SELECT backend_type || ':' || coalesce(state, '') FROM pg_stat_activity WHERE backend_type = 'pg_cdp worker'}),
	qr/^pg_cdp worker:(idle|active)$/, 'the worker is visible in pg_stat_activity');
$node->stop;

# ---------------------------------------------------------------- without preloading
my $plain = PostgreSQL::Test::Cluster->new('nopreload');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', q{
	SET client_min_messages = warning;
	CREATE EXTENSION pg_cdp;
	CREATE TABLE t (id int PRIMARY KEY, email text);
	SELECT cdp.add_source('t', 't', 'id', '{"email": "email"}');
	SELECT cdp.create_segment('all_of_them', 'true');
	SELECT cdp.create_channel('mail', 'smtp://127.0.0.1:9', '{"from": "x@shop.test"}');
	SELECT cdp.create_template('t1', 'Hi', NULL, 'Hello');
	SELECT cdp.set_journey_setting('unsubscribe_url', '"https://shop.test/u?t={token}"');
	SELECT cdp.create_journey('j', '{"trigger": {"segment": "all_of_them", "members": "new"},
	   "steps": [{"id": "a", "type": "email", "template": "t1", "channel": "mail"}]}');
});
my ($ret, $out, $err) = $plain->psql('postgres', q{SELECT cdp.publish_journey('j')});
like($err, qr/WARNING:  the pg_cdp background worker is not running in this database/, 'publishing without the worker warns');
like($err, qr/HINT:  Set shared_preload_libraries = 'pg_cdp' and cdp.database = 'postgres'/, 'with a hint');
is($plain->safe_psql('postgres', 'SELECT running FROM cdp.worker_status()'), 'f', 'worker_status says so');
$plain->stop;

done_testing();
