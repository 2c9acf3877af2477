
-- ---------------------------------------------------------------------------
-- clienteling.sql: client books and customer cards for store associates
-- (issue 7).  Legal entities, stores with their address books, associates
-- mapped to PostgreSQL roles and the stores they work in; one client book
-- per associate per legal entity; client book attributes the retailer
-- defines and associates fill in; activities and notes associates record;
-- the customer card; row-level security so that an associate sees the data
-- of their own legal entities only.
--
-- Who may do what:
--   cdp_admin      configures (entities, stores, associates, attributes,
--                  activity types, card measures) and sees every row;
--   cdp_associate  reads the clienteling tables of their entities, adds to
--                  and removes from client books, sets attribute values,
--                  records activities and notes;
--   cdp_analyst    reads the non-clienteling cdp tables, nothing here.
-- Changes go through SECURITY DEFINER functions that find the caller's
-- associate (cdp._caller()) and check the caller's stores and entities;
-- reads go through the tables' policies, whose helpers are SECURITY DEFINER
-- so that no policy reads a table that has a policy reading it back.
-- ---------------------------------------------------------------------------

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'cdp_analyst') THEN
    CREATE ROLE cdp_analyst NOLOGIN;
    COMMENT ON ROLE cdp_analyst IS 'pg_cdp analysts: read the non-clienteling cdp tables (profiles, activities, measures, segments, journeys), not channel secrets nor message bodies';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'cdp_associate') THEN
    CREATE ROLE cdp_associate NOLOGIN;
    COMMENT ON ROLE cdp_associate IS 'pg_cdp store associates: read the clienteling data of their own legal entities (row-level security) and the profiles the customer card shows; change client books, attribute values, activities and notes through the cdp functions';
  END IF;
END
$$;

-- ------------------------------------------------------------ organisation
CREATE TABLE @extschema@.legal_entity (
    entity            text PRIMARY KEY CHECK (entity ~ '^[^[:space:][:cntrl:]]{1,63}$'),
    name              text NOT NULL,
    several_books     boolean NOT NULL DEFAULT false,
    notes_visible_to  text NOT NULL DEFAULT 'entity' CHECK (notes_visible_to IN ('entity', 'owner_and_managers'))
);
COMMENT ON TABLE @extschema@.legal_entity IS 'Legal entities (companies) that own stores, client books and the clienteling data of their associates; the clienteling settings of each (cdp.alter_legal_entity)';
COMMENT ON COLUMN @extschema@.legal_entity.entity IS 'entity code';
COMMENT ON COLUMN @extschema@.legal_entity.name IS 'display name';
COMMENT ON COLUMN @extschema@.legal_entity.several_books IS 'false (default, Commerce''s rule): a customer is in at most one client book of the entity; true: in several';
COMMENT ON COLUMN @extschema@.legal_entity.notes_visible_to IS 'entity (default, Commerce''s behaviour): every associate of the entity reads its notes; owner_and_managers: only the note''s author, the owners of client books holding the customer and the managers of their stores';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legal_entity', '');

CREATE TABLE @extschema@.address_book (
    address_book  text PRIMARY KEY CHECK (address_book ~ '^[^[:space:][:cntrl:]]{1,63}$'),
    entity        text NOT NULL REFERENCES @extschema@.legal_entity ON UPDATE CASCADE,
    UNIQUE (address_book, entity)
);
COMMENT ON TABLE @extschema@.address_book IS 'Store address books: stores that share one share a store client book';
COMMENT ON COLUMN @extschema@.address_book.address_book IS 'address book code';
COMMENT ON COLUMN @extschema@.address_book.entity IS 'legal entity it belongs to';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.address_book', '');

CREATE TABLE @extschema@.store (
    store         text PRIMARY KEY CHECK (store ~ '^[^[:space:][:cntrl:]]{1,63}$'),
    entity        text NOT NULL,
    address_book  text NOT NULL,
    name          text NOT NULL,
    UNIQUE (store, entity),
    FOREIGN KEY (address_book, entity) REFERENCES @extschema@.address_book (address_book, entity) ON UPDATE CASCADE
);
COMMENT ON TABLE @extschema@.store IS 'Stores: each belongs to a legal entity and has an address book (cdp.create_store)';
COMMENT ON COLUMN @extschema@.store.store IS 'store code';
COMMENT ON COLUMN @extschema@.store.entity IS 'legal entity it belongs to';
COMMENT ON COLUMN @extschema@.store.address_book IS 'its address book (cdp.address_book)';
COMMENT ON COLUMN @extschema@.store.name IS 'display name';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.store', '');

CREATE TABLE @extschema@.associate (
    associate  text PRIMARY KEY CHECK (associate ~ '^[^[:space:][:cntrl:]]{1,63}$'),
    role       name NOT NULL UNIQUE,
    name       text NOT NULL
);
COMMENT ON TABLE @extschema@.associate IS 'Store associates, each mapped to the PostgreSQL role they log in as (cdp.create_associate)';
COMMENT ON COLUMN @extschema@.associate.associate IS 'associate code (staff number, login)';
COMMENT ON COLUMN @extschema@.associate.role IS 'the PostgreSQL role of the associate (one associate per role)';
COMMENT ON COLUMN @extschema@.associate.name IS 'display name';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.associate', '');

CREATE TABLE @extschema@.associate_store (
    associate   text NOT NULL REFERENCES @extschema@.associate ON UPDATE CASCADE ON DELETE CASCADE,
    store       text NOT NULL,
    entity      text NOT NULL,
    is_manager  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (associate, store),
    FOREIGN KEY (store, entity) REFERENCES @extschema@.store (store, entity) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX associate_store_store ON @extschema@.associate_store (store);
COMMENT ON INDEX @extschema@.associate_store_store IS 'associates of a store';
COMMENT ON TABLE @extschema@.associate_store IS 'The stores an associate works in, and whether they manage it (cdp.assign_store)';
COMMENT ON COLUMN @extschema@.associate_store.associate IS 'the associate';
COMMENT ON COLUMN @extschema@.associate_store.store IS 'a store they work in';
COMMENT ON COLUMN @extschema@.associate_store.entity IS 'the store''s legal entity';
COMMENT ON COLUMN @extschema@.associate_store.is_manager IS 'they manage the store: may change the client books of its associates and read the notes on their customers';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.associate_store', '');

-- -------------------------------------------------------------- client books
CREATE TABLE @extschema@.client_book_entry (
    entity       text NOT NULL REFERENCES @extschema@.legal_entity ON UPDATE CASCADE,
    associate    text NOT NULL REFERENCES @extschema@.associate ON UPDATE CASCADE,
    customer_id  bigint NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    added_by     text,
    exclusive    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (entity, associate, customer_id)
);
CREATE UNIQUE INDEX client_book_one_book ON @extschema@.client_book_entry (entity, customer_id) WHERE exclusive;
CREATE INDEX client_book_customer ON @extschema@.client_book_entry (customer_id);
COMMENT ON INDEX @extschema@.client_book_one_book IS 'the one-book rule: a customer is in at most one client book per legal entity (rows of entities that allow several books are not exclusive)';
COMMENT ON INDEX @extschema@.client_book_customer IS 'the books a customer is in';
COMMENT ON TABLE @extschema@.client_book_entry IS 'Client books: the customers in the book of each associate, one book per associate per legal entity (cdp.client_book_add, cdp.client_book_remove, cdp.client_book_reassign)';
COMMENT ON COLUMN @extschema@.client_book_entry.entity IS 'legal entity of the book';
COMMENT ON COLUMN @extschema@.client_book_entry.associate IS 'owner of the book';
COMMENT ON COLUMN @extschema@.client_book_entry.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.client_book_entry.added_at IS 'when the customer entered this book';
COMMENT ON COLUMN @extschema@.client_book_entry.added_by IS 'the role that added or reassigned it';
COMMENT ON COLUMN @extschema@.client_book_entry.exclusive IS 'set by a trigger from the entity''s several_books setting (true: the one-book rule holds); not to be set by hand';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_book_entry', '');

-- The one-book rule lives in the unique index above; this trigger marks each
-- row with the rule its entity follows.  It locks the entity row (FOR SHARE)
-- so that a concurrent change of the setting waits for the insert or sees it.
CREATE FUNCTION @extschema@._client_book_exclusive()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  NEW.exclusive := NOT coalesce((SELECT e.several_books FROM @extschema@.legal_entity e
                                  WHERE e.entity = NEW.entity FOR SHARE), false);
  RETURN NEW;
END;
$$;
COMMENT ON FUNCTION @extschema@._client_book_exclusive() IS 'Internal: marks a client book row exclusive unless its legal entity allows several books';
REVOKE EXECUTE ON FUNCTION @extschema@._client_book_exclusive() FROM PUBLIC;
CREATE TRIGGER client_book_exclusive BEFORE INSERT OR UPDATE ON @extschema@.client_book_entry
  FOR EACH ROW EXECUTE FUNCTION @extschema@._client_book_exclusive();
COMMENT ON TRIGGER client_book_exclusive ON @extschema@.client_book_entry IS 'sets exclusive from the entity''s several_books setting';

-- ------------------------------------------------------ client book attributes
CREATE TABLE @extschema@.client_attribute (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    type           text NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean')),
    display_order  integer NOT NULL,
    refinable      boolean NOT NULL DEFAULT false,
    label          text NOT NULL
);
COMMENT ON TABLE @extschema@.client_attribute IS 'The client book attribute group: attributes the retailer defines (preferred brand, shoe size, anniversary…), their display order and whether client books can be refined (filtered) by them (cdp.create_client_attribute)';
COMMENT ON COLUMN @extschema@.client_attribute.name IS 'attribute name';
COMMENT ON COLUMN @extschema@.client_attribute.type IS 'text, number, date or boolean';
COMMENT ON COLUMN @extschema@.client_attribute.display_order IS 'position on the customer card and in lists (ties: by name)';
COMMENT ON COLUMN @extschema@.client_attribute.refinable IS 'cdp.client_book may filter by it';
COMMENT ON COLUMN @extschema@.client_attribute.label IS 'label shown on the card';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_attribute', '');

CREATE TABLE @extschema@.client_attribute_value (
    entity       text NOT NULL REFERENCES @extschema@.legal_entity ON UPDATE CASCADE,
    customer_id  bigint NOT NULL,
    attribute    text NOT NULL REFERENCES @extschema@.client_attribute ON UPDATE CASCADE ON DELETE CASCADE,
    value        text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text,
    PRIMARY KEY (entity, customer_id, attribute)
);
CREATE INDEX client_attribute_value_refine ON @extschema@.client_attribute_value (entity, attribute, value);
COMMENT ON INDEX @extschema@.client_attribute_value_refine IS 'customers with a given attribute value (refining client books)';
COMMENT ON TABLE @extschema@.client_attribute_value IS 'Client book attribute values per customer and legal entity (cdp.set_client_attribute)';
COMMENT ON COLUMN @extschema@.client_attribute_value.entity IS 'legal entity whose associates set it';
COMMENT ON COLUMN @extschema@.client_attribute_value.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.client_attribute_value.attribute IS 'the attribute (cdp.client_attribute)';
COMMENT ON COLUMN @extschema@.client_attribute_value.value IS 'the value in canonical text form: numbers without trailing zeros, dates YYYY-MM-DD, booleans true/false';
COMMENT ON COLUMN @extschema@.client_attribute_value.updated_at IS 'when it was last set';
COMMENT ON COLUMN @extschema@.client_attribute_value.updated_by IS 'the role that set it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_attribute_value', '');

