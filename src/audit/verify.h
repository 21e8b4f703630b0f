/*
 * Verifying the sealed audit trail (docs/audit.md, "What verify detects"):
 * every checkpoint's MAC and link to the one before, every chain link, every
 * event's MAC, that each event is either sealed or pending, and optionally
 * that the chain still holds a checkpoint kept outside the store.
 */
#ifndef TS_AUDIT_VERIFY_H
#define TS_AUDIT_VERIFY_H

#include "audit/chain.h"
#include "store/store.h"

/* A checkpoint kept outside the store: `--expect SEQ:HASH` (SEQ is the chain place). */
struct ts_audit_expect {
	int64_t chain_seq;
	const char *hash;
};

/* Parses "SEQ:HASH" (HASH 64 hex digits); false when malformed. */
bool ts_audit_expect_parse(const char *text, ts_arena_t *a, struct ts_audit_expect *out);

struct ts_audit_report {
	bool ok;
	int64_t sealed;                  /* sealed events checked */
	int64_t checkpoints;             /* checkpoints checked, the genesis one included */
	int64_t unsealed;                /* events still pending */
	int64_t oldest_unsealed_ms;      /* event time of the oldest of them (0: none) */
	struct ts_audit_checkpoint last; /* the newest checkpoint (when any) */
	/* when !ok: the first problem found */
	int64_t bad_seq;       /* the event's seq, 0 when the problem is not one event's */
	int64_t bad_chain_seq; /* its chain place, 0 when not sealed or not known */
	const char *bad_event; /* its eventID, NULL when unknown */
	const char *why;
};

/*
 * Checks the whole trail in one snapshot with the keys k; expect may be
 * NULL. Returns an error only when the store cannot be read; a broken trail
 * is a report with ok false (strings in a).
 */
TS_MUST_USE ts_err ts_audit_verify(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_keys *k,
                                   const struct ts_audit_expect *expect,
                                   struct ts_audit_report *out, struct ts_error *e);

#endif
