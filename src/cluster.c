/*-------------------------------------------------------------------------
 *
 * cluster.c
 *	  Transitive clustering of matched record pairs for unification:
 *	  cdp.cluster_edges(edges text, cannot_link text) gives every record
 *	  that appears in a matched pair the cluster it ends up in.
 *
 * The pairs come from an SQL query read through an SPI cursor in batches,
 * so memory holds one batch of pairs plus a few words per distinct node,
 * never the whole edge list.  Node ids are arbitrary bigints; a hash table
 * (lib/simplehash.h) maps each to a dense index in order of first
 * appearance, and the clusters are a disjoint-set forest over those
 * indexes: union by size and path compression (iterative, since a
 * cluster may be a chain of millions), which makes each edge cost
 * practically constant time.  Every root also remembers which member has
 * the smallest id, the cluster's label, so the result does not depend on
 * the order of the edges.
 *
 * Cannot-link pairs ("these two records are never the same customer") are
 * loaded before any edge.  Each root keeps the list of its members'
 * cannot-link partners (as node indexes; an entry per end of each pair).
 * Uniting two roots is refused when a partner in the shorter of their two
 * lists currently has the other root: then the union would put a
 * forbidden pair into one cluster.  On a union the lists are concatenated
 * in constant time (head and tail kept per root), so a check costs the
 * length of the shorter list and each entry is checked on the shorter side
 * of a successful union at most log2(number of constraints) times: the
 * work follows the constraints, not the cluster sizes.  The entry that
 * refuses a union moves to the front of its list, so further edges between
 * the same two clusters are usually refused in one step.  Which edges are
 * refused depends on the order of the edges (the first edge that would
 * break a constraint is the one refused), so with constraints the caller
 * should give the edges in a meaningful order, e.g. best match first.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"

#include "pg_cdp.h"
#include "progress.h"

PG_FUNCTION_INFO_V1(cdp_cluster_edges);

/* rows fetched from a query per SPI_cursor_fetch */
#define CLUSTER_BATCH_ROWS 10000

/* output rows between interrupt checks */
#define CLUSTER_CHECK_EVERY 8192

/* at most this many distinct nodes: indexes are int32 */
#define CLUSTER_MAX_NODES ((int64) PG_INT32_MAX - 1)

/* no list entry, no node */
#define CLUSTER_NONE (-1)

/* an entry of the hash table: a node id and its dense index */
typedef struct NodeEntry
{
	int64		id;
	int32		index;
	char		status;
} NodeEntry;

/*
 * The 64-bit finaliser of MurmurHash3: mixes every bit of the id into the
 * hash, so that sequential or strided ids spread over the table.
 */
static inline uint32
cluster_hash_id(int64 id)
{
	uint64		h = (uint64) id;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

#define SH_PREFIX		nodemap
#define SH_ELEMENT_TYPE NodeEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			id
#define SH_HASH_KEY(tb, key) cluster_hash_id(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * The disjoint-set forest and the cannot-link lists.  Per node (arrays of
 * "capacity" elements, "nnodes" used): its id, its parent, and, meaningful
 * for roots only, the cluster size, the index of the member with the
 * smallest id, and the cannot-link list (head, tail, length).  The list
 * entries live in a pool: partner node index and next entry.
 */
typedef struct UnionFind
{
	MemoryContext cxt;
	nodemap_hash *map;
	int32		nnodes;
	int32		capacity;
	int64	   *ids;
	int32	   *parent;
	int32	   *size;
	int32	   *minidx;
	/* cannot-link lists, allocated only when a cannot_link query is given */
	bool		has_lists;
	int32	   *cl_head;
	int32	   *cl_tail;
	int32	   *cl_len;
	int32		npool;
	int32		pool_capacity;
	int32	   *pool_partner;
	int32	   *pool_next;
} UnionFind;

/*
 * grow_array
 *		Enlarge the array "ptr" of "elem"-byte elements to "newn" elements,
 *		or allocate it in "cxt" when "ptr" is NULL.  Huge allocations are
 *		allowed; beyond MaxAllocHugeSize the call is refused (54000).
 */
static void *
grow_array(MemoryContext cxt, void *ptr, Size elem, int64 newn)
{
	if ((Size) newn > MaxAllocHugeSize / elem)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many nodes to cluster"),
				 errdetail("Clustering " INT64_FORMAT " nodes needs more memory than one allocation may have.",
						   newn),
				 errhint("Cluster fewer records at a time.")));
	if (ptr == NULL)
		return MemoryContextAllocHuge(cxt, elem * (Size) newn);
	return repalloc_huge(ptr, elem * (Size) newn);
}

/*
 * uf_grow
 *		Double the capacity of every per-node array of "uf".
 */