-- ------------------------------------------------------ activities and notes
CREATE TABLE @extschema@.client_activity_type (
    name         text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    description  text NOT NULL
);
COMMENT ON TABLE @extschema@.client_activity_type IS 'Kinds of activity associates record (store visit, phone call, appointment…), configured by the retailer (cdp.create_client_activity_type)';
COMMENT ON COLUMN @extschema@.client_activity_type.name IS 'type name (the type column of cdp.timeline)';
COMMENT ON COLUMN @extschema@.client_activity_type.description IS 'what activities of this type are';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_activity_type', '');

CREATE TABLE @extschema@.client_activity (
    activity_id  bigserial PRIMARY KEY,
    entity       text NOT NULL REFERENCES @extschema@.legal_entity ON UPDATE CASCADE,
    customer_id  bigint NOT NULL,
    type         text NOT NULL REFERENCES @extschema@.client_activity_type ON UPDATE CASCADE,
    occurred_at  timestamptz NOT NULL,
    associate    text NOT NULL REFERENCES @extschema@.associate ON UPDATE CASCADE,
    store        text REFERENCES @extschema@.store ON UPDATE CASCADE ON DELETE SET NULL,
    description  text,
    detail       jsonb NOT NULL DEFAULT '{}',
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_activity_customer ON @extschema@.client_activity (customer_id, occurred_at DESC);
COMMENT ON INDEX @extschema@.client_activity_customer IS 'a customer''s activities, newest first';
COMMENT ON TABLE @extschema@.client_activity IS 'Activities associates recorded with customers (cdp.record_client_activity); shown by cdp.timeline to those who may read them';
COMMENT ON COLUMN @extschema@.client_activity.activity_id IS 'activity number';
COMMENT ON COLUMN @extschema@.client_activity.entity IS 'legal entity of the associate who recorded it';
COMMENT ON COLUMN @extschema@.client_activity.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.client_activity.type IS 'activity type (cdp.client_activity_type)';
COMMENT ON COLUMN @extschema@.client_activity.occurred_at IS 'when it happened';
COMMENT ON COLUMN @extschema@.client_activity.associate IS 'the associate who recorded it';
COMMENT ON COLUMN @extschema@.client_activity.store IS 'the store it happened in or from';
COMMENT ON COLUMN @extschema@.client_activity.description IS 'what happened, in words';
COMMENT ON COLUMN @extschema@.client_activity.detail IS 'further details (a JSON object)';
COMMENT ON COLUMN @extschema@.client_activity.recorded_at IS 'when it was recorded';
COMMENT ON SEQUENCE @extschema@.client_activity_activity_id_seq IS 'numbers client activities';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_activity', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_activity_activity_id_seq', '');

CREATE TABLE @extschema@.client_note (
    note_id      bigserial PRIMARY KEY,
    entity       text NOT NULL REFERENCES @extschema@.legal_entity ON UPDATE CASCADE,
    customer_id  bigint NOT NULL,
    author       text NOT NULL REFERENCES @extschema@.associate ON UPDATE CASCADE,
    store        text REFERENCES @extschema@.store ON UPDATE CASCADE ON DELETE SET NULL,
    note         text NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_note_customer ON @extschema@.client_note (customer_id, written_at DESC);
COMMENT ON INDEX @extschema@.client_note_customer IS 'a customer''s notes, newest first';
COMMENT ON TABLE @extschema@.client_note IS 'Notes associates wrote about customers (cdp.add_client_note); who reads them follows the entity''s notes_visible_to setting';
COMMENT ON COLUMN @extschema@.client_note.note_id IS 'note number';
COMMENT ON COLUMN @extschema@.client_note.entity IS 'legal entity of the author';
COMMENT ON COLUMN @extschema@.client_note.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.client_note.author IS 'the associate who wrote it';
COMMENT ON COLUMN @extschema@.client_note.store IS 'the author''s store when written';
COMMENT ON COLUMN @extschema@.client_note.note IS 'the text';
COMMENT ON COLUMN @extschema@.client_note.written_at IS 'when it was written';
COMMENT ON SEQUENCE @extschema@.client_note_note_id_seq IS 'numbers client notes';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_note', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_note_note_id_seq', '');

-- ------------------------------------------------------------ customer card
CREATE TABLE @extschema@.card_measure (
    position  integer PRIMARY KEY CHECK (position BETWEEN 1 AND 3),
    measure   text NOT NULL UNIQUE REFERENCES @extschema@.measure ON UPDATE CASCADE ON DELETE CASCADE,
    label     text NOT NULL
);
COMMENT ON TABLE @extschema@.card_measure IS 'Up to three customer measures shown first on the customer card, by position (cdp.set_card_measures)';
COMMENT ON COLUMN @extschema@.card_measure.position IS 'slot, 1 to 3';
COMMENT ON COLUMN @extschema@.card_measure.measure IS 'a customer measure (cdp.measure)';
COMMENT ON COLUMN @extschema@.card_measure.label IS 'label shown on the card';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.card_measure', '');

-- ------------------------------------------------------------------ helpers
-- The role that called: the role set with SET ROLE, else the session user.
-- Inside a SECURITY DEFINER function current_user is the function's owner,
-- so the functions that change client books ask this instead.
CREATE FUNCTION @extschema@._caller()
RETURNS name
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN current_setting('role') IN ('none', '') THEN session_user
              ELSE current_setting('role')::name END
$$;
COMMENT ON FUNCTION @extschema@._caller() IS 'Internal: the calling role as seen from a SECURITY DEFINER function (SET ROLE, else the session user)';

-- Raises 42501 unless the calling role (cdp._caller()) itself may execute
-- function f.  PostgreSQL checks EXECUTE against current_user, which inside
-- another role's SECURITY DEFINER function is that function's owner, while
-- the cdp functions act as cdp._caller(); without this check a role holding
-- EXECUTE could lend it to whoever calls its SECURITY DEFINER function and
-- act with their identity.
CREATE FUNCTION @extschema@._check_caller_may(f regprocedure)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me name := @extschema@._caller();
BEGIN
  IF NOT has_function_privilege(me, f, 'EXECUTE') THEN
    RAISE EXCEPTION 'permission denied for function %', f USING ERRCODE = '42501',
      DETAIL = format('Role "%s" may not execute it; a function of another role called it on their behalf.', me),
      HINT = 'Call it as a role that holds EXECUTE on it.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._check_caller_may(regprocedure) IS 'Internal: raises an error unless the calling role itself holds EXECUTE on a function';
REVOKE EXECUTE ON FUNCTION @extschema@._check_caller_may(regprocedure) FROM PUBLIC;

-- The legal entities whose stores the associate of role r works in.  For
-- the policies: SECURITY DEFINER, so the policy reads no table with a policy
-- of its own; answers only for roles the session user is a member of.
CREATE FUNCTION @extschema@._entities_of(r name)
RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(DISTINCT w.entity ORDER BY w.entity), '{}')
    FROM @extschema@.associate a JOIN @extschema@.associate_store w ON w.associate = a.associate
   WHERE a.role = r
     AND CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
              THEN pg_has_role(session_user, r, 'MEMBER') ELSE false END
$$;
COMMENT ON FUNCTION @extschema@._entities_of(name) IS 'Internal (row-level security): the legal entities the associate of a role works for';

-- May role r read a note of entity e on customer c written by author?
-- Entity setting "entity": every associate of e; "owner_and_managers": the
-- author, the owners of books of e holding the customer, and the managers
-- of the stores (of e) those owners work in.
CREATE FUNCTION @extschema@._can_read_note(e text, c bigint, author text, r name)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  WITH me AS (
    SELECT a.associate FROM @extschema@.associate a
     WHERE a.role = r
       AND CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
                THEN pg_has_role(session_user, r, 'MEMBER') ELSE false END
       AND EXISTS (SELECT 1 FROM @extschema@.associate_store w WHERE w.associate = a.associate AND w.entity = e))
  SELECT EXISTS (
    SELECT 1 FROM me
     WHERE (SELECT le.notes_visible_to FROM @extschema@.legal_entity le WHERE le.entity = e) = 'entity'
        OR me.associate = author
        OR EXISTS (SELECT 1 FROM @extschema@.client_book_entry b
                    WHERE b.entity = e AND b.customer_id = c AND b.associate = me.associate)
        OR EXISTS (SELECT 1 FROM @extschema@.client_book_entry b
                     JOIN @extschema@.associate_store ow ON ow.associate = b.associate AND ow.entity = e
                     JOIN @extschema@.associate_store mg ON mg.store = ow.store AND mg.associate = me.associate AND mg.is_manager
                    WHERE b.entity = e AND b.customer_id = c))
