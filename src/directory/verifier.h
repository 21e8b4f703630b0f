/*
 * The domain verifier: one background thread per server that checks the
 * _tessera-challenge TXT record of every PendingVerification domain when its
 * check is due (next_check_ms in the store), with backoff, and moves it to
 * Verified, or to Failed after TS_DOMAIN_VERIFY_WINDOW_MS. It never runs on a
 * request thread: AddDomain and ?operation=verify only make a check due and
 * kick the thread. Several nodes on one store share the work: each check is
 * claimed in the store first. A DNS server that does not answer costs one
 * lookup's timeout per check and nothing else.
 */
#ifndef TS_DIRECTORY_VERIFIER_H
#define TS_DIRECTORY_VERIFIER_H

#include <stddef.h>

#include "net/dns.h"
#include "store/store.h"

#define TS_VERIFIER_POLL_MS 2000       /* longest sleep: other nodes add domains too */
#define TS_VERIFIER_KICK_RESCAN_MS 250 /* a kick may come before its transaction commits */
#define TS_VERIFIER_DNS_TIMEOUT_MS 2000
#define TS_VERIFIER_DNS_TRIES 2
#define TS_VERIFIER_LEASE_MS 60000 /* a claimed check left by a dead node is retried after */
#define TS_VERIFIER_BATCH 16       /* due domains read at once */

typedef struct ts_directory_verifier ts_directory_verifier_t;

/*
 * Called in the transaction that stores a final verdict (d is Verified or
 * Failed), after the store has it: the admin API records it as its audit
 * event. An error rolls the verdict back; the check is then tried again.
 */
typedef ts_err (*ts_directory_verdict_fn)(ts_store_conn_t *c, ts_arena_t *a,
                                          const struct ts_domain *d, struct ts_error *e);

struct ts_directory_verifier_config {
	ts_store_t *store;
	ts_directory_verdict_fn on_verdict;  /* may be NULL: nothing more is recorded */
	const struct ts_dns_server *servers; /* copied; 1..TS_NET_DNS_MAX_SERVERS */
	size_t n_servers;
	int dns_timeout_ms; /* 0: TS_VERIFIER_DNS_TIMEOUT_MS */
	int poll_ms;        /* 0: TS_VERIFIER_POLL_MS */
};

/* Starts the thread. TS_ERR_BAD_REQUEST without servers. */
TS_MUST_USE ts_err ts_directory_verifier_start(const struct ts_directory_verifier_config *cfg,
                                               ts_directory_verifier_t **out, struct ts_error *e);
/* Wakes the thread to look for due checks now (thread-safe; v may be NULL). */
void ts_directory_verifier_kick(ts_directory_verifier_t *v);
/* Stops the thread (waits for a lookup in flight, at most its timeout), joins it, frees *v. */
void ts_directory_verifier_stop(ts_directory_verifier_t **v);

/*
 * Reads the "nameserver" lines of a resolv.conf file into servers (port
 * 53): the default when no --dns-server is given. *n is 0 when none is usable.
 */
void ts_directory_verifier_resolv_conf(const char *path, struct ts_dns_server *servers, size_t max,
                                       size_t *n);

#endif