static void
uf_grow(UnionFind *uf)
{
	int64		newcap = (int64) uf->capacity * 2;

	if (newcap > CLUSTER_MAX_NODES)
		newcap = CLUSTER_MAX_NODES;
	if (newcap <= uf->capacity)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many nodes to cluster"),
				 errdetail("At most %d distinct node ids can be clustered in one call.",
						   (int) CLUSTER_MAX_NODES),
				 errhint("Cluster fewer records at a time.")));

	uf->ids = grow_array(uf->cxt, uf->ids, sizeof(int64), newcap);
	uf->parent = grow_array(uf->cxt, uf->parent, sizeof(int32), newcap);
	uf->size = grow_array(uf->cxt, uf->size, sizeof(int32), newcap);
	uf->minidx = grow_array(uf->cxt, uf->minidx, sizeof(int32), newcap);
	if (uf->has_lists)
	{
		uf->cl_head = grow_array(uf->cxt, uf->cl_head, sizeof(int32), newcap);
		uf->cl_tail = grow_array(uf->cxt, uf->cl_tail, sizeof(int32), newcap);
		uf->cl_len = grow_array(uf->cxt, uf->cl_len, sizeof(int32), newcap);
	}
	uf->capacity = (int32) newcap;
}

/*
 * uf_init
 *		Set up an empty forest in memory context "cxt"; "with_lists" says
 *		whether cannot-link lists are kept.
 */
static void
uf_init(UnionFind *uf, MemoryContext cxt, bool with_lists)
{
	memset(uf, 0, sizeof(UnionFind));
	uf->cxt = cxt;
	uf->map = nodemap_create(cxt, 1024, NULL);
	uf->has_lists = with_lists;
	uf->capacity = 512;
	uf->ids = grow_array(cxt, NULL, sizeof(int64), uf->capacity);
	uf->parent = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
	uf->size = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
	uf->minidx = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
	if (with_lists)
	{
		uf->cl_head = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
		uf->cl_tail = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
		uf->cl_len = grow_array(cxt, NULL, sizeof(int32), uf->capacity);
	}
}

/*
 * uf_node
 *		The dense index of node "id", adding it as a cluster of its own
 *		when it is new.
 */
static inline int32
uf_node(UnionFind *uf, int64 id)
{
	NodeEntry  *e;
	bool		found;
	int32		i;

	e = nodemap_insert(uf->map, id, &found);
	if (found)
		return e->index;

	/* growing the arrays leaves the hash table, and so "e", alone */
	if (uf->nnodes >= uf->capacity)
		uf_grow(uf);
	i = uf->nnodes++;
	e->index = i;
	uf->ids[i] = id;
	uf->parent[i] = i;
	uf->size[i] = 1;
	uf->minidx[i] = i;
	if (uf->has_lists)
	{
		uf->cl_head[i] = CLUSTER_NONE;
		uf->cl_tail[i] = CLUSTER_NONE;
		uf->cl_len[i] = 0;
	}
	return i;
}

/*
 * uf_find
 *		The root of node "i"'s tree.  Two passes, no recursion: find the
 *		root, then point every node on the path straight at it.
 */
static inline int32
uf_find(UnionFind *uf, int32 i)
{
	int32	   *parent = uf->parent;
	int32		root = i;

	while (parent[root] != root)
		root = parent[root];
	while (parent[i] != root)
	{
		int32		next = parent[i];

		parent[i] = root;
		i = next;
	}
	return root;
}

/*
 * uf_add_partner
 *		Append "partner" to the cannot-link list of node "i" (a root: the
 *		constraints are loaded before any union).
 */
static void
uf_add_partner(UnionFind *uf, int32 i, int32 partner)
{
	int32		e;

	if (uf->npool >= uf->pool_capacity)
	{
		int64		newcap = uf->pool_capacity == 0 ? 1024 : (int64) uf->pool_capacity * 2;

		if (newcap > PG_INT32_MAX)
			newcap = PG_INT32_MAX;
		if (newcap <= uf->pool_capacity)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many cannot-link pairs"),
					 errdetail("At most %d cannot-link pairs can be applied in one call.",
							   PG_INT32_MAX / 2),
					 errhint("Remove duplicate pairs from the cannot_link query.")));
		uf->pool_partner = grow_array(uf->cxt, uf->pool_partner, sizeof(int32), newcap);
		uf->pool_next = grow_array(uf->cxt, uf->pool_next, sizeof(int32), newcap);
		uf->pool_capacity = (int32) newcap;
	}
	e = uf->npool++;
	uf->pool_partner[e] = partner;
	uf->pool_next[e] = CLUSTER_NONE;
	if (uf->cl_head[i] == CLUSTER_NONE)
		uf->cl_head[i] = e;
	else
		uf->pool_next[uf->cl_tail[i]] = e;
	uf->cl_tail[i] = e;
	uf->cl_len[i]++;
}

