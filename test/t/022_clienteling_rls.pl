# Clienteling with real roles that log in (psql -U role), not SET ROLE:
# - an associate of entity A queries every table and view of schema cdp and
#   sees no row of entity B (and the other way round); relations they may
#   not read fail with "permission denied" and are listed as such;
# - the notes setting both ways (entity; owner_and_managers);
# - permission errors with their messages: no EXECUTE, not an associate,
#   another associate's book, another entity, reassigning granted to nobody;
# - adding, removing, reassigning (some, then all), the one-book rule and
#   its setting, store client books, filters by attribute and segment;
# - the customer card's slots with 0, 1, 2 and 3 measures;
# - activity types and notes in cdp.timeline for who may read them only.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('clienteling');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;

# as: runs SQL logged in as a role; returns (exit code, stdout, stderr)
sub as
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	return ($rc, $out, $err);
}

# ok_as: runs SQL as a role that must succeed; returns stdout
sub ok_as
{
	my ($role, $sql, $name) = @_;
	my ($rc, $out, $err) = as($role, $sql);
	is($rc, 0, $name) or diag("$role: $sql\n$err");
	return $out;
}

# fails_as: runs SQL as a role that must fail with a message
sub fails_as
{
	my ($role, $sql, $re, $name) = @_;
	my ($rc, $out, $err) = as($role, $sql);
	isnt($rc, 0, "$name (fails)");
	like($err, $re, "$name (message)");
}

$node->safe_psql('postgres', q{
SET client_min_messages = warning;
CREATE EXTENSION pg_cdp;
CREATE TABLE people (id text PRIMARY KEY, first_name text, last_name text, email text, birth_date date);
INSERT INTO people VALUES
  ('P1', 'Ann', 'Lee', 'c1@mail.net', '1990-07-05'), ('P2', 'Bob', 'Ray', 'c2@mail.net', '1985-12-01'),
  ('P3', 'Cat', 'Poe', 'c3@mail.net', '2000-08-10'), ('P4', 'Dan', 'Fox', 'c4@mail.net', NULL);
SELECT cdp.add_source('crm', 'people', 'id',
  '{"first_name": "first_name", "last_name": "last_name", "email": "email", "birth_date": "birth_date"}');
CALL cdp.unify();
CREATE TABLE orders (order_id int PRIMARY KEY, person text, total numeric, at timestamptz);
INSERT INTO orders VALUES (1, 'P1', 120, '2026-06-01 10:00+00'), (2, 'P1', 90, '2026-06-15 10:00+00'),
  (3, 'P3', 250, '2026-06-20 10:00+00');
SELECT cdp.add_activity('purchase', 'orders', 'at', '{"source": "crm", "column": "person"}', '{"amount": "total"}', 'purchase');
CALL cdp.refresh_activities();
SELECT cdp.create_measure('total_spend', 'sum(purchase.amount)');
SELECT cdp.create_measure('orders', 'count(purchase)');
SELECT cdp.create_measure('biggest', 'max(purchase.amount)');
CALL cdp.refresh_measures('2026-07-01 00:00+00');
SELECT cdp.create_segment('birthday_next_14_days', 'birth_date within next 14 days');
SELECT cdp.refresh_segment('birthday_next_14_days', '2026-07-01 00:00+00');

CREATE ROLE ann_a LOGIN IN ROLE cdp_associate;
CREATE ROLE abe_a LOGIN IN ROLE cdp_associate;
CREATE ROLE amy_a LOGIN IN ROLE cdp_associate;
CREATE ROLE bea_b LOGIN IN ROLE cdp_associate;
CREATE ROLE bob_b LOGIN IN ROLE cdp_associate;
CREATE ROLE boss LOGIN IN ROLE cdp_admin;
CREATE ROLE analyst LOGIN IN ROLE cdp_analyst;
CREATE ROLE outsider LOGIN;
});

