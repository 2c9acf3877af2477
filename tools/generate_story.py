#!/usr/bin/python3
# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
"""
generate_story.py: the data of the retailer's story (issue 8, `make demo`),
made deterministically from a seed, with its ground truth.

The customers' records (web shop, loyalty programme, point of sale) come from
tools/generate_customers.py, which this script imports and runs; on top of
them it makes what the customers did: web-shop orders, chat-assistant
transcripts, loyalty points and a web-analytics export of page views in which
visitors browse anonymously under a cookie and sometimes log in.

    /usr/bin/python3 tools/generate_story.py --out DIR [--customers N] [--seed S]
                                             [--ref 'YYYY-MM-DD HH:MM:SS']

Files written in DIR:
  shop.sql       schema shop: web_shop_customer, orders, chat (main database)
  loyalty.sql    schema loyalty: member, points (the loyalty database, read
                 from the main one through postgres_fdw)
  pos.sql        schema pos: pos_customer (main database)
  pageviews.csv  hit_id, cookie_id, user_id, url, ts, referrer (header line;
                 user_id is the web shop's customer_ref when logged in, empty
                 otherwise)
  truth.csv      source, source_key, customer_no: the true customer of every
                 source record (sources web, loyalty, pos)
  story.csv      one line per customer with a web-shop account: customer_no,
                 web_key (the account its activity uses), persona, and the
                 facts of the reference week computed from the rows written,
                 and the newsletter flag
  truth.json     the reference time, the definitions, the counts and the
                 story facts of every customer with a web-shop account
  behaviour.csv  what each customer who dwelt without buying does after the
                 reference time, decided in advance (steps 5-7 of the demo
                 play it): see WHAT THE DWELLERS DO below

The web shop's customers carry a newsletter flag (consent to marketing
e-mail, the same for every account of one person, true for about 85%);
orders have a coupon column (empty in the generated history).

Sizes scale with --customers (default 5000): about 20 page views, 1.6 orders
and 0.3 chats per customer.  The same arguments give byte-identical files.

THE STORY'S FACTS (reference time REF, --ref, default 2026-07-01 00:00:00 UTC;
every generated time is REF minus an offset drawn from the seed, so another
REF moves the whole story in time and changes nothing else)

Page views cover the 56 days before REF; orders the 365 days before REF.
A page view belongs to a customer when it is logged in (user_id) or when its
cookie was logged in at least once (stitching: every cookie belongs to at most
one customer here).  Sessions, dwell time and the window are computed exactly
as pg_cdp does:
  - a visitor's (cookie's) page views split into sessions where more than 30
    minutes pass between two of them;
  - the dwell time of a page is the time to the next page view of the
    session, at most 600 seconds, rounded to 0.1 s; the last page of a
    session gets the mean of the session's other pages (rounded to 0.1 s),
    a one-page session none;
  - "within 7 days" is REF - 7 days < time <= REF.
A customer DWELT BUT DID NOT BUY when, within 7 days:
  (at least 3 views of /product/ pages, or at least 120 seconds of dwell
   time on /product/ pages) and no order.
which is the segment
  (count(page_view where url like '%/product/%') within 7 days >= 3
   or sum(page_view.dwell_seconds where url like '%/product/%') within 7 days >= 120)
  and not exists(purchase within 7 days)
No generated time is within 10 minutes of REF - 7 days, so the window's
edge decides nothing by a hair.

WHAT THE DWELLERS DO (behaviour.csv, one line per customer who dwelt without
buying, drawn from a random generator of its own so the rest of the data does
not depend on it).  Each line holds both possible futures; the demo plays the
one that applies, because whether a customer is e-mailed is decided by the
journey (its holdout group, consent, an address), not by the generator:
  if e-mailed the coupon: opens_offer (50%), clicks_offer (40% of those who
    open), buys (after the offer: 50% of those who click, 12% of those who
    only open, 3% of the others; otherwise after the reminder: 30% of the
    35% who open it, opens_reminder), chats_first (asks the chat assistant
    after the e-mail and before buying: 45% of buyers, 8% of the others);
  if not e-mailed: buys_without_email (6%);
  product (the last product page the customer viewed in the week), price,
  items (1-3); with the coupon an order costs 80% of price x items.
"""

import argparse
import calendar
import importlib.util
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))