/*
 * uf_conflict
 *		Would uniting roots "ra" and "rb" put a cannot-link pair into one
 *		cluster?  Walks the shorter of the two partner lists.  The entry
 *		that proves a conflict is moved to the front of its list, so that
 *		the many edges that usually run between two records known to be
 *		different customers are refused after one step, not after walking
 *		the list again each time.
 */
static bool
uf_conflict(UnionFind *uf, int32 ra, int32 rb)
{
	int32		small = ra;
	int32		other = rb;
	int32		prev = CLUSTER_NONE;
	int32		e;
	uint32		steps = 0;

	if (uf->cl_len[ra] == 0 || uf->cl_len[rb] == 0)
		return false;
	if (uf->cl_len[rb] < uf->cl_len[ra])
	{
		small = rb;
		other = ra;
	}
	for (e = uf->cl_head[small]; e != CLUSTER_NONE; prev = e, e = uf->pool_next[e])
	{
		if (uf_find(uf, uf->pool_partner[e]) == other)
		{
			if (prev != CLUSTER_NONE)
			{
				/* unlink "e" and make it the head */
				uf->pool_next[prev] = uf->pool_next[e];
				if (uf->cl_tail[small] == e)
					uf->cl_tail[small] = prev;
				uf->pool_next[e] = uf->cl_head[small];
				uf->cl_head[small] = e;
			}
			return true;
		}
		if ((++steps & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return false;
}

/*
 * uf_union
 *		Join the clusters of nodes "a" and "b" unless that breaks a
 *		cannot-link pair.  Returns false when the union was refused.
 */
static inline bool
uf_union(UnionFind *uf, int32 a, int32 b)
{
	int32		ra = uf_find(uf, a);
	int32		rb = uf_find(uf, b);

	if (ra == rb)
		return true;
	if (uf->has_lists && uf_conflict(uf, ra, rb))
		return false;

	/* union by size: the smaller tree hangs under the larger root */
	if (uf->size[ra] < uf->size[rb])
	{
		int32		t = ra;

		ra = rb;
		rb = t;
	}
	uf->parent[rb] = ra;
	uf->size[ra] += uf->size[rb];
	if (uf->ids[uf->minidx[rb]] < uf->ids[uf->minidx[ra]])
		uf->minidx[ra] = uf->minidx[rb];

	if (uf->has_lists && uf->cl_len[rb] > 0)
	{
		if (uf->cl_len[ra] == 0)
			uf->cl_head[ra] = uf->cl_head[rb];
		else
			uf->pool_next[uf->cl_tail[ra]] = uf->cl_head[rb];
		uf->cl_tail[ra] = uf->cl_tail[rb];
		uf->cl_len[ra] += uf->cl_len[rb];
	}
	return true;
}

/*
 * check_pair_desc
 *		Error 42804 unless "desc" has exactly two columns of type bigint
 *		(or a domain over bigint); "argname" names the query's argument in
 *		the message.
 */
static void
check_pair_desc(TupleDesc desc, const char *argname)
{
	int			natts = desc ? desc->natts : 0;
	int			i;

	if (natts != 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s query must return two bigint columns", argname),
				 errdetail_plural("The query returns %d column.",
								  "The query returns %d columns.",
								  natts, natts),
				 errhint("Write it as SELECT a::bigint, b::bigint FROM ...")));
	for (i = 0; i < 2; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		/* a domain over bigint is stored as a bigint */
		if (getBaseType(att->atttypid) != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s query must return two bigint columns", argname),
					 errdetail("Column %d (\"%s\") is of type %s.",
							   i + 1, NameStr(att->attname),
							   format_type_be(att->atttypid)),
					 errhint("Write it as SELECT a::bigint, b::bigint FROM ...")));
	}
}

/*
 * open_pair_query
 *		Prepare "query" and open an SPI cursor on it, after making sure it is
 *		a single statement returning exactly two columns of type bigint;
 *		"argname" names the argument in the errors (42804, also for an empty
 *		query or one that returns no rows).
 */
static Portal
open_pair_query(const char *query, const char *argname)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *source;
	TupleDesc	desc;
	Portal		portal;

	plan = SPI_prepare_cursor(query, 0, NULL, CURSOR_OPT_NO_SCROLL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed: %s",
			 SPI_result_code_string(SPI_result));

	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s query must return two bigint columns", argname),
				 list_length(sources) == 0 ?
				 errdetail("The query is empty.") :
				 errdetail("The query text holds %d statements; exactly one is needed.",
						   list_length(sources)),
				 errhint("Write it as SELECT a::bigint, b::bigint FROM ...")));

	source = (CachedPlanSource *) linitial(sources);
	desc = source->resultDesc;
	if (desc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s query must return two bigint columns", argname),
				 errdetail("The query (%s) returns no rows.",
						   GetCommandTagName(source->commandTag)),
				 errhint("Write it as SELECT a::bigint, b::bigint FROM ...")));
	check_pair_desc(desc, argname);

	/* the plan may have been revalidated since: check what will be read */
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);
	check_pair_desc(portal->tupDesc, argname);
	return portal;
}

