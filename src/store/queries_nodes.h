/* Queries of the node heartbeat (store/nodes.h). */
#ifndef TS_STORE_QUERIES_NODES_H
#define TS_STORE_QUERIES_NODES_H

/* X(ID, sql, postgres variant or NULL); ON CONFLICT ... DO UPDATE: SQLite 3.24+, PostgreSQL 9.5+ */
#define TS__STORE_QUERIES_NODES(X)                                                \
	X(NODE_BEAT,                                                              \
	  "INSERT INTO nodes (node_id, seen_ms, started_ms) VALUES ($1, $2, $2) " \
	  "ON CONFLICT (node_id) DO UPDATE SET seen_ms = excluded.seen_ms",       \
	  NULL)                                                                   \
	X(NODE_FORGET, "DELETE FROM nodes WHERE seen_ms < $1", NULL)              \
	X(NODE_LIVE, "SELECT count(*) FROM nodes WHERE seen_ms >= $1", NULL)      \
	X(NODE_LEAVE, "DELETE FROM nodes WHERE node_id = $1", NULL)

#endif