# the organisation, set up by cdp_admin logged in
ok_as('boss', q{
SELECT cdp.create_legal_entity('ent_alpha', 'Alpha Retail'), cdp.create_legal_entity('ent_beta', 'Beta Retail');
SELECT cdp.create_store('alpha_store1', 'ent_alpha', 'north'), cdp.create_store('alpha_store2', 'ent_alpha', 'north'),
       cdp.create_store('beta_store', 'ent_beta', 'beta_book');
SELECT cdp.create_associate(r, r) FROM unnest(ARRAY['ann_a', 'abe_a', 'amy_a', 'bea_b', 'bob_b']) r;
SELECT cdp.assign_store('ann_a', 'alpha_store1'), cdp.assign_store('amy_a', 'alpha_store1', true),
       cdp.assign_store('abe_a', 'alpha_store2'), cdp.assign_store('bea_b', 'beta_store'),
       cdp.assign_store('bob_b', 'beta_store', true);
SELECT cdp.create_client_attribute('shoe_size', 'number', 1, true), cdp.create_client_attribute('preferred_brand', 'text', 2, true),
       cdp.create_client_attribute('anniversary', 'date', 3, false);
SELECT cdp.create_client_activity_type('phone_call', 'Phone call'), cdp.create_client_activity_type('store_visit', 'Store visit');
}, 'cdp_admin sets up entities, stores, associates, attributes and activity types');

# ---------------------------------------------------------------- books
ok_as('ann_a', q{SELECT cdp.client_book_add('ann_a', 1), cdp.client_book_add('ann_a', 2), cdp.client_book_add('ann_a', 3)},
	'an associate adds customers to their own book');
ok_as('abe_a', q{SELECT cdp.client_book_add('abe_a', 4)}, 'another associate too');
ok_as('bea_b', q{SELECT cdp.client_book_add('bea_b', 1), cdp.client_book_add('bea_b', 2)},
	'entity B has books of its own for the same customers');
fails_as('abe_a', q{SELECT cdp.client_book_add('abe_a', 1)},
	qr/customer 1 is already in the client book of "ann_a"/, 'the one-book rule');
fails_as('ann_a', q{SELECT cdp.client_book_add('abe_a', 2)},
	qr/permission denied to change the client book of "abe_a"/, 'an associate may not fill another\'s book');
fails_as('bea_b', q{SELECT cdp.client_book_add('ann_a', 4)},
	qr/associate "ann_a" does not exist/,
	'nor may an associate of another entity, who does not learn that the associate exists');
fails_as('outsider', q{SELECT cdp.client_book_add('ann_a', 4)},
	qr/permission denied for function client_book_add/, 'without EXECUTE: permission denied');
fails_as('analyst', q{SELECT cdp.client_book_remove('ann_a', 1)},
	qr/permission denied for function client_book_remove/, 'analysts may not remove');
is(ok_as('ann_a', q{SELECT cdp.client_book_remove('ann_a', 2)}, 'remove'), 't', 'removing returns true');
is(ok_as('ann_a', q{SELECT cdp.client_book_remove('ann_a', 2)}, 'remove again'), 'f', 'then false');

ok_as('boss', q{SELECT cdp.alter_legal_entity('ent_alpha', several_books => true)}, 'allow several books in A');
is(ok_as('abe_a', q{SELECT cdp.client_book_add('abe_a', 1)}, 'second book'), 't', 'a customer in two books of A');
fails_as('boss', q{SELECT cdp.alter_legal_entity('ent_alpha', several_books => false)},
	qr/customers are in several client books of legal entity "ent_alpha"/, 'the rule cannot come back while broken');
ok_as('abe_a', q{SELECT cdp.client_book_remove('abe_a', 1)}, 'abe gives the customer up');
ok_as('boss', q{SELECT cdp.alter_legal_entity('ent_alpha', several_books => false)}, 'one book again');
fails_as('boss', q{INSERT INTO cdp.client_book_entry (entity, associate, customer_id) VALUES ('ent_alpha', 'abe_a', 1)},
	qr/duplicate key value violates unique constraint "client_book_one_book"/, 'enforced by the database, not the function');