/*
 * read_pairs
 *		Run "query" through an SPI cursor and feed its (a, b) pairs, batch by
 *		batch, to the forest: as edges (unite) or, when "constraints" is
 *		true, as cannot-link pairs.  Rows with a NULL are skipped; a node
 *		paired with itself is only added (an edge joins nothing, a
 *		cannot-link pair forbids nothing).  While reading edges the
 *		number of rows read is reported as progress after every batch.
 *		Returns the number of refused edges.
 */
static int64
read_pairs(UnionFind *uf, const char *query, bool constraints)
{
	Portal		portal;
	int64		rows = 0;
	int64		refused = 0;

	portal = open_pair_query(query, constraints ? "cannot_link" : "edges");

	for (;;)
	{
		SPITupleTable *tuptable;
		TupleDesc	desc;
		uint64		n;
		uint64		r;

		SPI_cursor_fetch(portal, true, CLUSTER_BATCH_ROWS);
		n = SPI_processed;
		tuptable = SPI_tuptable;
		if (n == 0 || tuptable == NULL)
			break;
		desc = tuptable->tupdesc;

		for (r = 0; r < n; r++)
		{
			HeapTuple	tup = tuptable->vals[r];
			bool		anull;
			bool		bnull;
			Datum		ad = heap_getattr(tup, 1, desc, &anull);
			Datum		bd = heap_getattr(tup, 2, desc, &bnull);
			int64		a;
			int64		b;
			int32		ia;
			int32		ib;

			if (anull || bnull)
				continue;
			a = DatumGetInt64(ad);
			b = DatumGetInt64(bd);
			if (constraints)
			{
				ia = uf_node(uf, a);
				ib = uf_node(uf, b);
				if (ia != ib)
				{
					uf_add_partner(uf, ia, ib);
					uf_add_partner(uf, ib, ia);
				}
			}
			else
			{
				ia = uf_node(uf, a);
				ib = uf_node(uf, b);
				if (!uf_union(uf, ia, ib))
					refused++;
			}
		}
		rows += n;
		SPI_freetuptable(tuptable);
		if (!constraints)
			cdp_progress_set_done(rows);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	return refused;
}

/*
 * cdp_cluster_edges
 *		cdp.cluster_edges(edges text, cannot_link text DEFAULT NULL) →
 *		TABLE(node bigint, cluster bigint).
 *
 *		"edges" is a query giving matched pairs (a bigint, b bigint),
 *		applied in the order it returns them; "cannot_link" an optional
 *		query giving pairs that must never share a cluster (NULL: none).
 *		Returns one row per node of either query, in order of first
 *		appearance (cannot-link nodes first), with the smallest node id of
 *		its cluster.  A NULL "edges" is an error (22004); rows with a NULL
 *		id are skipped.
 */
Datum
cdp_cluster_edges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *edges_sql;
	char	   *cannot_sql = NULL;
	MemoryContext cxt;
	MemoryContext oldcxt;
	UnionFind	uf;
	int64		refused = 0;
	int32		i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("edges query must not be null"),
				 errdetail("cdp.cluster_edges needs a query returning the matched pairs."),
				 errhint("Pass a query such as 'SELECT a, b FROM pairs', or 'SELECT NULL::bigint, NULL::bigint WHERE false' for none.")));

	InitMaterializedSRF(fcinfo, 0);

	edges_sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		cannot_sql = text_to_cstring(PG_GETARG_TEXT_PP(1));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "cdp cluster_edges",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	uf_init(&uf, cxt, cannot_sql != NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (cannot_sql != NULL)
		read_pairs(&uf, cannot_sql, true);
	refused = read_pairs(&uf, edges_sql, false);
	SPI_finish();

	ereport(DEBUG1,
			(errmsg_internal("cluster_edges: %d nodes, %d cannot-link entries, " INT64_FORMAT " edges refused",
							 uf.nnodes, uf.npool, refused)));

	for (i = 0; i < uf.nnodes; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int32		root = uf_find(&uf, i);

		values[0] = Int64GetDatum(uf.ids[i]);
		values[1] = Int64GetDatum(uf.ids[uf.minidx[root]]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if ((i & (CLUSTER_CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	PG_RETURN_NULL();
}
