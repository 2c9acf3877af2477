-- A small, invented sample of messy customer records from the three places a
-- retailer keeps customers: the web shop, the loyalty-card database and the
-- stores' point of sale.  Names, addresses, emails and phone numbers are
-- fictional (phone numbers from ranges reserved for fiction where they exist:
-- US 555-01xx, UK 020 7946 0xxx, Australia 02 5550 xxxx).

CREATE TABLE web_customer (
    id          int PRIMARY KEY,
    full_name   text,
    email       text,
    phone       text,
    address     text,
    country     text
);
INSERT INTO web_customer VALUES
 (1, 'Robert Smith',        'Robert.Smith+shop@gmail.com',  '(415) 555-0123',        '123 N. Main Street, Apt 4', 'US'),
 (2, 'Dr. Elizabeth Tayler','liz.taylor@outlook.com',       '+44 (0)20 7946 0018',   '221B Baker Street', 'GB'),
 (3, 'José García-López',   'jose.garcia@example.es',       '+34 612 34 56 78',      'Calle Mayor 5, 2º', 'ES'),
 (4, 'Margaret O''Neil',    'peggy.oneil@icloud.com',       '1-800-FLOWERS',         '9 Harbour Road', 'US'),
 (5, 'Jürgen Müller',       'j.mueller@example.de',         '030 1234567',           'Hauptstraße 12', 'DE'),
 (6, 'William Johnson Jr.', 'bill.johnson@example.com',     '(212) 555-0142 ext. 12','77 Sunset Boulevard', 'US'),
 (7, 'Anne-Marie Dubois',   'anne.marie.dubois@example.fr', '06 12 34 56 78',        '8 rue de la Paix', 'FR'),
 (8, 'Chen Wei',            'chen.wei@example.cn',          '+86 138 0013 8000',     'No. 1 Renmin Road', 'CN');

CREATE TABLE loyalty_member (
    card_no     text PRIMARY KEY,
    first_name  text,
    last_name   text,
    email       text,
    mobile      text,
    country     text
);
INSERT INTO loyalty_member VALUES
 ('L-1001', 'Bob',       'Smith',        'robertsmith@googlemail.com', '+1 415 555 0123', 'US'),
 ('L-1002', 'Liz',       'Taylor',       'LIZ.TAYLOR@OUTLOOK.COM ',    '020 7946 0018', 'GB'),
 ('L-1003', 'Jose',      'Garcia Lopez', 'jose.garcia@example.es',     '0034 612345678', 'ES'),
 ('L-1004', 'Peggy',     'ONeil',        'peggy.oneil+offers@icloud.com', '18003569377', 'US'),
 ('L-1005', 'Jurgen',    'Mueller',      'j.mueller@example.de',       '+49 30 1234567', 'DE'),
 ('L-1006', 'Bill',      'Johnson',      'bill.johnson@example.com',   '212-555-0142', 'US'),
 ('L-1007', 'Annemarie', 'Dubois',       'not an email',               '+33 6 12 34 56 78', 'FR'),
 ('L-1008', 'Olivia',    'Brown',        'olivia.brown@example.com.au','(02) 5550 1234', 'AU');

CREATE TABLE pos_customer (
    customer_ref text PRIMARY KEY,
    name         text,
    phone        text,
    street       text,
    store_country text
);
INSERT INTO pos_customer VALUES
 ('P-77', 'SMITH, ROBERT',       '415.555.0123',   '123 north main st #4', 'US'),
 ('P-78', 'Mrs E. Taylor',       '+442079460018',  '221b Baker St.', 'GB'),
 ('P-79', 'Olivia Browne',       '02 5550 1234',   '14 Wattle Avenue', 'AU'),
 ('P-80', 'Wei Chen',            '13800138000',    '1 Renmin Rd', 'CN'),
 ('P-81', 'Unknown',             '0000000000',     'n/a', 'US');