$$;
COMMENT ON FUNCTION @extschema@._can_read_note(text, bigint, text, name) IS 'Internal (row-level security): whether a role may read a note, by its entity''s notes_visible_to setting';

-- The associate of role r (NULL when it is none).
CREATE FUNCTION @extschema@._associate_of(r name)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT a.associate FROM @extschema@.associate a WHERE a.role = r
$$;
COMMENT ON FUNCTION @extschema@._associate_of(name) IS 'Internal: the associate mapped to a role';
REVOKE EXECUTE ON FUNCTION @extschema@._associate_of(name) FROM PUBLIC;

-- Whether role r administers pg_cdp (cdp_admin, or a superuser).
CREATE FUNCTION @extschema@._is_cdp_admin(r name)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_has_role(r, 'cdp_admin', 'USAGE')
$$;
COMMENT ON FUNCTION @extschema@._is_cdp_admin(name) IS 'Internal: whether a role has the privileges of cdp_admin (superusers have)';

-- Does associate x work in a store of entity e (as a manager: managing it)?
CREATE FUNCTION @extschema@._works_for(x text, e text, manager boolean DEFAULT false)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT EXISTS (SELECT 1 FROM @extschema@.associate_store w
                  WHERE w.associate = x AND w.entity = e AND (NOT manager OR w.is_manager))
$$;
COMMENT ON FUNCTION @extschema@._works_for(text, text, boolean) IS 'Internal: whether an associate works for (or manages a store of) a legal entity';
REVOKE EXECUTE ON FUNCTION @extschema@._works_for(text, text, boolean) FROM PUBLIC;

-- Does associate m manage a store (of entity e) that associate x works in?
CREATE FUNCTION @extschema@._manages(m text, x text, e text)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT EXISTS (SELECT 1 FROM @extschema@.associate_store mg JOIN @extschema@.associate_store w ON w.store = mg.store
                  WHERE mg.associate = m AND mg.is_manager AND mg.entity = e AND w.associate = x)
$$;
COMMENT ON FUNCTION @extschema@._manages(text, text, text) IS 'Internal: whether an associate manages a store of a legal entity that another associate works in';
REVOKE EXECUTE ON FUNCTION @extschema@._manages(text, text, text) FROM PUBLIC;

-- The caller as an associate working for entity e (given, or their only
-- one): returns (associate, entity); cdp_admin may act for any entity and
-- need not be an associate.  what: the action, for the messages.
-- The legal entity an associate acts for: e when given, else the only one
-- they work for (an error naming "who" when there is none or several); it
-- must exist.
CREATE FUNCTION @extschema@._entity_of(x text, e text, what text, who text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ents text[];
BEGIN
  IF e IS NULL THEN
    SELECT array_agg(DISTINCT w.entity ORDER BY w.entity) INTO ents FROM @extschema@.associate_store w WHERE w.associate = x;
    IF coalesce(cardinality(ents), 0) <> 1 THEN
      RAISE EXCEPTION 'name the legal entity to %', what USING ERRCODE = '22023',
        DETAIL = CASE WHEN ents IS NULL THEN format('%s works in no store.', who)
                      ELSE format('%s works for the legal entities %s.', who, array_to_string(ents, ', ')) END,
        HINT = 'Pass entity => ''...''.';
    END IF;
    e := ents[1];
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.legal_entity le WHERE le.entity = e) THEN
    RAISE EXCEPTION 'legal entity "%" does not exist', e USING ERRCODE = '42704',
      HINT = 'An administrator creates it with cdp.create_legal_entity.';
  END IF;
  RETURN e;
END;
$$;
COMMENT ON FUNCTION @extschema@._entity_of(text, text, text, text) IS 'Internal: the legal entity an associate acts for (given, or the only one they work for), checked';
REVOKE EXECUTE ON FUNCTION @extschema@._entity_of(text, text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@._acting_associate(e text, what text, OUT associate text, OUT entity text, OUT is_admin boolean)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me name := @extschema@._caller();
BEGIN
  is_admin := @extschema@._is_cdp_admin(me);
  associate := @extschema@._associate_of(me);
  IF associate IS NULL AND NOT is_admin THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Role "%s" is not a store associate.', me),
      HINT = 'An administrator maps the role to an associate with cdp.create_associate and cdp.assign_store.';
  END IF;
  -- a legal entity the caller does not work for: denied before it is
  -- looked up, so that the error tells nothing of other entities
  IF NOT is_admin AND e IS NOT NULL AND NOT @extschema@._works_for(associate, e) THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Associate "%s" works in no store of legal entity "%s".', associate, e),
      HINT = 'Associates act for the legal entities of the stores they work in (cdp.assign_store).';
  END IF;
  e := @extschema@._entity_of(associate, e, what, format('Role "%s"', me));
  IF NOT is_admin AND NOT @extschema@._works_for(associate, e) THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Associate "%s" works in no store of legal entity "%s".', associate, e),
      HINT = 'Associates act for the legal entities of the stores they work in (cdp.assign_store).';
  END IF;
  entity := e;
END;
$$;
COMMENT ON FUNCTION @extschema@._acting_associate(text, text) IS 'Internal: the calling associate and the legal entity they act for, checked';
REVOKE EXECUTE ON FUNCTION @extschema@._acting_associate(text, text) FROM PUBLIC;

-- Checks that a customer exists.
CREATE FUNCTION @extschema@._check_customer(c bigint)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF c IS NULL THEN
    RAISE EXCEPTION 'customer_id must not be null' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.customer x WHERE x.customer_id = c) THEN
    RAISE EXCEPTION 'customer % does not exist', c USING ERRCODE = '42704',
      HINT = 'Customer ids are those of cdp.customer (see cdp.customer_id_history when ids merged).';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._check_customer(bigint) IS 'Internal: raises an error unless the customer exists';
REVOKE EXECUTE ON FUNCTION @extschema@._check_customer(bigint) FROM PUBLIC;

-- A value of a client attribute in its canonical text form (numbers without
-- trailing zeros, dates YYYY-MM-DD, booleans true/false); errors name the
-- attribute.  STABLE: reading a date follows DateStyle.
CREATE FUNCTION @extschema@._client_attribute_canonical(attr text, type text, v text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF v IS NULL THEN
    RETURN NULL;
  END IF;
  BEGIN
    -- NaN and infinities are no sizes, amounts or counts (data_exception:
    -- reported below like any unreadable number)
    IF type = 'number' AND v::numeric IN ('NaN', 'Infinity', '-Infinity') THEN
      RAISE EXCEPTION 'not a finite number' USING ERRCODE = '22P02';
    END IF;
    RETURN CASE type
      WHEN 'number' THEN trim_scale(v::numeric)::text
      WHEN 'date' THEN to_char(v::date, 'YYYY-MM-DD')
      WHEN 'boolean' THEN v::boolean::text
      ELSE v END;
  EXCEPTION WHEN data_exception THEN
    RAISE EXCEPTION 'invalid value for client attribute "%": "%"', attr, left(v, 100) USING ERRCODE = '22P02',
      DETAIL = format('"%s" is of type %s.', attr, type),
      HINT = CASE type WHEN 'number' THEN 'Write a number such as 38 or 38.5.'
                       WHEN 'date' THEN 'Write a date as YYYY-MM-DD.'
                       ELSE 'Write true or false.' END;
  END;
END;
$$;
COMMENT ON FUNCTION @extschema@._client_attribute_canonical(text, text, text) IS 'Internal: a client attribute value in canonical text form, checked against the attribute''s type';

-- A stored (canonical) value as JSON of its type.
CREATE FUNCTION @extschema@._client_attribute_json(type text, v text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN v IS NULL THEN NULL
              WHEN type = 'number' THEN to_jsonb(v::numeric)
              WHEN type = 'boolean' THEN to_jsonb(v::boolean)
              ELSE to_jsonb(v) END
$$;
COMMENT ON FUNCTION @extschema@._client_attribute_json(text, text) IS 'Internal: a stored client attribute value as JSON of its type';

-- ------------------------------------------------------- row-level security
-- cdp_admin: every row, and may write them directly; cdp_associate: the rows
-- of the legal entities of the stores they work in (notes: as the entity's
-- notes_visible_to setting says); anyone else: nothing.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['legal_entity', 'address_book', 'store', 'associate', 'associate_store',
                           'client_book_entry', 'client_attribute_value', 'client_activity', 'client_note'] LOOP
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY admin_all ON @extschema@.%I TO cdp_admin USING (true) WITH CHECK (true)', t);
    EXECUTE format('COMMENT ON POLICY admin_all ON @extschema@.%I IS %L', t, 'cdp_admin reads and writes every row');
    EXECUTE format('REVOKE ALL ON @extschema@.%I FROM PUBLIC', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.%I TO cdp_admin', t);
    EXECUTE format('GRANT SELECT ON @extschema@.%I TO cdp_associate', t);
  END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE @extschema@.client_activity_activity_id_seq, @extschema@.client_note_note_id_seq TO cdp_admin;

CREATE POLICY associate_read ON @extschema@.legal_entity FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.address_book FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.store FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.associate_store FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.associate FOR SELECT TO cdp_associate
  USING (role = current_user
         OR associate IN (SELECT w.associate FROM @extschema@.associate_store w
                           WHERE w.entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[])));
CREATE POLICY associate_read ON @extschema@.client_book_entry FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.client_attribute_value FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.client_activity FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[]));
CREATE POLICY associate_read ON @extschema@.client_note FOR SELECT TO cdp_associate
  USING (entity = ANY ((SELECT @extschema@._entities_of(current_user))::text[])
         AND @extschema@._can_read_note(entity, customer_id, author, current_user));
COMMENT ON POLICY associate_read ON @extschema@.legal_entity IS 'associates read the legal entities they work for';
COMMENT ON POLICY associate_read ON @extschema@.address_book IS 'associates read the address books of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.store IS 'associates read the stores of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.associate_store IS 'associates read who works in the stores of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.associate IS 'associates read themselves and the associates of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.client_book_entry IS 'associates read the client books of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.client_attribute_value IS 'associates read the attribute values of their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.client_activity IS 'associates read the activities recorded in their legal entities';
COMMENT ON POLICY associate_read ON @extschema@.client_note IS 'associates read the notes of their legal entities that the entity''s notes_visible_to setting lets them read';