# reassigning: granted to nobody, then to associates; managers only
fails_as('amy_a', q{SELECT cdp.client_book_reassign('ann_a', 'amy_a', '{3}')},
	qr/permission denied for function client_book_reassign/, 'reassigning is granted to nobody by default');
$node->safe_psql('postgres', q{GRANT EXECUTE ON FUNCTION cdp.client_book_reassign(text, text, bigint[], text) TO cdp_associate});
fails_as('abe_a', q{SELECT cdp.client_book_reassign('ann_a', 'abe_a')},
	qr/permission denied to reassign the client book of "ann_a"/, 'a non-manager may not reassign');
is(ok_as('bob_b', q{SELECT cdp.client_book_reassign('ann_a', 'bea_b')}, 'reassign across entities'), '0',
	'a manager of B reassigning from an associate of A moves nothing (books of A stay in A)');
is(ok_as('amy_a', q{SELECT cdp.client_book_reassign('ann_a', 'amy_a', '{3}')}, 'reassign some'), '1', 'some: one moved');
is(ok_as('amy_a', q{SELECT cdp.client_book_reassign('ann_a', 'amy_a')}, 'reassign all'), '1', 'all: the rest moved');
is($node->safe_psql('postgres', q{SELECT string_agg(associate || ':' || customer_id, ',' ORDER BY associate, customer_id)
  FROM cdp.client_book_entry WHERE entity = 'ent_alpha'}), 'abe_a:4,amy_a:1,amy_a:3', 'books after reassigning');
is(ok_as('amy_a', q{SELECT cdp.client_book_reassign('amy_a', 'ann_a')}, 'back'), '2', 'and back');

# ------------------------------------------------- attributes, notes, activities
ok_as('ann_a', q{
SELECT cdp.set_client_attribute(1, 'shoe_size', '38'), cdp.set_client_attribute(1, 'preferred_brand', 'ALPHA-VALUE'),
       cdp.set_client_attribute(3, 'preferred_brand', 'ALPHA-VALUE'), cdp.set_client_attribute(1, 'anniversary', '2010-06-12');
SELECT cdp.add_client_note(1, 'ALPHA-SECRET note by ann');
SELECT cdp.record_client_activity(1, 'phone_call', 'ALPHA-SECRET call', '2026-06-25 10:00+00');
}, 'ann sets attributes, writes a note, records a call');
ok_as('abe_a', q{SELECT cdp.add_client_note(1, 'ALPHA-SECRET note by abe')}, 'abe writes a note');
ok_as('bea_b', q{
SELECT cdp.set_client_attribute(1, 'preferred_brand', 'BETA-VALUE');
SELECT cdp.add_client_note(1, 'BETA-SECRET note by bea');
SELECT cdp.record_client_activity(1, 'store_visit', 'BETA-SECRET visit', '2026-06-26 10:00+00');
}, 'bea does the same in entity B');

# ------------------------------------------ every relation of cdp, as A and as B
my @relations = split /\n/, $node->safe_psql('postgres', q{
SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY 1});
my %markers = (
	ann_a => qr/ent_beta|beta_store|beta_book|bea_b|bob_b|BETA-|Beta Retail/,
	bea_b => qr/ent_alpha|alpha_store|ann_a|abe_a|amy_a|ALPHA-|Alpha Retail/);
my %must_read = map { $_ => 1 } qw(legal_entity address_book store associate associate_store client_book_entry
  client_attribute client_attribute_value client_activity_type client_activity client_note card_measure
  store_client_book customer customer_measure activity);
