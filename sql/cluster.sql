--
-- cluster: cdp.cluster_edges (transitive clustering of matched pairs with
-- cannot-link constraints) and the progress of a unification run in shared
-- memory (cdp.unify_progress and the internal cdp._progress_* functions).
-- Covers chains, stars, duplicate and self edges, negative and extreme ids,
-- independence from the edge order, cannot-link pairs (the edge that would
-- join a forbidden pair is refused, the first one in edge order), NULL ids,
-- empty results, every error with its SQLSTATE, a 1 MB query text,
-- multibyte column names, a 100,000-node chain, random graphs compared with
-- a recursive CTE (no constraints) and with a naive PL/pgSQL relabelling
-- (with constraints), and progress: begin, phases, done counts written by
-- cluster_edges itself, end, and the slot cleared by COMMIT, ROLLBACK and
-- errors, privileges.
--
\set VERBOSITY default

-- ---- small graphs, every expected cluster written out -------------------
-- chain 5-4-3-2-1 (given backwards), star around 100, duplicate and reversed
-- edges 20-21, a self-edge on 7 (a cluster of its own), negative ids, the
-- extreme bigints
CREATE TEMP TABLE g1 (a bigint, b bigint);
INSERT INTO g1 VALUES (5, 4), (4, 3), (3, 2), (2, 1),
  (100, 101), (100, 102), (103, 100), (104, 100),
  (20, 21), (21, 20), (20, 21), (21, 21),
  (7, 7),
  (-5, 30), (30, 31),
  (9223372036854775807, -9223372036854775808);

SELECT coalesce(e.node, c.node) AS node, e.expected, c.cluster,
       e.expected IS NOT DISTINCT FROM c.cluster AS ok
  FROM (VALUES (1, 1), (2, 1), (3, 1), (4, 1), (5, 1),
               (100, 100), (101, 100), (102, 100), (103, 100), (104, 100),
               (20, 20), (21, 20), (7, 7), (-5, -5), (30, -5), (31, -5),
               (9223372036854775807, -9223372036854775808),
               (-9223372036854775808, -9223372036854775808))
       AS e(node, expected)
  FULL JOIN cdp.cluster_edges('SELECT a, b FROM g1') c ON c.node = e.node
 ORDER BY 1;

-- the order of the edges does not matter without constraints: forwards,
-- backwards and shuffled give the same clusters (0 differences)
SELECT count(*) AS differences
  FROM cdp.cluster_edges('SELECT a, b FROM g1') f
  FULL JOIN cdp.cluster_edges('SELECT b, a FROM g1 ORDER BY a DESC, b') r USING (node)
 WHERE f.cluster IS DISTINCT FROM r.cluster;

-- NULL ids: rows with a NULL are skipped (99 and 98 never appear)
SELECT * FROM cdp.cluster_edges(
  'SELECT a, b FROM (VALUES (1::bigint, NULL::bigint), (NULL, 2), (NULL, NULL),
                            (3, 4), (99, NULL), (NULL, 98)) v(a, b)')
 ORDER BY node;

-- a query with no rows, and NULL cannot_link (= no constraints)
SELECT count(*) AS no_rows FROM cdp.cluster_edges('SELECT a, b FROM g1 WHERE false');
SELECT count(*) AS no_rows FROM cdp.cluster_edges('SELECT a, b FROM g1 WHERE false', NULL);

-- columns may have any names, multibyte ones too; VALUES and WITH work
SELECT * FROM cdp.cluster_edges('SELECT a AS "ñødé", b AS "中文" FROM g1 WHERE a < 4')
 ORDER BY node;
SELECT * FROM cdp.cluster_edges('VALUES (8::bigint, 9::bigint)') ORDER BY node;
SELECT * FROM cdp.cluster_edges('WITH p AS (SELECT 10::bigint x) SELECT x, x + 1 FROM p')
 ORDER BY node;
-- a domain over bigint is a bigint
CREATE DOMAIN cluster_id AS bigint;
SELECT * FROM cdp.cluster_edges('SELECT 12::cluster_id, 13::cluster_id') ORDER BY node;
DROP DOMAIN cluster_id;

