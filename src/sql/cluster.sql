
-- ---------------------------------------------------------------------------
-- cluster.sql: transitive clustering of matched pairs (union-find in C) and
-- the progress of a unification run, kept in shared memory so that other
-- sessions can watch it.
-- ---------------------------------------------------------------------------

-- Runs the caller's queries with the caller's privileges, like EXECUTE.
CREATE FUNCTION @extschema@.cluster_edges(edges text, cannot_link text DEFAULT NULL)
RETURNS TABLE(node bigint, cluster bigint)
AS 'MODULE_PATHNAME', 'cdp_cluster_edges'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE ROWS 100000;
COMMENT ON FUNCTION @extschema@.cluster_edges(text, text) IS
  'Connected components of matched pairs: edges is a query returning (a bigint, b bigint) pairs, applied in order; cannot_link an optional query of pairs that must never share a cluster (an edge that would join them is skipped). One row per node with cluster = the smallest node id of its component. NULL edges is an error (22004); rows with a NULL id are skipped';

CREATE FUNCTION @extschema@.unify_progress()
RETURNS TABLE(run_id bigint, pid integer, phase text, done bigint, total bigint,
              started_at timestamptz, phase_started_at timestamptz)
AS 'MODULE_PATHNAME', 'cdp_unify_progress'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;
COMMENT ON FUNCTION @extschema@.unify_progress() IS
  'Progress of the unification run in progress, seen from any session: its id, backend pid, phase, units done and total of the phase (NULL if unknown), start of the run and of the phase. No row when no run is active';

CREATE FUNCTION @extschema@._progress_begin(run_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_progress_begin'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._progress_begin(bigint) IS
  'Internal: marks unification run run_id active for this backend (phase ''starting''); cleared when this transaction commits or aborts. Error 55006 if another live backend holds the slot';

CREATE FUNCTION @extschema@._progress_phase(phase text, total bigint DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_progress_phase'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._progress_phase(text, bigint) IS
  'Internal: starts a new phase of this backend''s run (name cut to 63 bytes, total units or NULL, done = 0, clock time); no-op without an active run';

CREATE FUNCTION @extschema@._progress_done(done bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_progress_done'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._progress_done(bigint) IS
  'Internal: records how many units of the current phase are done; no-op without an active run';

CREATE FUNCTION @extschema@._progress_end()
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_progress_end'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._progress_end() IS
  'Internal: ends this backend''s unification run and clears the progress slot (only if this backend owns it)';

-- the writers are internal to CALL cdp.unify(); anyone may watch
REVOKE EXECUTE ON FUNCTION @extschema@._progress_begin(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._progress_phase(text, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._progress_done(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._progress_end() FROM PUBLIC;