REF = calendar.timegm((2026, 7, 1, 0, 0, 0))     # --ref sets it
WEEK = 7 * 86400
LOG_DAYS = 56
SESSION_TIMEOUT = 1800
MAX_DWELL = 600
EDGE_GAP = 600          # no time within this of REF - WEEK

DEFINITION = ("(count(page_view where url like '%/product/%') within 7 days >= 3\n"
              " or sum(page_view.dwell_seconds where url like '%/product/%') within 7 days >= 120)\n"
              "and not exists(purchase within 7 days)")

PRODUCTS = [
    ('trail-running-shoe', 129), ('rain-jacket', 189), ('merino-sweater', 95),
    ('canvas-tote', 35), ('leather-belt', 45), ('wool-scarf', 39),
    ('linen-shirt', 69), ('denim-jacket', 149), ('ankle-boot', 159),
    ('sun-hat', 29), ('yoga-mat', 49), ('water-bottle', 19),
    ('down-vest', 119), ('silk-tie', 55), ('crew-socks-3-pack', 15),
    ('café-au-lait-mug', 12), ('über-backpack', 99), ('chino-trousers', 79),
]
CATEGORIES = ['women', 'men', 'shoes', 'outdoor', 'accessories', 'home', 'sale']
REFERRERS = ['', '', '', 'https://www.google.com/', 'https://www.bing.com/',
             'https://www.instagram.com/', 'https://newsletter.shop.test/']
CHAT_TOPICS = [
    ('sizing', ['Which size should I take in the %s?', 'It runs small: take one size up.']),
    ('delivery', ['When will my order arrive?', 'Standard delivery takes 2-4 working days.']),
    ('returns', ['Can I return the %s?', 'Yes, within 30 days, free of charge.']),
    ('product', ['Is the %s waterproof?', 'It is water-resistant; the rain jacket is waterproof.']),
    ('coupon', ['Do you have a discount code?', 'Sign up to the newsletter for 10% off.']),
    ('stock', ['Will the %s be back in stock?', 'Next week — we can notify you.']),
]


