/* The admin API (/api/v1): its module (routes, per-worker key cache, configuration). */
#ifndef TS_ADMIN_API_H
#define TS_ADMIN_API_H

#include "core/crypto.h"
#include "http/http.h"

struct ts_directory_verifier;

/* What the admin API needs of the running server; outlives it. */
struct ts_admin_config {
	/* seals the paging tokens (ts__admin_next_token); NULL: no further pages offered */
	const unsigned char *master_key;
	/* the background domain verifier, kicked by AddDomain and ?operation=verify; may be NULL */
	struct ts_directory_verifier *verifier;
	/* the public origin (serve --base-url): the SAML URLs handed to an IdP; NULL: relative */
	const char *base_url;
	/* called after a change of an account's SAML identity source (the upkeep thread's
	 * kick: its /metrics gauge); may be NULL */
	void (*saml_changed)(void *arg);
	void *saml_changed_arg;
};

/* The admin API's module for the server (http/http.h); cfg may be NULL. */
struct ts_http_module ts_admin_module(struct ts_admin_config *cfg);

#endif
