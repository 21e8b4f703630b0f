/*
 * Sign-in attempts, kept so that the sign-in check shows an administrator a
 * user's last attempts with their outcome and the check that failed
 * (docs/product.md §4). Each source (SAML, OIDC, ...) records every decision;
 * the store keeps the newest TS_STORE_SIGNIN_KEEP per user, or per identity
 * when the attempt matched no user. Part of the store interface
 * (store/store.h).
 */
#ifndef TS_STORE_SIGNINS_H
#define TS_STORE_SIGNINS_H

#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

#define TS_STORE_SIGNIN_KEEP 20          /* attempts kept per user (or unmatched identity) */
#define TS_STORE_SIGNIN_IDENTITY_MAX 512 /* bytes of the asserted identity (NameID, email) */
#define TS_STORE_SIGNIN_FIELD_MAX 128    /* bytes of check_name and source */

struct ts_signin_attempt {
	const char *account_id;
	const char *user_id;  /* the user it matched; NULL when none */
	const char *identity; /* as asserted (NameID, email claim) */
	int64_t time_ms;
	const char *outcome;    /* "Allowed" | "Refused" */
	const char *check_name; /* the check that failed; NULL when allowed */
	const char *source;     /* "saml" | "oidc" | ... */
};

/*
 * Records an attempt and deletes the group's attempts beyond the newest
 * TS_STORE_SIGNIN_KEEP, in c's transaction if one is open, else in one of its
 * own. TS_ERR_BAD_REQUEST for an outcome other than Allowed or Refused, an
 * empty or overlong identity or source, an overlong check name.
 */
TS_MUST_USE ts_err ts_store_signin_attempt_insert(ts_store_conn_t *c,
                                                  const struct ts_signin_attempt *at,
                                                  struct ts_error *e);
/*
 * The account's attempts of user_id or of identity (either may be NULL, not
 * both), newest first, at most limit (1 to TS_STORE_PAGE_MAX); arena memory.
 */
TS_MUST_USE ts_err ts_store_signin_attempts(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, const char *user_id,
                                            const char *identity, int limit,
                                            struct ts_signin_attempt **out, int *n,
                                            struct ts_error *e);

#endif