-- ---- cannot-link constraints ---------------------------------------------
-- chain A-B-C = 1-2-3 with never(1, 3).  Edges in order 1-2, 2-3: 1-2 is
-- applied, then 2-3 would put 1 and 3 together and is refused.
SELECT * FROM cdp.cluster_edges(
  'SELECT a, b FROM (VALUES (1, 1::bigint, 2::bigint), (2, 2, 3)) v(i, a, b) ORDER BY i',
  'SELECT 1::bigint, 3::bigint')
 ORDER BY node;   -- 1:1 2:1 3:3
-- the other order: 2-3 is applied first, so 1-2 is the refused one
SELECT * FROM cdp.cluster_edges(
  'SELECT a, b FROM (VALUES (1, 1::bigint, 2::bigint), (2, 2, 3)) v(i, a, b) ORDER BY i DESC',
  'SELECT 3::bigint, 1::bigint')
 ORDER BY node;   -- 1:1 2:2 3:2

-- the forbidden pair may only meet through other nodes: clusters {1,2} and
-- {3,4} with never(1, 4); the bridge 2-3 is refused, then 5 joins 4 and 6
-- joins 1; the edge 1-2 again is not refused (already together)
SELECT * FROM cdp.cluster_edges(
  'SELECT a, b FROM (VALUES (1, 1::bigint, 2::bigint), (2, 3, 4), (3, 2, 3),
                            (4, 4, 5), (5, 6, 1), (6, 1, 2)) v(i, a, b) ORDER BY i',
  'SELECT 1::bigint, 4::bigint')
 ORDER BY node;   -- 1,2,6 -> 1; 3,4,5 -> 3

-- nodes that appear only in cannot_link are returned as clusters of their
-- own; rows with a NULL are skipped; a node forbidden with itself forbids
-- nothing (but is a node); duplicate constraints are harmless
SELECT * FROM cdp.cluster_edges(
  'SELECT 1::bigint, 2::bigint',
  'SELECT a, b FROM (VALUES (50::bigint, 51::bigint), (50, 51), (51, 50), (NULL, 52),
                            (53, NULL), (2, 2), (70, 70), (1, 60)) v(a, b)')
 ORDER BY node;   -- 1:1 2:1 50:50 51:51 60:60 70:70

-- a constraint between two clusters survives later unions on both sides:
-- never(1, 10); 1-2, 10-11, 2-3, 11-12 applied; 3-12 refused; 4-3 applied
SELECT * FROM cdp.cluster_edges(
  'SELECT a, b FROM (VALUES (1, 1::bigint, 2::bigint), (2, 10, 11), (3, 2, 3),
                            (4, 11, 12), (5, 3, 12), (6, 4, 3)) v(i, a, b) ORDER BY i',
  'SELECT 1::bigint, 10::bigint')
 ORDER BY node;   -- 1,2,3,4 -> 1; 10,11,12 -> 10

-- many constraints on a long chain: never(k, k + 50000) for k = 1..50000,
-- chain 1-2-...-100000 in order: the edge 50000-50001 is refused (50001 is
-- forbidden with 1), everything else is applied: two clusters
SELECT count(*) AS nodes, count(DISTINCT cluster) AS clusters,
       min(cluster) AS first, max(cluster) AS second,
       count(*) FILTER (WHERE cluster = 1) AS first_size
  FROM cdp.cluster_edges(
    'SELECT g::bigint, g::bigint + 1 FROM generate_series(1, 99999) g ORDER BY g',
    'SELECT k::bigint, k::bigint + 50000 FROM generate_series(1, 50000) k');
-- expected: 100000 nodes, 2 clusters, 1 and 50001, 50000 in the first

-- ---- a 100,000-node chain, given from the far end: one cluster, min id --
SELECT count(*) AS nodes, count(DISTINCT cluster) AS clusters, min(cluster) AS cluster
  FROM cdp.cluster_edges(
    'SELECT g::bigint, g::bigint - 1 FROM generate_series(100000, 2, -1) g');
-- expected: 100000, 1, 1

-- ---- random graphs against a recursive CTE (no constraints) --------------
SELECT setseed(0.31);
CREATE TEMP TABLE rg AS
SELECT t, i, 1 + floor(random() * 300)::bigint AS a, 1 + floor(random() * 300)::bigint AS b
  FROM generate_series(1, 5) t, generate_series(1, 240) i;

-- connected components by reachability: each node's cluster is the
-- smallest node it reaches
CREATE TEMP TABLE rg_expected AS
WITH RECURSIVE und AS (
    SELECT t, a AS x, b AS y FROM rg UNION SELECT t, b, a FROM rg
), reach(t, src, dst) AS (
    SELECT DISTINCT t, x, x FROM und
    UNION
    SELECT r.t, r.src, u.y FROM reach r JOIN und u ON u.t = r.t AND u.x = r.dst
)
SELECT t, src AS node, min(dst) AS cluster FROM reach GROUP BY t, src;

