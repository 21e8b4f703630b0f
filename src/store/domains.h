/*
 * Claimed domains and their DNS verification: one row per account and
 * domain, claimed for checking by one node at a time (ts_store_domain_claim).
 * Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_DOMAINS_H
#define TS_STORE_DOMAINS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

struct ts_domain {
	const char *account_id;
	const char *domain_name; /* lowercase, no final dot */
	const char *status;      /* "PendingVerification" | "Verified" | "Failed" */
	const char *token;       /* the TXT value to publish */
	int64_t created_ms;
	int64_t verified_ms; /* 0 when not verified */
	int64_t next_check_ms;
	int64_t attempts;
	const char *last_error; /* may be NULL */
};

/* TS_ERR_CONFLICT when the account already has the domain. */
TS_MUST_USE ts_err ts_store_domain_insert(ts_store_conn_t *c, const struct ts_domain *d,
                                          struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_domain_get(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, const char *name,
                                       struct ts_domain *out, struct ts_error *e);
/* The same, locking the row for the rest of a write transaction (as
 * ts_store_account_get_for_update). */
TS_MUST_USE ts_err ts_store_domain_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *account_id, const char *name,
                                                  struct ts_domain *out, struct ts_error *e);
/* Up to limit domains of an account by name, strictly after `after` (NULL: from the start). */
TS_MUST_USE ts_err ts_store_domain_list(ts_store_conn_t *c, ts_arena_t *arena,
                                        const char *account_id, const char *after, int limit,
                                        struct ts_domain **out, int *n, struct ts_error *e);
/* The account that has verified name, or *owner NULL when none has. */
TS_MUST_USE ts_err ts_store_domain_verified_owner(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *name, const char **owner,
                                                  struct ts_error *e);
/* The names of an account's Verified domains (at most TS_STORE_PAGE_MAX). */
TS_MUST_USE ts_err ts_store_domain_verified_names(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *account_id, const char ***names,
                                                  int *n, struct ts_error *e);
/* PendingVerification domains whose next check is due at now_ms, soonest first. */
TS_MUST_USE ts_err ts_store_domain_due(ts_store_conn_t *c, ts_arena_t *arena, int64_t now_ms,
                                       int limit, struct ts_domain **out, int *n,
                                       struct ts_error *e);
/* The earliest next_check_ms of any PendingVerification domain; *found false when none. */
TS_MUST_USE ts_err ts_store_domain_next_due(ts_store_conn_t *c, int64_t *next_ms, bool *found,
                                            struct ts_error *e);
/*
 * Claims a due check for this node: moves next_check_ms from seen_next_ms to
 * lease_until_ms only if nobody else did first (*won tells), so that several
 * nodes sharing one store do not check the same domain at once.
 */
TS_MUST_USE ts_err ts_store_domain_claim(ts_store_conn_t *c, const char *account_id,
                                         const char *name, int64_t seen_next_ms,
                                         int64_t lease_until_ms, bool *won, struct ts_error *e);
/* Writes status, verified_ms, next_check_ms, attempts and last_error of d. TS_ERR_CONFLICT
 * when d becomes Verified while another account has the name verified. */
TS_MUST_USE ts_err ts_store_domain_update(ts_store_conn_t *c, const struct ts_domain *d,
                                          struct ts_error *e);
TS_MUST_USE ts_err ts_store_domain_delete(ts_store_conn_t *c, const char *account_id,
                                          const char *name, struct ts_error *e);

#endif