foreach my $who (sort keys %markers)
{
	my (@denied, @leaks, @other);
	my $read = 0;
	foreach my $rel (@relations)
	{
		my ($rc, $out, $err) = as($who,
			qq{SELECT coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') FROM cdp."$rel" t});
		if ($rc != 0)
		{
			if ($err =~ /permission denied for (table|view|materialized view) \Q$rel\E/) { push @denied, $rel; }
			else { push @other, "$rel: $err"; }
			next;
		}
		$read++;
		push @leaks, $rel if $out =~ $markers{$who};
	}
	note("$who may not read (permission denied): " . join(', ', @denied));
	is(scalar(@other), 0, "$who: every relation reads or is denied") or diag(join("\n", @other));
	is(join(',', @leaks), '', "$who: no relation of cdp shows a row of the other entity ($read read)");
	is(join(',', grep { $must_read{$_} } @denied), '', "$who: reads the clienteling tables and what the card needs");
}

# (the check can fail: cdp_admin reads both entities and the markers match)
my $all = ok_as('boss', q{SELECT string_agg(row_to_json(t)::text, E'\n') FROM cdp.client_note t}, 'admin reads notes');
like($all, $markers{ann_a}, 'control: B\'s markers are found where B\'s rows are');
like($all, $markers{bea_b}, 'control: A\'s markers too');

# the functions that read show nothing of the other entity either
my $t = ok_as('ann_a', q{SELECT string_agg(summary || ' ' || detail::text, E'\n') FROM cdp.timeline(1)}, 'timeline as ann');
unlike($t, $markers{ann_a}, 'the timeline shows ann nothing of B');
like($t, qr/Phone call by ann_a at alpha_store1: ALPHA-SECRET call/, 'but A\'s call');
like($t, qr/Note by abe_a: ALPHA-SECRET note by abe/, 'and A\'s notes');
like($t, qr/Bought items for 90/, 'with the purchases');
$t = ok_as('bea_b', q{SELECT string_agg(summary, E'\n') FROM cdp.timeline(1)}, 'timeline as bea');
unlike($t, $markers{bea_b}, 'the timeline shows bea nothing of A');
like($t, qr/Store visit by bea_b at beta_store: BETA-SECRET visit/, 'but B\'s visit');
$t = ok_as('analyst', q{SELECT string_agg(activity, ',') FROM cdp.timeline(1)}, 'timeline as an analyst');
is($t, 'purchase,purchase', 'an analyst sees the purchases only');
fails_as('ann_a', q{SELECT * FROM cdp.client_book('bea_b')}, qr/associate "bea_b" does not exist/,
	'for ann, associates of B do not exist');
fails_as('ann_a', q{SELECT cdp.customer_card(1, 'ent_beta')}, qr/legal entity "ent_beta" does not exist/,
	'nor does entity B');
fails_as('ann_a', q{SELECT cdp.set_client_attribute(1, 'shoe_size', '40', 'ent_beta')},
	qr/legal entity "ent_beta" does not exist|permission denied to set client attributes/, 'ann cannot write for B');
fails_as('ann_a', q{INSERT INTO cdp.client_note (entity, customer_id, author, note) VALUES ('ent_alpha', 1, 'ann_a', 'x')},
	qr/permission denied for table client_note/, 'associates write through the functions only');
fails_as('analyst', q{SELECT * FROM cdp.client_note}, qr/permission denied for table client_note/,
	'analysts do not read clienteling tables');
is(ok_as('analyst', q{SELECT count(*) FROM cdp.customer}, 'analyst reads profiles'), '4', 'but read the profiles');
fails_as('analyst', q{SELECT * FROM cdp.channel_secret}, qr/permission denied for table channel_secret/,
	'and not channel secrets');

# ---------------------------------------------------- notes setting both ways
my $notes = q{SELECT coalesce(string_agg(author, ',' ORDER BY note_id), '-') FROM cdp.client_note};
is(ok_as('ann_a', $notes, 'n'), 'ann_a,abe_a', 'entity setting: ann reads every note of A');
is(ok_as('abe_a', $notes, 'n'), 'ann_a,abe_a', 'entity setting: abe too');
is(ok_as('bea_b', $notes, 'n'), 'bea_b', 'bea reads B\'s only');
ok_as('boss', q{SELECT cdp.alter_legal_entity('ent_alpha', notes_visible_to => 'owner_and_managers')}, 'notes: owner and managers');
is(ok_as('ann_a', $notes, 'n'), 'ann_a,abe_a', 'owner_and_managers: ann owns the book of customer 1');
is(ok_as('abe_a', $notes, 'n'), 'abe_a', 'abe reads his own note only');
is(ok_as('amy_a', $notes, 'n'), 'ann_a,abe_a', 'amy manages ann\'s store');
is(ok_as('bea_b', $notes, 'n'), 'bea_b', 'B keeps its own setting');
is(ok_as('boss', $notes, 'n'), 'ann_a,abe_a,bea_b', 'cdp_admin reads all');
is(ok_as('abe_a', q{SELECT string_agg(source_key, ',') FROM cdp.timeline(1, types => '{note}')}, 't'), 'note:2',
	'the timeline follows the setting');
ok_as('boss', q{SELECT cdp.alter_legal_entity('ent_alpha', notes_visible_to => 'entity')}, 'notes: entity again');
is(ok_as('abe_a', $notes, 'n'), 'ann_a,abe_a', 'abe reads every note of A again');

# ----------------------------------------------------- store views and filters
is(ok_as('abe_a', q{SELECT string_agg(store || ':' || customer_id, ',' ORDER BY store, customer_id) FROM cdp.store_client_book}, 's'),
	'alpha_store1:1,alpha_store1:3,alpha_store1:4,alpha_store2:1,alpha_store2:3,alpha_store2:4',
	'stores sharing an address book share a store client book');
is(ok_as('bob_b', q{SELECT string_agg(store || ':' || customer_id, ',' ORDER BY store, customer_id) FROM cdp.store_client_book}, 's'),
	'beta_store:1,beta_store:2', 'B\'s store client book');
is(ok_as('ann_a', q{SELECT string_agg(customer_id::text, ',') FROM cdp.client_book('ann_a', '{"attributes": {"preferred_brand": "ALPHA-VALUE"}}')}, 'f'),
	'1,3', 'filter by a refinable attribute');
is(ok_as('ann_a', q{SELECT string_agg(customer_id::text, ',') FROM cdp.client_book('ann_a', '{"attributes": {"shoe_size": 38.0}, "segment": "birthday_next_14_days"}')}, 'f'),
	'1', 'and by segment');
fails_as('ann_a', q{SELECT * FROM cdp.client_book('ann_a', '{"attributes": {"anniversary": "2010-06-12"}}')},
	qr/client attribute "anniversary" cannot be refined/, 'not by a non-refinable attribute');

# ---------------------------------------------------------- card slot order
my @cards = (
	[ '{}', 'attribute:shoe_size,attribute:preferred_brand,attribute:anniversary' ],
	[ '{orders}', 'measure:orders,attribute:shoe_size,attribute:preferred_brand' ],
	[ '{orders,total_spend}', 'measure:orders,measure:total_spend,attribute:shoe_size' ],
	[ '{biggest,orders,total_spend}', 'measure:biggest,measure:orders,measure:total_spend' ]);
foreach my $c (@cards)
{
	ok_as('boss', qq{SELECT cdp.set_card_measures('$c->[0]')}, "card measures $c->[0]");
	is(ok_as('ann_a', q{SELECT string_agg((s ->> 'kind') || ':' || (s ->> 'name'), ',' ORDER BY o)
	  FROM jsonb_array_elements(cdp.customer_card(1) -> 'slots') WITH ORDINALITY x(s, o)}, 'card'),
		$c->[1], "card slots with measures $c->[0]");
}
is(ok_as('ann_a', q{SELECT concat_ws(' ', cdp.customer_card(1) #>> '{slots,0,value}', cdp.customer_card(1) #>> '{contact,first_name}',
  jsonb_array_length(cdp.customer_card(1) -> 'notes'))}, 'card values'), '120 Ann 2', 'card values: measure, contact, notes');
is(ok_as('bea_b', q{SELECT cdp.customer_card(1) -> 'notes' -> 0 ->> 'note'}, 'card B'), 'BETA-SECRET note by bea',
	'bea\'s card shows B\'s notes');

$node->stop;
done_testing();