-- per graph: disagreements with the CTE and between two edge orders
-- (expect 0 and 0), and that the graphs are not trivial
SELECT g.t,
       (SELECT count(*)
          FROM (SELECT node, cluster FROM rg_expected x WHERE x.t = g.t) e
          FULL JOIN cdp.cluster_edges(format('SELECT a, b FROM rg WHERE t = %s ORDER BY i', g.t)) c
            USING (node)
         WHERE c.cluster IS DISTINCT FROM e.cluster) AS disagreements,
       (SELECT count(*)
          FROM cdp.cluster_edges(format('SELECT a, b FROM rg WHERE t = %s ORDER BY i', g.t)) f
          FULL JOIN cdp.cluster_edges(format('SELECT b, a FROM rg WHERE t = %s ORDER BY i DESC', g.t)) r
            USING (node)
         WHERE f.cluster IS DISTINCT FROM r.cluster) AS order_differences,
       (SELECT count(DISTINCT cluster) FROM rg_expected x WHERE x.t = g.t) > 10 AS many_clusters,
       (SELECT max(n) FROM (SELECT count(*) AS n FROM rg_expected x WHERE x.t = g.t
                             GROUP BY cluster) s) > 20 AS a_big_cluster
  FROM generate_series(1, 5) AS g(t)
 ORDER BY g.t;

-- ---- random graphs with constraints against a naive relabelling ----------
-- The reference applies the edges in order, keeps a label (the smallest id)
-- per node, refuses an edge when some cannot-link pair has one end labelled
-- like each side, and otherwise relabels both sides with the smaller label.
CREATE FUNCTION cluster_ref(edges text, cannot text)
RETURNS TABLE (node bigint, cluster bigint) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  la bigint;
  lb bigint;
BEGIN
  CREATE TEMP TABLE ref_lbl (n bigint PRIMARY KEY, l bigint NOT NULL);
  CREATE TEMP TABLE ref_cl (x bigint, y bigint);
  FOR r IN EXECUTE cannot LOOP
    CONTINUE WHEN r.a IS NULL OR r.b IS NULL;
    INSERT INTO ref_lbl VALUES (r.a, r.a), (r.b, r.b) ON CONFLICT DO NOTHING;
    INSERT INTO ref_cl VALUES (r.a, r.b);
  END LOOP;
  FOR r IN EXECUTE edges LOOP
    CONTINUE WHEN r.a IS NULL OR r.b IS NULL;
    INSERT INTO ref_lbl VALUES (r.a, r.a) ON CONFLICT DO NOTHING;
    INSERT INTO ref_lbl VALUES (r.b, r.b) ON CONFLICT DO NOTHING;
    SELECT l INTO la FROM ref_lbl WHERE n = r.a;
    SELECT l INTO lb FROM ref_lbl WHERE n = r.b;
    CONTINUE WHEN la = lb;
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM ref_cl c JOIN ref_lbl x ON x.n = c.x JOIN ref_lbl y ON y.n = c.y
       WHERE (x.l = la AND y.l = lb) OR (x.l = lb AND y.l = la));
    UPDATE ref_lbl SET l = least(la, lb) WHERE l IN (la, lb);
  END LOOP;
  RETURN QUERY SELECT n, l FROM ref_lbl;
  DROP TABLE ref_lbl;
  DROP TABLE ref_cl;
END $$;

SELECT setseed(0.77);
CREATE TEMP TABLE rc AS
SELECT t, i, 1 + floor(random() * 300)::bigint AS a, 1 + floor(random() * 300)::bigint AS b
  FROM generate_series(1, 5) t, generate_series(1, 30) i;

CREATE TEMP TABLE rc_result AS
SELECT g.t, c.node, c.cluster
  FROM generate_series(1, 5) AS g(t),
       LATERAL cdp.cluster_edges(format('SELECT a, b FROM rg WHERE t = %s ORDER BY i', g.t),
                                 format('SELECT a, b FROM rc WHERE t = %s', g.t)) c;