-- Configuration without entity data: readable by everyone.
GRANT SELECT ON @extschema@.client_attribute, @extschema@.client_activity_type, @extschema@.card_measure TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON @extschema@.client_attribute, @extschema@.client_activity_type, @extschema@.card_measure TO cdp_admin;

-- What the customer card and the timeline read, for associates and admins;
-- the rest of cdp for analysts (not channel secrets, not message bodies).
GRANT SELECT ON @extschema@.customer, @extschema@.customer_measure, @extschema@.activity TO cdp_associate, cdp_admin;
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
              AND c.relname NOT IN ('channel_secret', 'message', 'legal_entity', 'address_book', 'store', 'associate',
                                    'associate_store', 'client_book_entry', 'client_attribute', 'client_attribute_value',
                                    'client_activity_type', 'client_activity', 'client_note', 'card_measure')
            ORDER BY c.relname LOOP
    EXECUTE format('GRANT SELECT ON %s TO cdp_analyst', t);
  END LOOP;
END
$$;

-- ------------------------------------------------------------ administration
CREATE FUNCTION @extschema@.create_legal_entity(entity text, name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF entity IS NULL OR entity !~ '^[^[:space:][:cntrl:]]{1,63}$' THEN
    RAISE EXCEPTION 'invalid legal entity code "%"', entity USING ERRCODE = '42602',
      HINT = 'Use 1 to 63 characters without spaces.';
  END IF;
  INSERT INTO @extschema@.legal_entity (entity, name) VALUES (entity, coalesce(name, entity));
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'legal entity "%" already exists', entity USING ERRCODE = '42710';
END;
$$;
COMMENT ON FUNCTION @extschema@.create_legal_entity(text, text) IS 'Creates a legal entity (cdp_admin)';

CREATE FUNCTION @extschema@.alter_legal_entity(entity text, name text DEFAULT NULL, several_books boolean DEFAULT NULL,
                                               notes_visible_to text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e @extschema@.legal_entity%ROWTYPE;
  shared bigint;
BEGIN
  SELECT * INTO e FROM @extschema@.legal_entity x WHERE x.entity = alter_legal_entity.entity FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'legal entity "%" does not exist', entity USING ERRCODE = '42704',
      HINT = 'See SELECT entity FROM cdp.legal_entity.';
  END IF;
  IF notes_visible_to IS NOT NULL AND notes_visible_to NOT IN ('entity', 'owner_and_managers') THEN
    RAISE EXCEPTION 'invalid notes_visible_to "%"', notes_visible_to USING ERRCODE = '22023',
      HINT = 'Use ''entity'' (every associate of the entity) or ''owner_and_managers'' (the author, the book''s owner and the store''s managers).';
  END IF;
  IF several_books IS NOT NULL AND several_books <> e.several_books THEN
    IF NOT several_books THEN
      SELECT count(*) INTO shared FROM (SELECT b.customer_id FROM @extschema@.client_book_entry b
                                         WHERE b.entity = e.entity GROUP BY 1 HAVING count(*) > 1) s;
      IF shared > 0 THEN
        RAISE EXCEPTION 'customers are in several client books of legal entity "%"', entity USING ERRCODE = '23505',
          DETAIL = format('%s customer(s) are in more than one book; with one book per customer they cannot stay so.', shared),
          HINT = 'Remove them from all books but one (cdp.client_book_remove, cdp.client_book_reassign) first.';
      END IF;
    END IF;
  END IF;
  UPDATE @extschema@.legal_entity x
     SET name = coalesce(alter_legal_entity.name, x.name),
         several_books = coalesce(alter_legal_entity.several_books, x.several_books),
         notes_visible_to = coalesce(alter_legal_entity.notes_visible_to, x.notes_visible_to)
   WHERE x.entity = e.entity;
  IF several_books IS NOT NULL AND several_books <> e.several_books THEN
    -- the trigger marks the rows from the new setting; the unique index checks
    UPDATE @extschema@.client_book_entry b SET exclusive = NOT several_books WHERE b.entity = e.entity;
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.alter_legal_entity(text, text, boolean, text) IS
  'Changes a legal entity''s name and clienteling settings: several_books (a customer may be in several client books) and notes_visible_to (entity or owner_and_managers) (cdp_admin)';

CREATE FUNCTION @extschema@.create_store(store text, entity text, address_book text DEFAULT NULL, name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  book_entity text;
BEGIN
  IF store IS NULL OR store !~ '^[^[:space:][:cntrl:]]{1,63}$' THEN
    RAISE EXCEPTION 'invalid store code "%"', store USING ERRCODE = '42602', HINT = 'Use 1 to 63 characters without spaces.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.legal_entity e WHERE e.entity = create_store.entity) THEN
    RAISE EXCEPTION 'legal entity "%" does not exist', entity USING ERRCODE = '42704',
      HINT = 'Create it with cdp.create_legal_entity.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.store s WHERE s.store = create_store.store) THEN
    RAISE EXCEPTION 'store "%" already exists', store USING ERRCODE = '42710';
  END IF;
  address_book := coalesce(address_book, store);
  IF address_book !~ '^[^[:space:][:cntrl:]]{1,63}$' THEN
    RAISE EXCEPTION 'invalid address book code "%"', address_book USING ERRCODE = '42602', HINT = 'Use 1 to 63 characters without spaces.';
  END IF;
  SELECT b.entity INTO book_entity FROM @extschema@.address_book b WHERE b.address_book = create_store.address_book;
  IF book_entity IS NULL THEN
    INSERT INTO @extschema@.address_book (address_book, entity) VALUES (address_book, entity);
  ELSIF book_entity <> entity THEN
    RAISE EXCEPTION 'address book "%" belongs to legal entity "%"', address_book, book_entity USING ERRCODE = '22023',
      HINT = 'Stores of different legal entities cannot share an address book.';
  END IF;
  INSERT INTO @extschema@.store (store, entity, address_book, name) VALUES (store, entity, address_book, coalesce(name, store));
END;
$$;
COMMENT ON FUNCTION @extschema@.create_store(text, text, text, text) IS
  'Creates a store of a legal entity with its address book (default: one of its own, named like the store; stores naming the same one share a store client book) (cdp_admin)';

CREATE FUNCTION @extschema@.create_associate(associate text, role name, name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF associate IS NULL OR associate !~ '^[^[:space:][:cntrl:]]{1,63}$' THEN
    RAISE EXCEPTION 'invalid associate code "%"', associate USING ERRCODE = '42602', HINT = 'Use 1 to 63 characters without spaces.';
  END IF;
  IF role IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
    RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704',
      HINT = 'Create the role first (CREATE ROLE ... LOGIN IN ROLE cdp_associate).';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.associate a WHERE a.associate = create_associate.associate) THEN
    RAISE EXCEPTION 'associate "%" already exists', associate USING ERRCODE = '42710';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.associate a WHERE a.role = create_associate.role) THEN
    RAISE EXCEPTION 'role "%" is already mapped to associate "%"', role,
      (SELECT a.associate FROM @extschema@.associate a WHERE a.role = create_associate.role) USING ERRCODE = '42710',
      HINT = 'One associate per role.';
  END IF;
  INSERT INTO @extschema@.associate (associate, role, name) VALUES (associate, role, coalesce(name, associate));
END;
$$;
COMMENT ON FUNCTION @extschema@.create_associate(text, name, text) IS
  'Maps a PostgreSQL role to a new store associate (grant the role cdp_associate so that it may read and act) (cdp_admin)';

CREATE FUNCTION @extschema@.assign_store(associate text, store text, manager boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.associate a WHERE a.associate = assign_store.associate) THEN
    RAISE EXCEPTION 'associate "%" does not exist', associate USING ERRCODE = '42704', HINT = 'Create it with cdp.create_associate.';
  END IF;
  SELECT s.entity INTO e FROM @extschema@.store s WHERE s.store = assign_store.store;
  IF e IS NULL THEN
    RAISE EXCEPTION 'store "%" does not exist', store USING ERRCODE = '42704', HINT = 'Create it with cdp.create_store.';
  END IF;
  INSERT INTO @extschema@.associate_store AS w (associate, store, entity, is_manager)
  VALUES (associate, store, e, coalesce(manager, false))
  ON CONFLICT ON CONSTRAINT associate_store_pkey DO UPDATE SET is_manager = EXCLUDED.is_manager;
END;
$$;
COMMENT ON FUNCTION @extschema@.assign_store(text, text, boolean) IS
  'Makes an associate work in a store, as its manager or not (again: changes the manager flag) (cdp_admin)';

CREATE FUNCTION @extschema@.unassign_store(associate text, store text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM @extschema@.associate_store w WHERE w.associate = unassign_store.associate AND w.store = unassign_store.store;
  RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION @extschema@.unassign_store(text, text) IS
  'An associate no longer works in a store (their client books stay until reassigned); returns whether they did (cdp_admin)';

CREATE FUNCTION @extschema@.create_client_attribute(name text, type text DEFAULT 'text', display_order integer DEFAULT NULL,
                                                    refinable boolean DEFAULT false, label text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid client attribute name "%"', name USING ERRCODE = '42602',
      HINT = 'Use lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  IF type IS NULL OR type NOT IN ('text', 'number', 'date', 'boolean') THEN
    RAISE EXCEPTION 'invalid client attribute type "%"', type USING ERRCODE = '22023',
      HINT = 'Use text, number, date or boolean.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.client_attribute a WHERE a.name = create_client_attribute.name) THEN
    RAISE EXCEPTION 'client attribute "%" already exists', name USING ERRCODE = '42710';
  END IF;
  INSERT INTO @extschema@.client_attribute (name, type, display_order, refinable, label)
  VALUES (name, type,
          coalesce(display_order, (SELECT coalesce(max(a.display_order), 0) + 1 FROM @extschema@.client_attribute a)),
          coalesce(refinable, false), coalesce(label, replace(name, '_', ' ')));
END;
$$;
COMMENT ON FUNCTION @extschema@.create_client_attribute(text, text, integer, boolean, text) IS
  'Adds an attribute to the client book attribute group: its type (text, number, date, boolean), display order (default: last), whether client books can be refined by it, and its label (cdp_admin)';

CREATE FUNCTION @extschema@.drop_client_attribute(name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM @extschema@.client_attribute a WHERE a.name = drop_client_attribute.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'client attribute "%" does not exist', name USING ERRCODE = '42704',
      HINT = 'See SELECT name FROM cdp.client_attribute.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_client_attribute(text) IS 'Removes a client book attribute and all its values (cdp_admin)';

CREATE FUNCTION @extschema@.create_client_activity_type(name text, description text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid activity type name "%"', name USING ERRCODE = '42602',
      HINT = 'Use lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.client_activity_type t WHERE t.name = create_client_activity_type.name) THEN
    RAISE EXCEPTION 'client activity type "%" already exists', name USING ERRCODE = '42710';
  END IF;
  INSERT INTO @extschema@.client_activity_type (name, description) VALUES (name, coalesce(description, name));
END;
$$;
COMMENT ON FUNCTION @extschema@.create_client_activity_type(text, text) IS 'Adds a kind of activity associates record (store_visit, phone_call, appointment…) (cdp_admin)';

CREATE FUNCTION @extschema@.drop_client_activity_type(name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF EXISTS (SELECT 1 FROM @extschema@.client_activity a WHERE a.type = drop_client_activity_type.name) THEN
    RAISE EXCEPTION 'client activity type "%" is in use', name USING ERRCODE = '2BP01',
      DETAIL = 'Activities of this type have been recorded.', HINT = 'Keep it; activities are history.';
  END IF;
  DELETE FROM @extschema@.client_activity_type t WHERE t.name = drop_client_activity_type.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'client activity type "%" does not exist', name USING ERRCODE = '42704',
      HINT = 'See SELECT name FROM cdp.client_activity_type.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_client_activity_type(text) IS 'Removes a client activity type no activity uses (cdp_admin)';

CREATE FUNCTION @extschema@.set_card_measures(measures text[], labels text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  i integer;
  m text;
BEGIN
  IF measures IS NULL OR cardinality(measures) > 3 THEN
    RAISE EXCEPTION 'the customer card shows up to three measures' USING ERRCODE = '22023',
      HINT = 'Pass at most three measure names, ''{}'' for none.';
  END IF;
  FOR i IN 1 .. coalesce(cardinality(measures), 0) LOOP
    m := measures[i];
    IF m IS NULL OR NOT EXISTS (SELECT 1 FROM @extschema@.measure x WHERE x.name = m AND x.level = 'customer') THEN
      RAISE EXCEPTION 'customer measure "%" does not exist', m USING ERRCODE = '42704',
        HINT = 'See SELECT name FROM cdp.measure WHERE level = ''customer''.';
    END IF;
    IF m = ANY (measures[1:i - 1]) THEN
      RAISE EXCEPTION 'measure "%" is named twice', m USING ERRCODE = '22023';
    END IF;
  END LOOP;
  DELETE FROM @extschema@.card_measure;
  INSERT INTO @extschema@.card_measure (position, measure, label)
  SELECT o::integer, x, coalesce(labels[o::integer], replace(x, '_', ' ')) FROM unnest(measures) WITH ORDINALITY AS u(x, o);
END;
$$;
COMMENT ON FUNCTION @extschema@.set_card_measures(text[], text[]) IS
  'Sets the customer measures the customer card shows first (up to three, in order, with optional labels); ''{}'' for none (cdp_admin)';

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['create_legal_entity(text, text)', 'alter_legal_entity(text, text, boolean, text)',
                           'create_store(text, text, text, text)', 'create_associate(text, name, text)',
                           'assign_store(text, text, boolean)', 'unassign_store(text, text)',
                           'create_client_attribute(text, text, integer, boolean, text)', 'drop_client_attribute(text)',
                           'create_client_activity_type(text, text)', 'drop_client_activity_type(text)',
                           'set_card_measures(text[], text[])'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION @extschema@.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO cdp_admin', f);
  END LOOP;
END
$$;

-- ------------------------------------------------------------- client books
-- Who may change the book of associate x in entity e: cdp_admin; x
-- themselves; a manager of a store of e that x works in.
CREATE FUNCTION @extschema@._book_entity(x text, e text, what text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me name := @extschema@._caller();
  mine text;
  ents text[];
BEGIN
  IF NOT @extschema@._is_cdp_admin(me) THEN
    -- a non-admin sees the associates of their own legal entities only (as
    -- the policy on cdp.associate): others "do not exist", and an entity
    -- is chosen among the caller's ones
    mine := @extschema@._associate_of(me);
    IF mine IS NULL THEN
      RAISE EXCEPTION 'permission denied to %',
        CASE what WHEN 'change a client book' THEN format('change the client book of "%s"', x) ELSE what END
        USING ERRCODE = '42501',
        DETAIL = format('Role "%s" is not a store associate.', me),
        HINT = 'An administrator maps the role to an associate with cdp.create_associate and cdp.assign_store.';
    END IF;
    SELECT array_agg(DISTINCT w.entity ORDER BY w.entity) INTO ents FROM @extschema@.associate_store w
     WHERE w.associate = x AND @extschema@._works_for(mine, w.entity);
    IF x IS DISTINCT FROM mine AND ents IS NULL THEN
      RAISE EXCEPTION 'associate "%" does not exist', x USING ERRCODE = '42704', HINT = 'See SELECT associate FROM cdp.associate.';
    END IF;
    IF e IS NULL AND cardinality(ents) = 1 THEN
      e := ents[1];
    END IF;
  ELSIF x IS NULL OR NOT EXISTS (SELECT 1 FROM @extschema@.associate a WHERE a.associate = x) THEN
    RAISE EXCEPTION 'associate "%" does not exist', x USING ERRCODE = '42704', HINT = 'See SELECT associate FROM cdp.associate.';
  END IF;
  RETURN @extschema@._entity_of(x, e, what, format('Associate "%s"', x));
END;
$$;
COMMENT ON FUNCTION @extschema@._book_entity(text, text, text) IS 'Internal: the legal entity of an associate''s client book (given, or the only one they work for)';
REVOKE EXECUTE ON FUNCTION @extschema@._book_entity(text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@._check_book_change(x text, e text, what text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me name := @extschema@._caller();
  mine text;
BEGIN
  IF @extschema@._is_cdp_admin(me) THEN
    RETURN;
  END IF;
  mine := @extschema@._associate_of(me);
  IF mine IS NULL THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Role "%s" is not a store associate.', me),
      HINT = 'An administrator maps the role to an associate with cdp.create_associate and cdp.assign_store.';
  END IF;
  IF NOT @extschema@._works_for(mine, e) THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Associate "%s" works in no store of legal entity "%s".', mine, e),
      HINT = 'Associates change client books of the legal entities of the stores they work in.';
  END IF;
  IF mine <> x AND NOT @extschema@._manages(mine, x, e) THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
      DETAIL = format('Associate "%s" may change their own client book only: they manage no store of legal entity "%s" that "%s" works in.', mine, e, x),
      HINT = 'Ask a manager of the associate''s store.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._check_book_change(text, text, text) IS 'Internal: raises 42501 unless the caller may change the client book of an associate in a legal entity';
REVOKE EXECUTE ON FUNCTION @extschema@._check_book_change(text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.client_book_add(associate text, customer_id bigint, entity text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e text;
  other text;
  n bigint;
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.client_book_add(text, bigint, text)');
  e := @extschema@._book_entity(associate, entity, 'change a client book');
  PERFORM @extschema@._check_book_change(associate, e, 'change the client book of "' || associate || '"');
  IF NOT @extschema@._works_for(associate, e) THEN
    RAISE EXCEPTION 'associate "%" works in no store of legal entity "%"', associate, e USING ERRCODE = '22023',
      HINT = 'Client books belong to associates of the entity (cdp.assign_store).';
  END IF;
  PERFORM @extschema@._check_customer(customer_id);
  BEGIN
    INSERT INTO @extschema@.client_book_entry AS b (entity, associate, customer_id, added_by)
    VALUES (e, associate, customer_id, @extschema@._caller())
    ON CONFLICT ON CONSTRAINT client_book_entry_pkey DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
  EXCEPTION WHEN unique_violation THEN
    SELECT b.associate INTO other FROM @extschema@.client_book_entry b
     WHERE b.entity = e AND b.customer_id = client_book_add.customer_id AND b.exclusive;
    RAISE EXCEPTION 'customer % is already in the client book of "%"', customer_id, other USING ERRCODE = '23505',
      DETAIL = format('Legal entity "%s" keeps each customer in one client book.', e),
      HINT = 'Reassign the customer (cdp.client_book_reassign), or allow several books (cdp.alter_legal_entity(..., several_books => true)).';
  END;
  RETURN n > 0;
END;
$$;
COMMENT ON FUNCTION @extschema@.client_book_add(text, bigint, text) IS
  'Adds a customer to an associate''s client book (of their only legal entity, or the one named); returns false when already there. The caller must be the associate, a manager of one of their stores, or cdp_admin';

CREATE FUNCTION @extschema@.client_book_remove(associate text, customer_id bigint, entity text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e text;
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.client_book_remove(text, bigint, text)');
  e := @extschema@._book_entity(associate, entity, 'change a client book');
  PERFORM @extschema@._check_book_change(associate, e, 'change the client book of "' || associate || '"');
  DELETE FROM @extschema@.client_book_entry b
   WHERE b.entity = e AND b.associate = client_book_remove.associate AND b.customer_id = client_book_remove.customer_id;
  RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION @extschema@.client_book_remove(text, bigint, text) IS
  'Removes a customer from an associate''s client book; returns whether they were in it. The caller must be the associate, a manager of one of their stores, or cdp_admin';

CREATE FUNCTION @extschema@.client_book_reassign(from_associate text, to_associate text, customer_ids bigint[] DEFAULT NULL,
                                                 entity text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  me name := @extschema@._caller();
  mine text;
  e text;
  missing bigint;
  moved bigint;
  what text := format('reassign the client book of "%s"', from_associate);
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.client_book_reassign(text, text, bigint[], text)');
  IF from_associate IS NULL OR NOT EXISTS (SELECT 1 FROM @extschema@.associate a WHERE a.associate = from_associate) THEN
    RAISE EXCEPTION 'associate "%" does not exist', from_associate USING ERRCODE = '42704';
  END IF;
  e := @extschema@._book_entity(to_associate, entity, 'reassign a client book');
  IF from_associate = to_associate THEN
    RAISE EXCEPTION 'cannot reassign a client book to its own associate' USING ERRCODE = '22023';
  END IF;
  IF NOT @extschema@._works_for(to_associate, e) THEN
    RAISE EXCEPTION 'associate "%" works in no store of legal entity "%"', to_associate, e USING ERRCODE = '22023',
      HINT = 'Client books belong to associates of the entity (cdp.assign_store).';
  END IF;
  IF NOT @extschema@._is_cdp_admin(me) THEN
    mine := @extschema@._associate_of(me);
    IF mine IS NULL THEN
      RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
        DETAIL = format('Role "%s" is not a store associate.', me),
        HINT = 'Store managers and cdp_admin reassign client books.';
    END IF;
    IF NOT @extschema@._manages(mine, to_associate, e)
       OR (@extschema@._works_for(from_associate, e) AND NOT @extschema@._manages(mine, from_associate, e)) THEN
      RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = '42501',
        DETAIL = format('Associate "%s" manages no store of legal entity "%s" that both "%s" and "%s" work in.',
                        mine, e, from_associate, to_associate),
        HINT = 'Store managers reassign the books of their stores'' associates, and cdp_admin any book, once granted EXECUTE on cdp.client_book_reassign.';
    END IF;
  END IF;
  IF customer_ids IS NOT NULL THEN
    SELECT count(*) INTO missing FROM (SELECT DISTINCT x FROM unnest(customer_ids) x) u
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.client_book_entry b
                        WHERE b.entity = e AND b.associate = from_associate AND b.customer_id = u.x);
    IF missing > 0 THEN
      RAISE EXCEPTION '% of the customers are not in the client book of "%"', missing, from_associate USING ERRCODE = '22023',
        DETAIL = format('Customers: %s.', (SELECT string_agg(coalesce(u.x::text, 'NULL'), ', ' ORDER BY u.x)
                                             FROM (SELECT DISTINCT x FROM unnest(customer_ids) x) u
                                            WHERE NOT EXISTS (SELECT 1 FROM @extschema@.client_book_entry b
                                                               WHERE b.entity = e AND b.associate = from_associate
                                                                 AND b.customer_id = u.x))),
        HINT = 'Nothing was reassigned. Pass customer_ids => NULL to reassign the whole book.';
    END IF;
  END IF;
  -- customers the target already has (several books allowed) just leave the
  -- old book; the others move, keeping their one-book row
  DELETE FROM @extschema@.client_book_entry b
   WHERE b.entity = e AND b.associate = from_associate
     AND (customer_ids IS NULL OR b.customer_id = ANY (customer_ids))
     AND EXISTS (SELECT 1 FROM @extschema@.client_book_entry t
                  WHERE t.entity = e AND t.associate = to_associate AND t.customer_id = b.customer_id);
  GET DIAGNOSTICS moved = ROW_COUNT;
  UPDATE @extschema@.client_book_entry b SET associate = to_associate, added_at = now(), added_by = me
   WHERE b.entity = e AND b.associate = from_associate
     AND (customer_ids IS NULL OR b.customer_id = ANY (customer_ids));
  GET DIAGNOSTICS missing = ROW_COUNT;
  RETURN moved + missing;
END;
$$;
COMMENT ON FUNCTION @extschema@.client_book_reassign(text, text, bigint[], text) IS
  'Moves customers (all, or those listed) from one associate''s client book to another''s in a legal entity; returns how many. EXECUTE is granted to nobody by default; the caller must also manage a store both associates work in (or the target''s, when the old associate left the entity), or be cdp_admin';

REVOKE EXECUTE ON FUNCTION @extschema@.client_book_add(text, bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.client_book_remove(text, bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.client_book_reassign(text, text, bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.client_book_add(text, bigint, text) TO cdp_associate, cdp_admin;
GRANT EXECUTE ON FUNCTION @extschema@.client_book_remove(text, bigint, text) TO cdp_associate, cdp_admin;

-- ------------------------------------------- attribute values, activities, notes
CREATE FUNCTION @extschema@.set_client_attribute(customer_id bigint, attribute text, value text, entity text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  a @extschema@.client_attribute%ROWTYPE;
  act record;
  canon text;
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.set_client_attribute(bigint, text, text, text)');
  SELECT * INTO act FROM @extschema@._acting_associate(entity, 'set client attributes');
  PERFORM @extschema@._check_customer(customer_id);
  SELECT * INTO a FROM @extschema@.client_attribute x WHERE x.name = attribute;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'client attribute "%" does not exist', attribute USING ERRCODE = '42704',
      HINT = 'See SELECT name FROM cdp.client_attribute.';
  END IF;
  IF length(value) > 1000 THEN
    RAISE EXCEPTION 'value of client attribute "%" is too long', attribute USING ERRCODE = '22001',
      DETAIL = format('It has %s characters; at most 1000 are kept.', length(value)), HINT = 'Write a note for longer text.';
  END IF;
  canon := @extschema@._client_attribute_canonical(a.name, a.type, value);
  IF canon IS NULL THEN
    DELETE FROM @extschema@.client_attribute_value v
     WHERE v.entity = act.entity AND v.customer_id = set_client_attribute.customer_id AND v.attribute = a.name;
  ELSE
    INSERT INTO @extschema@.client_attribute_value AS v (entity, customer_id, attribute, value, updated_by)
    VALUES (act.entity, customer_id, a.name, canon, @extschema@._caller())
    ON CONFLICT ON CONSTRAINT client_attribute_value_pkey
    DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by;
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.set_client_attribute(bigint, text, text, text) IS
  'Sets (NULL: clears) a client book attribute of a customer for the caller''s legal entity; the value is checked against the attribute''s type';

CREATE FUNCTION @extschema@.record_client_activity(customer_id bigint, type text, description text DEFAULT NULL,
                                                   occurred_at timestamptz DEFAULT now(), detail jsonb DEFAULT '{}',
                                                   store text DEFAULT NULL, entity text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  act record;
  s text := store;
  id bigint;
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.record_client_activity(bigint, text, text, timestamptz, jsonb, text, text)');
  SELECT * INTO act FROM @extschema@._acting_associate(entity, 'record client activities');
  IF act.associate IS NULL THEN
    RAISE EXCEPTION 'only associates record client activities' USING ERRCODE = '42501',
      HINT = 'Map the role to an associate (cdp.create_associate).';
  END IF;
  PERFORM @extschema@._check_customer(customer_id);
  IF type IS NULL OR NOT EXISTS (SELECT 1 FROM @extschema@.client_activity_type t WHERE t.name = type) THEN
    RAISE EXCEPTION 'client activity type "%" does not exist', type USING ERRCODE = '42704',
      HINT = 'See SELECT name FROM cdp.client_activity_type; an administrator adds types with cdp.create_client_activity_type.';
  END IF;
  IF occurred_at IS NULL THEN
    RAISE EXCEPTION 'occurred_at must not be null' USING ERRCODE = '22004';
  END IF;
  IF detail IS NULL OR jsonb_typeof(detail) <> 'object' THEN
    RAISE EXCEPTION 'detail of a client activity must be a JSON object' USING ERRCODE = '22023', HINT = 'Write ''{}'' for none.';
  END IF;
  IF length(description) > 10000 OR octet_length(detail::text) > 100000 THEN
    RAISE EXCEPTION 'client activity is too long' USING ERRCODE = '22001',
      DETAIL = 'At most 10000 characters of description and 100 kB of detail are kept.';
  END IF;
  IF s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.store x WHERE x.store = s AND x.entity = act.entity) THEN
    RAISE EXCEPTION 'store "%" is not a store of legal entity "%"', s, act.entity USING ERRCODE = '22023';
  END IF;
  IF s IS NOT NULL AND NOT act.is_admin
     AND NOT EXISTS (SELECT 1 FROM @extschema@.associate_store w WHERE w.associate = act.associate AND w.store = s) THEN
    RAISE EXCEPTION 'permission denied to record an activity at store "%"', s USING ERRCODE = '42501',
      DETAIL = format('Associate "%s" does not work in that store.', act.associate),
      HINT = 'Record activities at a store you work in (cdp.assign_store).';
  END IF;
  IF s IS NULL THEN
    -- the associate's store, when they work in one only in the entity
    SELECT min(w.store) INTO s FROM @extschema@.associate_store w
     WHERE w.associate = act.associate AND w.entity = act.entity HAVING count(*) = 1;
  END IF;
  INSERT INTO @extschema@.client_activity (entity, customer_id, type, occurred_at, associate, store, description, detail)
  VALUES (act.entity, customer_id, type, occurred_at, act.associate, s, nullif(description, ''), detail)
  RETURNING activity_id INTO id;
  RETURN id;
END;
$$;
COMMENT ON FUNCTION @extschema@.record_client_activity(bigint, text, text, timestamptz, jsonb, text, text) IS
  'Records an activity of a configured type (cdp.client_activity_type) with a customer, by the calling associate, for their legal entity; returns its number';

CREATE FUNCTION @extschema@.add_client_note(customer_id bigint, note text, entity text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  act record;
  s text;
  id bigint;
BEGIN
  PERFORM @extschema@._check_caller_may('@extschema@.add_client_note(bigint, text, text)');
  SELECT * INTO act FROM @extschema@._acting_associate(entity, 'write client notes');
  PERFORM @extschema@._check_customer(customer_id);
  IF act.associate IS NULL THEN
    RAISE EXCEPTION 'only associates write client notes' USING ERRCODE = '42501',
      HINT = 'Map the role to an associate (cdp.create_associate).';
  END IF;
  IF note IS NULL OR btrim(note, E' \t\r\n') = '' THEN
    RAISE EXCEPTION 'a client note must not be empty' USING ERRCODE = '22023';
  END IF;
  IF length(note) > 10000 THEN
    RAISE EXCEPTION 'client note is too long' USING ERRCODE = '22001',
      DETAIL = format('It has %s characters; at most 10000 are kept.', length(note)), HINT = 'Split it into several notes.';
  END IF;
  SELECT min(w.store) INTO s FROM @extschema@.associate_store w
   WHERE w.associate = act.associate AND w.entity = act.entity HAVING count(*) = 1;
  INSERT INTO @extschema@.client_note (entity, customer_id, author, store, note)
  VALUES (act.entity, customer_id, act.associate, s, note)
  RETURNING note_id INTO id;
  RETURN id;
END;
$$;
COMMENT ON FUNCTION @extschema@.add_client_note(bigint, text, text) IS
  'Writes a note about a customer, by the calling associate, for their legal entity; returns its number';

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['set_client_attribute(bigint, text, text, text)',
                           'record_client_activity(bigint, text, text, timestamptz, jsonb, text, text)',
                           'add_client_note(bigint, text, text)'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION @extschema@.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO cdp_associate, cdp_admin', f);
  END LOOP;
END
$$;

-- ------------------------------------------------------------------ reading
CREATE VIEW @extschema@.store_client_book WITH (security_invoker = true) AS
  SELECT DISTINCT s.store, s.entity, b.customer_id, b.associate, b.added_at
    FROM @extschema@.store s
    JOIN @extschema@.store t ON t.address_book = s.address_book
    JOIN @extschema@.associate_store w ON w.store = t.store
    JOIN @extschema@.client_book_entry b ON b.associate = w.associate AND b.entity = s.entity;
COMMENT ON VIEW @extschema@.store_client_book IS
  'Store client books: for each store, the customers in the client books of the associates working in a store with the same address book (row-level security of the caller applies)';
COMMENT ON COLUMN @extschema@.store_client_book.store IS 'the store';
COMMENT ON COLUMN @extschema@.store_client_book.entity IS 'its legal entity';
COMMENT ON COLUMN @extschema@.store_client_book.customer_id IS 'a customer in the book of one of its associates';
COMMENT ON COLUMN @extschema@.store_client_book.associate IS 'that associate';
COMMENT ON COLUMN @extschema@.store_client_book.added_at IS 'when the customer entered the associate''s book';
REVOKE ALL ON @extschema@.store_client_book FROM PUBLIC;
GRANT SELECT ON @extschema@.store_client_book TO cdp_associate, cdp_admin;

-- Attribute values of a customer in an entity as a JSON object.
CREATE FUNCTION @extschema@._client_attributes(e text, c bigint)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(jsonb_object_agg(a.name, @extschema@._client_attribute_json(a.type, v.value)), '{}')
    FROM @extschema@.client_attribute_value v JOIN @extschema@.client_attribute a ON a.name = v.attribute
   WHERE v.entity = e AND v.customer_id = c
$$;
COMMENT ON FUNCTION @extschema@._client_attributes(text, bigint) IS 'Internal: the client attribute values of a customer in a legal entity, as JSON (what the caller may read)';

CREATE FUNCTION @extschema@.client_book(associate text, filters jsonb DEFAULT '{}')
RETURNS TABLE(customer_id bigint, entity text, added_at timestamptz, attributes jsonb)
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  k text;
  v jsonb;
  a @extschema@.client_attribute%ROWTYPE;
  wanted jsonb := '{}';
  vals text[];
  segs text[] := '{}';
  s text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.associate x WHERE x.associate = client_book.associate) THEN
    RAISE EXCEPTION 'associate "%" does not exist', client_book.associate USING ERRCODE = '42704',
      HINT = 'See SELECT associate FROM cdp.associate.';
  END IF;
  IF jsonb_typeof(filters) <> 'object' THEN
    RAISE EXCEPTION 'filters must be a JSON object' USING ERRCODE = '22023',
      HINT = 'Write {"attributes": {"preferred_brand": "Acme"}, "segment": "birthday_next_14_days"}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(filters) LOOP
    IF k NOT IN ('attributes', 'segment') THEN
      RAISE EXCEPTION 'unknown filter "%"', k USING ERRCODE = '22023',
        HINT = 'Filters are "attributes" (refinable client attributes and their values) and "segment" (a segment name or an array of them).';
    END IF;
  END LOOP;
  IF filters ? 'attributes' THEN
    IF jsonb_typeof(filters -> 'attributes') <> 'object' THEN
      RAISE EXCEPTION 'the "attributes" filter must be a JSON object' USING ERRCODE = '22023',
        HINT = 'Write {"attributes": {"preferred_brand": "Acme", "shoe_size": [38, 39]}}.';
    END IF;
    FOR k, v IN SELECT key, value FROM jsonb_each(filters -> 'attributes') LOOP
      SELECT * INTO a FROM @extschema@.client_attribute x WHERE x.name = k;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'client attribute "%" does not exist', k USING ERRCODE = '42704',
          HINT = 'See SELECT name FROM cdp.client_attribute WHERE refinable.';
      END IF;
      IF NOT a.refinable THEN
        RAISE EXCEPTION 'client attribute "%" cannot be refined', k USING ERRCODE = '22023',
          DETAIL = 'Client books are filtered by refinable attributes only.',
          HINT = 'See SELECT name FROM cdp.client_attribute WHERE refinable; an administrator decides which attributes are refinable.';
      END IF;
      IF jsonb_typeof(v) = 'array' THEN
        IF jsonb_array_length(v) = 0 OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) IN ('array', 'object', 'null')) THEN
          RAISE EXCEPTION 'invalid filter value for client attribute "%"', k USING ERRCODE = '22023',
            HINT = 'Give a value or a non-empty array of values.';
        END IF;
        SELECT array_agg(@extschema@._client_attribute_canonical(k, a.type, e #>> '{}')) INTO vals FROM jsonb_array_elements(v) e;
      ELSIF jsonb_typeof(v) IN ('object', 'null') THEN
        RAISE EXCEPTION 'invalid filter value for client attribute "%"', k USING ERRCODE = '22023',
          HINT = 'Give a value or a non-empty array of values.';
      ELSE
        vals := ARRAY[@extschema@._client_attribute_canonical(k, a.type, v #>> '{}')];
      END IF;
      wanted := wanted || jsonb_build_object(k, to_jsonb(vals));
    END LOOP;
  END IF;
  IF filters ? 'segment' THEN
    IF jsonb_typeof(filters -> 'segment') = 'string' THEN
      segs := ARRAY[filters ->> 'segment'];
    ELSIF jsonb_typeof(filters -> 'segment') = 'array'
          AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(filters -> 'segment') e WHERE jsonb_typeof(e) <> 'string') THEN
      SELECT array_agg(e) INTO segs FROM jsonb_array_elements_text(filters -> 'segment') e;
    ELSE
      RAISE EXCEPTION 'the "segment" filter must be a segment name or an array of them' USING ERRCODE = '22023';
    END IF;
    FOREACH s IN ARRAY coalesce(segs, '{}') LOOP
      IF NOT EXISTS (SELECT 1 FROM @extschema@.segment g WHERE g.name = s) THEN
        RAISE EXCEPTION 'segment "%" does not exist', s USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.segment.';
      END IF;
    END LOOP;
  END IF;
  RETURN QUERY
  SELECT b.customer_id, b.entity, b.added_at, @extschema@._client_attributes(b.entity, b.customer_id)
    FROM @extschema@.client_book_entry b
   WHERE b.associate = client_book.associate
     AND NOT EXISTS (SELECT 1 FROM jsonb_each(wanted) w
                      WHERE NOT EXISTS (SELECT 1 FROM @extschema@.client_attribute_value v
                                         WHERE v.entity = b.entity AND v.customer_id = b.customer_id AND v.attribute = w.key
                                           AND v.value IN (SELECT jsonb_array_elements_text(w.value))))
     AND NOT EXISTS (SELECT 1 FROM unnest(segs) g
                      WHERE NOT EXISTS (SELECT 1 FROM @extschema@.segment_member m
                                         WHERE m.segment = g AND m.customer_id = b.customer_id AND m.exited_at IS NULL))
   ORDER BY b.entity, b.customer_id;
END;
$$;
COMMENT ON FUNCTION @extschema@.client_book(text, jsonb) IS
  'The customers in an associate''s client book (what the caller may read), with their attribute values, filtered by refinable attributes ({"attributes": {"name": value or [values]}}, all must match) and by current segment membership ({"segment": name or [names]})';

CREATE FUNCTION @extschema@.customer_card(customer_id bigint, entity text DEFAULT NULL, notes integer DEFAULT 3)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e text := entity;
  ents text[];
  profile jsonb;
  m jsonb;
  slots jsonb;
BEGIN
  IF customer_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF notes IS NULL OR notes < 0 OR notes > 1000 THEN
    RAISE EXCEPTION 'notes must be between 0 and 1000' USING ERRCODE = '22023';
  END IF;
  IF e IS NULL THEN
    ents := @extschema@._entities_of(current_user);
    IF cardinality(ents) <> 1 THEN
      RAISE EXCEPTION 'name the legal entity of the customer card' USING ERRCODE = '22023',
        DETAIL = CASE WHEN cardinality(ents) = 0 THEN format('Role "%s" works in no store.', current_user)
                      ELSE format('Role "%s" works for the legal entities %s.', current_user, array_to_string(ents, ', ')) END,
        HINT = 'Pass entity => ''...''.';
    END IF;
    e := ents[1];
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.legal_entity le WHERE le.entity = e) THEN
    RAISE EXCEPTION 'legal entity "%" does not exist', e USING ERRCODE = '42704',
      HINT = 'See SELECT entity FROM cdp.legal_entity.';
  END IF;
  SELECT to_jsonb(c) INTO profile FROM @extschema@.customer c WHERE c.customer_id = customer_card.customer_id;
  IF profile IS NULL THEN
    RAISE EXCEPTION 'customer % does not exist', customer_id USING ERRCODE = '42704',
      HINT = 'Customer ids are those of cdp.customer (see cdp.customer_id_history when ids merged).';
  END IF;
  SELECT to_jsonb(x) INTO m FROM @extschema@.customer_measure x WHERE x.customer_id = customer_card.customer_id;
  -- the slots: configured measures first, then attributes in display order
  WITH s AS (
    SELECT 0 AS k, cm.position AS o, ''::text AS n, jsonb_build_object('kind', 'measure', 'name', cm.measure, 'label', cm.label,
                                                'value', m -> cm.measure) AS slot
      FROM @extschema@.card_measure cm
    UNION ALL
    SELECT 1, a.display_order, a.name,
           jsonb_build_object('kind', 'attribute', 'name', a.name, 'label', a.label,
                              'value', (SELECT @extschema@._client_attribute_json(a.type, v.value)
                                          FROM @extschema@.client_attribute_value v
                                         WHERE v.entity = e AND v.customer_id = customer_card.customer_id AND v.attribute = a.name))
      FROM @extschema@.client_attribute a)
  SELECT coalesce(jsonb_agg(s.slot ORDER BY s.o) FILTER (WHERE s.o <= 3), '[]') INTO slots
    FROM (SELECT row_number() OVER (ORDER BY s.k, s.o, s.n) AS o, s.slot FROM s) s;
  RETURN jsonb_build_object(
    'customer_id', customer_id,
    'entity', e,
    'contact', (SELECT coalesce(jsonb_object_agg(k, profile -> k), '{}')
                  FROM unnest(ARRAY['full_name', 'first_name', 'last_name', 'email', 'phone', 'address_line1', 'address_line2',
                                    'postal_code', 'city', 'state', 'country', 'birth_date']) k
                 WHERE profile ? k),
    'slots', slots,
    'notes', (SELECT coalesce(jsonb_agg(jsonb_build_object('note_id', n.note_id, 'written_at', n.written_at,
                                                           'author', n.author, 'note', n.note)
                                        ORDER BY n.written_at DESC, n.note_id DESC), '[]')
                FROM (SELECT * FROM @extschema@.client_note n
                       WHERE n.entity = e AND n.customer_id = customer_card.customer_id
                       ORDER BY n.written_at DESC, n.note_id DESC LIMIT notes) n),
    'books', (SELECT coalesce(jsonb_agg(b.associate ORDER BY b.associate), '[]')
                FROM @extschema@.client_book_entry b WHERE b.entity = e AND b.customer_id = customer_card.customer_id));
END;
$$;
COMMENT ON FUNCTION @extschema@.customer_card(bigint, text, integer) IS
  'The customer card as JSON: contact information, three slots (up to three configured measures first, then client book attributes in display order), the latest notes the caller may read, and the client books holding the customer, for a legal entity (default: the caller''s only one)';

-- ------------------------------------------------------------------ timeline
-- Activities and notes recorded by associates, for cdp.timeline: what the
-- caller may read (row-level security), nothing without the privilege.
CREATE FUNCTION @extschema@._client_timeline(customer_id bigint, "from" timestamptz, "to" timestamptz, types text[])
RETURNS TABLE(occurred_at timestamptz, activity text, type text, summary text, detail jsonb, source_key text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF has_table_privilege('@extschema@.client_activity', 'SELECT')
     AND (types IS NULL OR 'clienteling' = ANY (types)
          OR EXISTS (SELECT 1 FROM @extschema@.client_activity_type t WHERE t.name = ANY (types))) THEN
    RETURN QUERY
    SELECT a.occurred_at, 'clienteling'::text, a.type,
           concat_ws(' ', (SELECT t.description FROM @extschema@.client_activity_type t WHERE t.name = a.type),
                     'by ' || a.associate, 'at ' || a.store) || coalesce(': ' || left(a.description, 80), ''),
           a.detail || jsonb_strip_nulls(jsonb_build_object('entity', a.entity, 'associate', a.associate, 'store', a.store,
                                                            'description', a.description)),
           'activity:' || a.activity_id
      FROM @extschema@.client_activity a
     WHERE a.customer_id = _client_timeline.customer_id
       AND ("from" IS NULL OR a.occurred_at >= "from") AND ("to" IS NULL OR a.occurred_at < "to")
       AND (types IS NULL OR a.type = ANY (types) OR 'clienteling' = ANY (types));
  END IF;
  IF has_table_privilege('@extschema@.client_note', 'SELECT')
     AND (types IS NULL OR 'clienteling' = ANY (types) OR 'note' = ANY (types)) THEN
    RETURN QUERY
    SELECT n.written_at, 'clienteling'::text, 'note'::text,
           'Note by ' || n.author || ': ' || left(n.note, 80),
           jsonb_strip_nulls(jsonb_build_object('entity', n.entity, 'associate', n.author, 'store', n.store, 'text', n.note)),
           'note:' || n.note_id
      FROM @extschema@.client_note n
     WHERE n.customer_id = _client_timeline.customer_id
       AND ("from" IS NULL OR n.written_at >= "from") AND ("to" IS NULL OR n.written_at < "to");
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._client_timeline(bigint, timestamptz, timestamptz, text[]) IS
  'Internal: the activities and notes associates recorded about a customer that the caller may read, as timeline rows';

-- cdp.timeline (src/sql/activity.sql) with the associates' activities and
-- notes added: the same signature and columns; activity 'clienteling', type
-- the client activity type or 'note', source_key 'activity:<n>' or 'note:<n>'.
CREATE OR REPLACE FUNCTION @extschema@.timeline(customer_id bigint, "from" timestamptz DEFAULT NULL, "to" timestamptz DEFAULT NULL,
                                                types text[] DEFAULT NULL)
RETURNS TABLE(occurred_at timestamptz, activity text, type text, summary text, detail jsonb, source_key text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT t.* FROM (
    SELECT a.occurred_at, a.activity, a.type, @extschema@._activity_summary(a.type, a.activity, a.detail), a.detail, a.source_key
      FROM @extschema@.activity a
     WHERE a.customer_id = timeline.customer_id
       AND (timeline."from" IS NULL OR a.occurred_at >= timeline."from")
       AND (timeline."to" IS NULL OR a.occurred_at < timeline."to")
       AND (timeline.types IS NULL OR a.type = ANY (timeline.types) OR a.activity = ANY (timeline.types))
    UNION ALL
    SELECT * FROM @extschema@._client_timeline(timeline.customer_id, timeline."from", timeline."to", timeline.types)
  ) t
  ORDER BY t.occurred_at DESC, t.activity, t.source_key
$$;
COMMENT ON FUNCTION @extschema@.timeline(bigint, timestamptz, timestamptz, text[]) IS
  'One customer''s activities, newest first, with a one-line summary each, including the activities and notes associates recorded that the caller may read (activity ''clienteling''); from (inclusive) and to (exclusive) bound the time, types keeps the given types or activity names';

-- ------------------------------------------------------- unification follows
-- When unification merges customer ids, books, attribute values, activities
-- and notes follow the surviving id (a merged id whose records went to
-- several customers follows the one that took most).  Where the survivor is
-- already in a book (or has a value), that row wins over the merged one's.
CREATE FUNCTION @extschema@._clienteling_follow_merges()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  CREATE TEMP TABLE _cdp_cl_moves ON COMMIT DROP AS
    SELECT DISTINCT ON (h.old_id) h.old_id, h.new_id
      FROM new_rows h
     WHERE h.reason = 'merged' AND h.old_id IS NOT NULL AND h.new_id IS NOT NULL
     ORDER BY h.old_id, h.records DESC, h.new_id;
  IF NOT EXISTS (SELECT 1 FROM _cdp_cl_moves) THEN
    DROP TABLE _cdp_cl_moves;
    RETURN NULL;
  END IF;
  UPDATE @extschema@.client_note n SET customer_id = m.new_id FROM _cdp_cl_moves m WHERE n.customer_id = m.old_id;
  UPDATE @extschema@.client_activity a SET customer_id = m.new_id FROM _cdp_cl_moves m WHERE a.customer_id = m.old_id;
  WITH gone AS (
    DELETE FROM @extschema@.client_book_entry b USING _cdp_cl_moves m WHERE b.customer_id = m.old_id
    RETURNING b.entity, b.associate, m.new_id, b.added_at, b.added_by)
  INSERT INTO @extschema@.client_book_entry (entity, associate, customer_id, added_at, added_by)
  SELECT g.entity, g.associate, g.new_id, g.added_at, g.added_by FROM gone g
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.client_book_entry b
                      WHERE b.entity = g.entity AND b.customer_id = g.new_id
                        AND (b.associate = g.associate OR b.exclusive))
   ORDER BY g.added_at, g.associate
  ON CONFLICT DO NOTHING;
  WITH gone AS (
    DELETE FROM @extschema@.client_attribute_value v USING _cdp_cl_moves m WHERE v.customer_id = m.old_id
    RETURNING v.entity, m.new_id, v.attribute, v.value, v.updated_at, v.updated_by)
  INSERT INTO @extschema@.client_attribute_value (entity, customer_id, attribute, value, updated_at, updated_by)
  SELECT DISTINCT ON (g.entity, g.new_id, g.attribute) g.entity, g.new_id, g.attribute, g.value, g.updated_at, g.updated_by
    FROM gone g
   ORDER BY g.entity, g.new_id, g.attribute, g.updated_at DESC
  ON CONFLICT DO NOTHING;
  DROP TABLE _cdp_cl_moves;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION @extschema@._clienteling_follow_merges() IS
  'Internal: after unification merged customer ids, moves client books, attribute values, activities and notes to the surviving id';
REVOKE EXECUTE ON FUNCTION @extschema@._clienteling_follow_merges() FROM PUBLIC;
CREATE TRIGGER clienteling_follows_merges AFTER INSERT ON @extschema@.customer_id_history
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._clienteling_follow_merges();
COMMENT ON TRIGGER clienteling_follows_merges ON @extschema@.customer_id_history IS
  'client books, attribute values, activities and notes follow merged customer ids';