def load_customers_module():
    """Import tools/generate_customers.py (not a package) and return it."""
    path = os.path.join(HERE, 'generate_customers.py')
    spec = importlib.util.spec_from_file_location('generate_customers', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_generated(path):
    """The COPY blocks of generate_customers' SQL script: a dict from table
    name to (column list text, list of raw COPY lines)."""
    blocks = {}
    with open(path, encoding='utf-8', newline='\n') as f:
        table = None
        for line in f:
            if table is None:
                if line.startswith('COPY '):
                    head = line[5:]
                    name = head.split(' ', 1)[0].split('.', 1)[1]
                    cols = head[head.index('(') + 1:head.index(')')]
                    table = name
                    blocks[name] = (cols, [])
            elif line == '\\.\n':
                table = None
            else:
                blocks[table][1].append(line.rstrip('\n'))
    return blocks


def round1(x):
    """A non-negative Fraction rounded to 0.1, halves up, as PostgreSQL's
    round(numeric, 1) does; returns a Decimal."""
    q = x * 10
    n = q.numerator // q.denominator
    if q - n >= Fraction(1, 2):
        n += 1
    return Decimal(n) / Decimal(10)


def ts(t):
    """Seconds since 1970 as ISO 8601 text in UTC."""
    return '%04d-%02d-%02d %02d:%02d:%02d+00' % tuple(time.gmtime(t)[:6])


def copy_text(v):
    """A value in COPY text format."""
    if v is None:
        return '\\N'
    return (v.replace('\\', '\\\\').replace('\t', '\\t')
            .replace('\n', '\\n').replace('\r', '\\r'))


def csv_text(v):
    """A value as a CSV field (always quoted when not empty)."""
    if v == '':
        return ''
    return '"' + v.replace('"', '""') + '"'


class Story:
    """Everything the customers do, and the facts computed from it."""

    def __init__(self, rng, n_customers):
        self.rng = rng
        self.n = n_customers
        self.cookies = set()
        self.views = []         # [cookie, user_id, url, t, referrer]
        self.orders = []        # [customer_ref, t, product, amount, items]
        self.chats = []         # [email, t, topic, transcript]

    def cookie(self):
        """A new cookie id."""
        while True:
            c = 'ck-%012x' % self.rng.getrandbits(48)
            if c not in self.cookies:
                self.cookies.add(c)
                return c

    def safe_time(self, t):
        """t moved out of the zone near the window's edge."""
        edge = REF - WEEK
        if abs(t - edge) < EDGE_GAP:
            t = edge + EDGE_GAP if t >= edge else edge - EDGE_GAP
        return t

    def session(self, cookie, start, user, n_products, buy, login_at):
        """Page views of one session of a cookie from time start; user is
        the web key once logged in (from page index login_at), n_products
        product pages, buy adds cart and checkout and an order.  Returns the
        session's end time."""
        rng = self.rng
        pages = ['/']
        if rng.random() < 0.5:
            pages.append('/category/' + CATEGORIES[rng.randrange(len(CATEGORIES))])
        chosen = []
        for _ in range(n_products):
            p = PRODUCTS[rng.randrange(len(PRODUCTS))]
            chosen.append(p)
            pages.append('/product/' + p[0])
        if buy:
            pages += ['/cart', '/checkout', '/checkout/done']
        t = start
        ref = REFERRERS[rng.randrange(len(REFERRERS))]
        order_t = None
        for i, url in enumerate(pages):
            if i > 0:
                # mostly short looks, some long reads, a few over the cap
                u = rng.random()
                if u < 0.6:
                    gap = 5 + rng.randrange(60)
                elif u < 0.95:
                    gap = 60 + rng.randrange(400)
                else:
                    gap = 600 + rng.randrange(1000)
                t += gap
            if i > 0 and abs(t - (REF - WEEK)) < EDGE_GAP:
                t = REF - WEEK + EDGE_GAP   # forward only: pages stay in order
            logged = user if (login_at is not None and i >= login_at) else ''
            self.views.append([cookie, logged, url, t, ref if i == 0 else ''])
            if url == '/checkout/done':
                order_t = t
        if buy:
            prod = chosen[-1] if chosen else PRODUCTS[rng.randrange(len(PRODUCTS))]
            items = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            self.orders.append([user, order_t, prod[0], prod[1] * items, items])
        return t

    def visits(self, key, plan):
        """Sessions of customer key: plan is a list of (start, n_products,
        buy, logs_in); sessions share one or two cookies, one at a time."""
        rng = self.rng
        cookies = [self.cookie()]
        if rng.random() < 0.3:
            cookies.append(self.cookie())
        ends = {}
        for start, n_products, buy, logs_in in sorted(plan):
            c = cookies[rng.randrange(len(cookies))]
            if c in ends and start <= ends[c] + SESSION_TIMEOUT:
                start = ends[c] + SESSION_TIMEOUT + 60 + rng.randrange(3600)
            start = self.safe_time(start)
            if start >= REF - 3600:
                continue
            login_at = None
            if buy or logs_in:
                login_at = 0 if rng.random() < 0.5 else 1 + rng.randrange(2)
            ends[c] = self.session(c, start, key, n_products, buy, login_at)

    def customer(self, key):
        """Decide what the customer with web key does; returns the persona."""
        rng = self.rng
        u = rng.random()
        log_start = REF - LOG_DAYS * 86400
        week = REF - WEEK
        plan = []
        if u < 0.10:
            persona = 'dweller'         # browses products this week, no order
            for _ in range(1 + rng.randrange(3)):
                plan.append((week + EDGE_GAP + rng.randrange(WEEK - 2 * 3600 - EDGE_GAP),
                             1 + rng.randrange(5), False, rng.random() < 0.7))
        elif u < 0.15:
            persona = 'browser_buyer'   # browses and buys this week
            plan.append((week + EDGE_GAP + rng.randrange(WEEK - 2 * 3600 - EDGE_GAP),
                         2 + rng.randrange(4), False, True))
            plan.append((week + EDGE_GAP + rng.randrange(WEEK - 2 * 3600 - EDGE_GAP),
                         1 + rng.randrange(2), True, True))
        elif u < 0.25:
            persona = 'glancer'         # a look or two this week, maybe below the bar
            plan.append((week + EDGE_GAP + rng.randrange(WEEK - 2 * 3600 - EDGE_GAP),
                         rng.randrange(3), False, rng.random() < 0.6))
        elif u < 0.60:
            persona = 'regular'         # visits and orders before this week
            for _ in range(1 + rng.randrange(4)):
                plan.append((log_start + rng.randrange((LOG_DAYS - 8) * 86400),
                             rng.randrange(6), rng.random() < 0.35, rng.random() < 0.5))
        else:
            persona = 'quiet'
        # orders older than the page-view log (no page views kept)
        n_old = int(rng.random() * rng.random() * 5)
        for _ in range(n_old):
            t = REF - 365 * 86400 + rng.randrange((365 - LOG_DAYS) * 86400)
            p = PRODUCTS[rng.randrange(len(PRODUCTS))]
            self.orders.append([key, t, p[0], p[1], 1])
        self.visits(key, plan)
        return persona

    def anonymous(self, target):
        """Sessions of visitors who never log in, until target page views."""
        rng = self.rng
        log_start = REF - LOG_DAYS * 86400
        while len(self.views) < target:
            c = self.cookie()
            start = self.safe_time(log_start + rng.randrange(LOG_DAYS * 86400 - 7200))
            self.session(c, start, '', rng.randrange(6), False, None)

    def chat(self, email, topic_no):
        """One chat-assistant conversation."""
        rng = self.rng
        topic, lines = CHAT_TOPICS[topic_no]
        prod = PRODUCTS[rng.randrange(len(PRODUCTS))][0].replace('-', ' ')
        q = lines[0] % prod if '%s' in lines[0] else lines[0]
        text = 'customer: %s\nassistant: %s' % (q, lines[1])
        t = self.safe_time(REF - LOG_DAYS * 86400 + rng.randrange(LOG_DAYS * 86400 - 3600))
        self.chats.append([email, t, topic, text])

    def facts(self):
        """Per web key: product views and product dwell within 7 days,
        orders within 7 days, computed as pg_cdp computes them, and the
        (time, url) of the last product page viewed within 7 days."""
        by_cookie = {}
        owner = {}
        for hit_id, v in enumerate(self.views, 1):
            by_cookie.setdefault(v[0], []).append((v[3], hit_id, v))
            if v[1]:
                owner[v[0]] = v[1]
        f = {}
        for cookie, rows in by_cookie.items():
            who = owner.get(cookie)
            rows.sort(key=lambda r: (r[0], str(r[1])))
            sessions = []
            prev = None
            for r in rows:
                if prev is None or r[0] - prev > SESSION_TIMEOUT:
                    sessions.append([])
                sessions[-1].append(r)
                prev = r[0]
            if who is None:
                continue
            for s in sessions:
                dwell = []
                for i, r in enumerate(s):
                    dwell.append(Fraction(min(s[i + 1][0] - r[0], MAX_DWELL)) if i + 1 < len(s) else None)
                known = [d for d in dwell if d is not None]
                if known:
                    mean = round1(sum(known, Fraction(0)) / len(known))
                for i, r in enumerate(s):
                    t, _, v = r
                    if not (REF - WEEK < t <= REF) or '/product/' not in v[2]:
                        continue
                    d = dwell[i]
                    d = Decimal(d.numerator) if d is not None else (mean if known else None)
                    x = f.setdefault(who, [0, Decimal(0), 0, None])
                    x[0] += 1
                    if d is not None:
                        x[1] += d
                    if x[3] is None or (t, v[2]) > x[3]:
                        x[3] = (t, v[2])
        for o in self.orders:
            if REF - WEEK < o[1] <= REF:
                x = f.setdefault(o[0], [0, Decimal(0), 0, None])
                x[2] += 1
        return f


def main(argv):
    """Generate the story's files; counts go to standard error."""
    p = argparse.ArgumentParser(description='Deterministic data of the retailer story, with its truth.')
    p.add_argument('--out', required=True, metavar='DIR', help='output directory (must exist)')
    p.add_argument('--customers', type=int, default=5000, help='about how many customers (default 5000)')
    p.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    p.add_argument('--ref', default='2026-07-01 00:00:00',
                   help="reference time, UTC, 'YYYY-MM-DD HH:MM:SS' (default 2026-07-01 00:00:00)")
    args = p.parse_args(argv)
    global REF
    try:
        REF = calendar.timegm(time.strptime(args.ref.strip(), '%Y-%m-%d %H:%M:%S'))
    except ValueError:
        p.error("--ref must look like 2026-07-01 00:00:00 (UTC), not %r" % args.ref)
    if not calendar.timegm((2001, 1, 1, 0, 0, 0)) <= REF <= calendar.timegm((2999, 1, 1, 0, 0, 0)):
        p.error('--ref must be between 2001 and 2999')
    if not 10 <= args.customers <= 2000000:
        p.error('--customers must be between 10 and 2000000')
    if not os.path.isdir(args.out):
        p.error('output directory %s does not exist' % args.out)
    gc = load_customers_module()
    records = int(round(args.customers * gc.RECORDS_PER_CUSTOMER))
    with tempfile.TemporaryDirectory(prefix='gen_story.', dir=args.out) as tmp:
        rc = gc.main(['--records', str(records), '--seed', str(args.seed),
                      '--schema', 'story', '--out', tmp])
        if rc != 0:
            return rc
        blocks = read_generated(os.path.join(tmp, 'generated.sql'))

    # The truth: records of each customer; the web key that carries the
    # customer's activity is its first web-shop account.
    truth = []
    web_of = {}
    for line in blocks['truth'][1]:
        source, key, no = line.split('\t')
        no = int(no)
        truth.append((source, key, no))
        if source == 'web_shop' and (no not in web_of or key < web_of[no]):
            web_of[no] = key
    web_email = {}
    for line in blocks['web_shop_customer'][1]:
        fields = line.split('\t')
        email = gc.uncopy_field(fields[1])
        if email and email.strip():
            web_email[fields[0]] = email.strip()

    # consent to marketing e-mail, one flag per person, from a generator of
    # its own (so the rest of the data is what it was without it)
    brng = random.Random('story-behaviour:%d' % args.seed)
    newsletter = {no: brng.random() < 0.85 for no in sorted({t[2] for t in truth})}
    web_no = {key: no for source, key, no in truth if source == 'web_shop'}

    rng = random.Random('story:%d' % args.seed)
    story = Story(rng, args.customers)
    persona = {}
    for no in sorted(web_of):
        persona[no] = story.customer(web_of[no])
    story.anonymous(20 * args.customers)
    # chats: customers with an e-mail ask the assistant
    keys_with_email = [web_of[no] for no in sorted(web_of) if web_of[no] in web_email]
    for _ in range(int(0.3 * args.customers)):
        if not keys_with_email:
            break
        k = keys_with_email[rng.randrange(len(keys_with_email))]
        story.chat(web_email[k], rng.randrange(len(CHAT_TOPICS)))
    # fill up to about 1.6 orders per customer with older orders of regulars
    regulars = [web_of[no] for no in sorted(web_of) if persona[no] in ('regular', 'quiet')]
    while len(story.orders) < int(1.6 * args.customers) and regulars:
        k = regulars[rng.randrange(len(regulars))]
        t = REF - 365 * 86400 + rng.randrange((365 - LOG_DAYS) * 86400)
        pr = PRODUCTS[rng.randrange(len(PRODUCTS))]
        story.orders.append([k, t, pr[0], pr[1], 1])
    story.orders.sort(key=lambda o: (o[1], o[0]))
    facts = story.facts()

    out = args.out
    # ---- shop.sql ----
    with open(os.path.join(out, 'shop.sql'), 'w', encoding='utf-8', newline='\n') as f:
        w = f.write
        w('-- The web shop of the retailer story (tools/generate_story.py --customers %d --seed %d)\n'
          % (args.customers, args.seed))
        w("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
          "SET client_min_messages = warning;\nBEGIN;\n"
          "DROP SCHEMA IF EXISTS shop CASCADE;\nCREATE SCHEMA shop;\n")
        w('CREATE TABLE shop.web_shop_customer (customer_ref text PRIMARY KEY, email text, first_name text,\n'
          '    last_name text, phone text, street text, city text, postal_code text, country text,\n'
          '    created_at timestamptz, updated_at timestamptz, newsletter boolean);\n')
        w('COPY shop.web_shop_customer (%s, newsletter) FROM stdin;\n' % blocks['web_shop_customer'][0])
        for line in blocks['web_shop_customer'][1]:
            w('%s\t%s\n' % (line, 't' if newsletter[web_no[line.split('\t', 1)[0]]] else 'f'))
        w('\\.\n')
        w('CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, customer_ref text NOT NULL,\n'
          '    ordered_at timestamptz NOT NULL, product text, total numeric(10,2), items integer, channel text,\n'
          '    coupon text);\n')
        w('CREATE SEQUENCE shop.orders_order_id_seq OWNED BY shop.orders.order_id;\n'
          "ALTER TABLE shop.orders ALTER order_id SET DEFAULT nextval('shop.orders_order_id_seq');\n")
        w('COPY shop.orders FROM stdin;\n')
        for i, o in enumerate(story.orders, 1):
            w('%d\t%s\t%s\t%s\t%d.00\t%d\tweb\t\\N\n' % (i, o[0], ts(o[1]), copy_text(o[2]), o[3], o[4]))
        w('\\.\nALTER SEQUENCE shop.orders_order_id_seq RESTART WITH %d;\n' % (len(story.orders) + 1))
        w('CREATE TABLE shop.chat (chat_id bigint PRIMARY KEY, email text, started_at timestamptz NOT NULL,\n'
          '    topic text, transcript text);\n'
          'CREATE SEQUENCE shop.chat_chat_id_seq OWNED BY shop.chat.chat_id;\n'
          "ALTER TABLE shop.chat ALTER chat_id SET DEFAULT nextval('shop.chat_chat_id_seq');\n")
        w('COPY shop.chat FROM stdin;\n')
        story.chats.sort(key=lambda c: (c[1], c[0]))
        for i, c in enumerate(story.chats, 1):
            w('%d\t%s\t%s\t%s\t%s\n' % (i, copy_text(c[0]), ts(c[1]), c[2], copy_text(c[3])))
        w('\\.\nALTER SEQUENCE shop.chat_chat_id_seq RESTART WITH %d;\n' % (len(story.chats) + 1))
        w('COMMIT;\nANALYZE shop.web_shop_customer;\nANALYZE shop.orders;\nANALYZE shop.chat;\n')
    # ---- loyalty.sql ----
    with open(os.path.join(out, 'loyalty.sql'), 'w', encoding='utf-8', newline='\n') as f:
        w = f.write
        w('-- The loyalty programme of the retailer story (a database of its own)\n')
        w("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
          "SET client_min_messages = warning;\nBEGIN;\n"
          "DROP SCHEMA IF EXISTS loyalty CASCADE;\nCREATE SCHEMA loyalty;\n")
        w('CREATE TABLE loyalty.member (member_no bigint PRIMARY KEY, full_name text, email text, mobile text,\n'
          '    birth_date date, address text, zip text, city text, points integer, updated_at timestamptz);\n')
        w('COPY loyalty.member (%s) FROM stdin;\n' % blocks['loyalty_member'][0])
        members = []
        for line in blocks['loyalty_member'][1]:
            w(line + '\n')
            members.append(line.split('\t', 1)[0])
        w('\\.\n')
        w('CREATE TABLE loyalty.points (txn_id bigint PRIMARY KEY, member_no bigint NOT NULL,\n'
          '    booked_at timestamptz NOT NULL, points integer NOT NULL, reason text);\n')
        w('COPY loyalty.points FROM stdin;\n')
        n = 0
        for m in members:
            for _ in range(rng.randrange(4)):
                n += 1
                earn = rng.random() < 0.8
                pts = (10 + rng.randrange(300)) * (1 if earn else -1)
                t = REF - 365 * 86400 + rng.randrange(364 * 86400)
                w('%d\t%s\t%s\t%d\t%s\n' % (n, m, ts(t), pts, 'purchase' if earn else 'reward'))
        w('\\.\nCOMMIT;\nANALYZE loyalty.member;\nANALYZE loyalty.points;\n')
    # ---- pos.sql ----
    with open(os.path.join(out, 'pos.sql'), 'w', encoding='utf-8', newline='\n') as f:
        w = f.write
        w('-- The stores\' point of sale of the retailer story\n')
        w("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
          "SET client_min_messages = warning;\nBEGIN;\n"
          "DROP SCHEMA IF EXISTS pos CASCADE;\nCREATE SCHEMA pos;\n")
        w('CREATE TABLE pos.pos_customer (pos_id text PRIMARY KEY, first_name text, last_name text, phone text,\n'
          '    email text, postal_code text, store_code text, last_visit timestamptz);\n')
        w('COPY pos.pos_customer (%s) FROM stdin;\n' % blocks['pos_customer'][0])
        for line in blocks['pos_customer'][1]:
            w(line + '\n')
        w('\\.\nCOMMIT;\nANALYZE pos.pos_customer;\n')
    # ---- pageviews.csv ----
    with open(os.path.join(out, 'pageviews.csv'), 'w', encoding='utf-8', newline='') as f:
        f.write('hit_id,cookie_id,user_id,url,ts,referrer\r\n')
        for i, v in enumerate(story.views, 1):
            f.write('%d,%s,%s,%s,%s,%s\r\n' % (i, v[0], v[1], csv_text(v[2]), ts(v[3]), csv_text(v[4])))
    # ---- truth ----
    names = {'web_shop': 'web', 'loyalty': 'loyalty', 'pos': 'pos'}
    with open(os.path.join(out, 'truth.csv'), 'w', encoding='utf-8', newline='') as f:
        f.write('source,source_key,customer_no\r\n')
        for source, key, no in truth:
            f.write('%s,%s,%d\r\n' % (names[source], key, no))
    people = []
    with open(os.path.join(out, 'story.csv'), 'w', encoding='utf-8', newline='') as f:
        f.write('customer_no,web_key,persona,product_views_7d,product_dwell_7d,orders_7d,dwelt_not_bought,'
                'newsletter\r\n')
        for no in sorted(web_of):
            k = web_of[no]
            pv, dw, od, _ = facts.get(k, [0, Decimal(0), 0, None])
            dnb = (pv >= 3 or dw >= 120) and od == 0
            f.write('%d,%s,%s,%d,%s,%d,%s,%s\r\n' % (no, k, persona[no], pv, dw, od, 'true' if dnb else 'false',
                                                   'true' if newsletter[no] else 'false'))
            people.append({'customer_no': no, 'web_key': k, 'persona': persona[no],
                           'product_views_7d': pv, 'product_dwell_7d': str(dw),
                           'orders_7d': od, 'dwelt_not_bought': dnb, 'newsletter': newsletter[no]})
    # ---- behaviour.csv: what the dwellers do next ----
    price = dict(PRODUCTS)
    with open(os.path.join(out, 'behaviour.csv'), 'w', encoding='utf-8', newline='') as f:
        f.write('customer_no,web_key,opens_offer,clicks_offer,buys,opens_reminder,chats_first,'
                'buys_without_email,product,price,items\r\n')
        for x in people:
            if not x['dwelt_not_bought']:
                continue
            last = facts[x['web_key']][3]
            product = last[1][len('/product/'):] if last else PRODUCTS[brng.randrange(len(PRODUCTS))][0]
            opens = brng.random() < 0.50
            clicks = opens and brng.random() < 0.40
            u = brng.random()
            if u < (0.50 if clicks else 0.12 if opens else 0.03):
                buys = 'offer'
                opens_reminder = False
            else:
                opens_reminder = brng.random() < 0.35
                buys = 'reminder' if opens_reminder and brng.random() < 0.30 else ''
            chats = brng.random() < (0.45 if buys else 0.08)
            without = brng.random() < 0.06
            items = 1 + (brng.random() < 0.3) + (brng.random() < 0.1)
            b = lambda v: 'true' if v else 'false'
            f.write('%d,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d\r\n'
                    % (x['customer_no'], x['web_key'], b(opens), b(clicks), buys, b(opens_reminder),
                       b(chats), b(without), csv_text(product), price[product], items))
            x['behaviour'] = {'opens_offer': opens, 'clicks_offer': clicks, 'buys': buys or None,
                              'opens_reminder': opens_reminder, 'chats_first': chats,
                              'buys_without_email': without, 'product': product,
                              'price': price[product], 'items': items}
    n_true = len({t[2] for t in truth})
    dwellers = sum(1 for x in people if x['dwelt_not_bought'])
    summary = {
        'customers': args.customers, 'seed': args.seed,
        'reference_time': ts(REF), 'window_days': 7,
        'segment_definition': DEFINITION,
        'counts': {'records': len(truth), 'true_customers': n_true,
                   'web_records': sum(1 for t in truth if t[0] == 'web_shop'),
                   'loyalty_records': sum(1 for t in truth if t[0] == 'loyalty'),
                   'pos_records': sum(1 for t in truth if t[0] == 'pos'),
                   'page_views': len(story.views), 'orders': len(story.orders),
                   'chats': len(story.chats), 'dwelt_not_bought': dwellers},
        'customers_with_web_account': people,
    }
    with open(os.path.join(out, 'truth.json'), 'w', encoding='utf-8', newline='\n') as f:
        json.dump(summary, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write('\n')
    sys.stderr.write('generate_story: %d records of %d customers, %d page views, %d orders, %d chats; '
                     '%d dwelt without buying\n' % (len(truth), n_true, len(story.views),
                                                     len(story.orders), len(story.chats), dwellers))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