-- per graph: disagreements with the reference (expect 0), and whether the
-- constraints changed anything compared with no constraints (they should,
-- or the test would not test them)
SELECT g.t,
       (SELECT count(*)
          FROM cluster_ref(format('SELECT a, b FROM rg WHERE t = %s ORDER BY i', g.t),
                           format('SELECT a, b FROM rc WHERE t = %s', g.t)) e
          FULL JOIN (SELECT node, cluster FROM rc_result r WHERE r.t = g.t) c
            USING (node)
         WHERE c.cluster IS DISTINCT FROM e.cluster) AS disagreements,
       (SELECT count(*)
          FROM rc_result c JOIN rg_expected e ON e.t = c.t AND e.node = c.node
         WHERE c.t = g.t AND c.cluster <> e.cluster) > 0 AS constraints_mattered
  FROM generate_series(1, 5) AS g(t)
 ORDER BY g.t;

-- no cluster of the result holds a cannot-link pair (expect 0)
SELECT count(*) AS violations
  FROM rc
  JOIN rc_result x ON x.t = rc.t AND x.node = rc.a
  JOIN rc_result y ON y.t = rc.t AND y.node = rc.b
 WHERE rc.a <> rc.b AND x.cluster = y.cluster;

-- ---- errors ----------------------------------------------------------------
-- NULL edges query: 22004
SELECT * FROM cdp.cluster_edges(NULL);
-- wrong number of columns, wrong types, empty text, several statements, a
-- statement that returns no rows: all 42804
SELECT * FROM cdp.cluster_edges('SELECT 1::bigint');
SELECT * FROM cdp.cluster_edges('SELECT 1::bigint, 2::bigint, 3::bigint');
SELECT * FROM cdp.cluster_edges('SELECT 1, 2');
SELECT * FROM cdp.cluster_edges('SELECT 1::bigint AS "ñame", ''x''::text AS "中文"');
SELECT * FROM cdp.cluster_edges('');
SELECT * FROM cdp.cluster_edges('  -- only a comment');
SELECT * FROM cdp.cluster_edges('SELECT 1::bigint, 2::bigint; SELECT 3::bigint, 4::bigint');
SELECT * FROM cdp.cluster_edges('DELETE FROM g1 WHERE false');
SELECT * FROM cdp.cluster_edges('SELECT 1::bigint, 2::bigint', 'SELECT 1::bigint, 2::numeric');
-- a syntax error in the query is reported as such (42601)
SELECT * FROM cdp.cluster_edges('SELEC a, b FROM g1');

-- the SQLSTATEs
DO $$
DECLARE
  q text;
