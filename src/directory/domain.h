/*
 * Claimed email domains (docs/product.md §1, §4; the Amazon
 * Chime administration guide, "Claim a Domain"): the name
 * rules, the TXT challenge an account publishes, the verdict of one DNS
 * check with its backoff, and the consequences of removing a domain.
 * No HTTP and no DNS here: the verifier (verifier.h) does the lookups.
 */
#ifndef TS_DIRECTORY_DOMAIN_H
#define TS_DIRECTORY_DOMAIN_H

#include <stddef.h>

#include "store/store.h"

#define TS_DOMAIN_NAME_MAX 253 /* RFC 1035 §2.3.4, text form without the final dot */
#define TS_DOMAIN_LABEL_MAX 63 /* RFC 1035 §2.3.4 */
#define TS_DOMAIN_CHALLENGE_LABEL "_tessera-challenge"
/* Room for the challenge's record name: the label, a dot, the domain, the NUL. */
#define TS_DOMAIN_RECORD_NAME_MAX (sizeof TS_DOMAIN_CHALLENGE_LABEL + 1 + TS_DOMAIN_NAME_MAX)
#define TS_DOMAIN_TOKEN_PREFIX "tessera-verification="
#define TS_DOMAIN_TOKEN_CHARS 32
/* The Chime guide: "Propagation of the DNS change and verification ... can take up to 24 hours." */
#define TS_DOMAIN_VERIFY_WINDOW_MS (24LL * 3600 * 1000)
#define TS_DOMAIN_BACKOFF_FIRST_MS (60LL * 1000)    /* 1 min, then 2, 4, 8, ... */
#define TS_DOMAIN_BACKOFF_MAX_MS (60LL * 60 * 1000) /* never more than an hour apart */

#define TS_DOMAIN_PENDING "PendingVerification"
#define TS_DOMAIN_VERIFIED "Verified"
#define TS_DOMAIN_FAILED "Failed"

/*
 * Checks and normalizes a domain name into out: ASCII letters, digits and
 * hyphens in labels of 1..63 characters that neither start nor end with a
 * hyphen, at least two labels, a final label that is not all digits, at most
 * TS_DOMAIN_NAME_MAX characters; lowercased, one final dot removed.
 * TS_ERR_BAD_REQUEST naming the problem otherwise.
 */
TS_MUST_USE ts_err ts_directory_domain_check(const char *name, char out[TS_DOMAIN_NAME_MAX + 1],
                                             struct ts_error *e);

/* Delay before check number `attempts` + 1 after `attempts` failed ones. */
int64_t ts_directory_domain_backoff_ms(int64_t attempts);

enum ts_domain_lookup {
	TS_DOMAIN_LOOKUP_FOUND,    /* TXT records came back */
	TS_DOMAIN_LOOKUP_ABSENT,   /* NXDOMAIN or no TXT record */
	TS_DOMAIN_LOOKUP_DNS_DOWN, /* no server answered usefully */
};

/*
 * The verdict of one check of d at now_ms (pure): d's status, attempts,
 * next_check_ms, verified_ms and last_error are updated in place (strings in
 * arena). Verified when one record equals d->token exactly; otherwise
 * PendingVerification with the next check after the backoff, or Failed once
 * TS_DOMAIN_VERIFY_WINDOW_MS have passed since d->created_ms.
 */
void ts_directory_domain_judge(struct ts_domain *d, ts_arena_t *a, enum ts_domain_lookup lookup,
                               const char *const *records, size_t n_records, int64_t now_ms);

/*
 * AddDomain: checks name, refuses with TS_ERR_CONFLICT a domain another
 * account has verified (or one this account already has), and inserts it as
 * PendingVerification with a fresh token, its first check due at once.
 */
TS_MUST_USE ts_err ts_directory_domain_add(ts_store_conn_t *c, ts_arena_t *a,
                                           const char *account_id, const char *name,
                                           struct ts_domain *out, struct ts_error *e);

/*
 * ?operation=verify: makes the next check of the domain due now. A Failed
 * domain goes back to PendingVerification for that check (it fails again at
 * once unless the record is there). A Verified domain is left as it is.
 */
TS_MUST_USE ts_err ts_directory_domain_recheck(ts_store_conn_t *c, ts_arena_t *a,
                                               const char *account_id, const char *name,
                                               struct ts_domain *out, struct ts_error *e);

/*
 * Applies a Verified verdict's side effects: a Team account becomes
 * Enterprise (docs/product.md §4). Call in the transaction that stores the verdict.
 */
TS_MUST_USE ts_err ts_directory_domain_on_verified(ts_store_conn_t *c, ts_arena_t *a,
                                                   const char *account_id, struct ts_error *e);

struct ts_domain_removal {
	int signed_out; /* users signed out everywhere */
	int deleted;    /* profiles deleted (directory managed by an IdP) */
	int released;   /* shown as Released */
	int kept_suspended;
};

/*
 * DeleteDomain with the consequences of docs/product.md §4 (the Amazon Chime
 * administration guide, "To delete an enterprise account"): every user whose primary address is on
 * the domain is signed out everywhere; when the account's directory is managed by an IdP their
 * profile is deleted, otherwise they are shown as Released, except suspended users, who stay
 * Suspended. Users with only a proxy address on it keep their profile and sessions but can no
 * longer sign in with it (rule 4).
 */
TS_MUST_USE ts_err ts_directory_domain_remove(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id, const char *name,
                                              struct ts_domain_removal *out, struct ts_error *e);

/* The name of the TXT record that proves a claim of domain: "_tessera-challenge.<domain>". */
void ts_directory_domain_record_name(const char *domain, char out[TS_DOMAIN_RECORD_NAME_MAX]);

#endif