BEGIN
  FOREACH q IN ARRAY ARRAY[
    'SELECT * FROM cdp.cluster_edges(NULL)',
    'SELECT * FROM cdp.cluster_edges(''SELECT 1::bigint'')',
    'SELECT * FROM cdp.cluster_edges(''SELECT 1, 2'')',
    'SELECT * FROM cdp.cluster_edges('''')',
    'SELECT * FROM cdp.cluster_edges(''SELECT 1::bigint, 2::bigint; SELECT 1::bigint, 2::bigint'')',
    'SELECT * FROM cdp.cluster_edges(''DELETE FROM g1 WHERE false'')',
    'SELECT * FROM cdp.cluster_edges(''SELECT 1::bigint, 2::bigint'', ''SELECT 1'')',
    'SELECT * FROM cdp.cluster_edges(''SELEC a, b FROM g1'')',
    'SELECT * FROM cdp.cluster_edges(''SELECT a, b FROM no_such_table'')',
    'SELECT * FROM cdp.cluster_edges(''SELECT 1::bigint, 1 / 0::bigint'')']
  LOOP
    BEGIN
      EXECUTE q;
      RAISE NOTICE '% -> no error', q;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE '% -> %: %', q, SQLSTATE, SQLERRM;
    END;
  END LOOP;
END $$;

-- ---- long inputs ---------------------------------------------------------
-- a 1 MB query text (spaces before the statement) works
SELECT count(*) AS nodes
  FROM cdp.cluster_edges(repeat(' ', 1000000) || 'SELECT 1::bigint, 2::bigint');
-- 1 MB of words is a syntax error, not a crash
SELECT sqlstate_of(format('SELECT * FROM cdp.cluster_edges(%L)', repeat('ab ', 333334)))
       AS one_mb_garbage;

-- ---- progress of a run ---------------------------------------------------
-- no run: no row
SELECT count(*) AS runs FROM cdp.unify_progress();

-- a run within one transaction: begin, phases, done, then end
BEGIN;
SELECT cdp._progress_begin(42);
SELECT run_id, pid = pg_backend_pid() AS my_pid, phase, done, total,
       started_at = phase_started_at AS same_start,
       started_at <= clock_timestamp() AS started_before_now
  FROM cdp.unify_progress();
SELECT cdp._progress_phase('matching', 1000);
SELECT cdp._progress_done(250);
SELECT run_id, phase, done, total, phase_started_at >= started_at AS phase_after_start
  FROM cdp.unify_progress();
-- a new phase without a total: done back to 0, total NULL
SELECT cdp._progress_phase('clustering');
SELECT phase, done, total IS NULL AS no_total FROM cdp.unify_progress();
-- cluster_edges reports the number of edge rows read, batch by batch:
-- 25,000 rows (three batches) -> done = 25000
SELECT count(*) AS nodes
  FROM cdp.cluster_edges('SELECT g::bigint, g::bigint + 1 FROM generate_series(1, 25000) g');
SELECT phase, done FROM cdp.unify_progress();
-- a phase name longer than 63 bytes is cut on a character boundary:
-- 40 × 'é' (80 bytes) -> 31 characters (62 bytes)
SELECT cdp._progress_phase(repeat('é', 40), 5);
SELECT length(phase) AS chars, octet_length(phase) AS bytes, phase = repeat('é', 31) AS ok
  FROM cdp.unify_progress();
SELECT cdp._progress_phase('');
SELECT phase = '' AS empty_phase FROM cdp.unify_progress();
-- NULL done is ignored (strict)
SELECT cdp._progress_done(NULL);
SELECT done FROM cdp.unify_progress();
-- beginning again in the same backend restarts the run
SELECT cdp._progress_begin(43);
SELECT run_id, phase, done FROM cdp.unify_progress();
SELECT cdp._progress_end();
SELECT count(*) AS runs_after_end FROM cdp.unify_progress();
-- without a run, phase and done do nothing
SELECT cdp._progress_phase('nothing'), cdp._progress_done(5), cdp._progress_end();
SELECT count(*) AS runs FROM cdp.unify_progress();
COMMIT;

-- ROLLBACK of the transaction that began a run clears it
BEGIN;
SELECT cdp._progress_begin(7);
SELECT run_id FROM cdp.unify_progress();
ROLLBACK;
SELECT count(*) AS runs_after_rollback FROM cdp.unify_progress();

-- so does COMMIT without _progress_end, and an autocommit statement
BEGIN;
SELECT cdp._progress_begin(8);
COMMIT;
SELECT count(*) AS runs_after_commit FROM cdp.unify_progress();
SELECT cdp._progress_begin(9);
SELECT count(*) AS runs_after_autocommit FROM cdp.unify_progress();

-- an error (a failed run) clears it; a subtransaction that fails does not
BEGIN;
SELECT cdp._progress_begin(10);
SAVEPOINT s;
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT s;
SELECT run_id FROM cdp.unify_progress();
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) AS runs_after_error FROM cdp.unify_progress();

-- errors of the progress functions (no run is active, nothing changes)
SELECT cdp._progress_begin(NULL);
SELECT cdp._progress_phase(NULL);
SELECT cdp._progress_phase('x', -1);
SELECT cdp._progress_done(-1);
SELECT sqlstate_of('SELECT cdp._progress_begin(NULL)') AS begin_null,
       sqlstate_of('SELECT cdp._progress_phase(NULL)') AS phase_null,
       sqlstate_of('SELECT cdp._progress_phase(''x'', -1)') AS negative_total,
       sqlstate_of('SELECT cdp._progress_done(-1)') AS negative_done;

-- privileges: anyone may watch, only granted roles may write
CREATE ROLE regress_cluster_watcher;
SET ROLE regress_cluster_watcher;
SELECT count(*) AS runs FROM cdp.unify_progress();
SELECT count(*) AS nodes FROM cdp.cluster_edges('SELECT 1::bigint, 2::bigint');
SELECT cdp._progress_begin(1);
SELECT sqlstate_of('SELECT cdp._progress_phase(''x'')') AS phase,
       sqlstate_of('SELECT cdp._progress_done(1)') AS done,
       sqlstate_of('SELECT cdp._progress_end()') AS "end";
RESET ROLE;
DROP ROLE regress_cluster_watcher;

DROP FUNCTION cluster_ref(text, text);
