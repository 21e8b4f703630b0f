/*
 * Inside the admin API: one generic handler runs every operation the same
 * way (authenticate, authorize, run, audit, commit, answer), and each
 * operation is a small function that works on a call.
 */
#ifndef TS_ADMIN_INTERNAL_H
#define TS_ADMIN_INTERNAL_H

#include <jansson.h>

#include "admin/api.h"
#include "admin/policy.h"
#include "http/http.h"
#include "store/store.h"

#define TS__ADMIN_PAGE_DEFAULT 100
#define TS__ADMIN_PAGE_MAX 200
#define TS__ADMIN_AUDIT_PAGE_MAX 1000
#define TS__ADMIN_SIGNIN_ATTEMPTS 10 /* the sign-in check's LastSignInAttempts */

struct ts__admin_call {
	struct ts_http_req *req;
	ts_arena_t *a;
	ts_store_conn_t *conn;
	const char *account_id; /* first path parameter of account routes */
	json_t *body;           /* the parsed JSON body, or NULL */
	json_t *params;         /* requestParameters of the audit event */
	json_t *response;       /* what the caller gets (stolen by the dispatcher) */
	json_t *audit_response; /* responseElements when it must differ (no secrets); arena-owned */
	/* a read's answer written with ts_jsonw instead of response (arena memory) */
	const char *response_text;
	size_t response_len;
	int status;
	const ts_policy_set_t *policies;
	const char *principal;
	const char *claimed; /* the key id an unauthenticated token names, for the audit */
	bool write; /* runs in a write transaction: reads of what it changes lock (docs/store.md) */
};

enum ts__admin_resource {
	TS__RES_ANY,         /* "*": actions on no particular account */
	TS__RES_ACCOUNT,     /* the account named in the path */
	TS__RES_NEW_ACCOUNT, /* any account: "arn:tessera:::account/" followed by "*" */
	TS__RES_LIST,        /* allowed when some statement allows it; results filtered */
};

struct ts__admin_op {
	const char *action; /* "tessera:GetAccount" */
	const char *event;  /* "GetAccount" */
	enum ts__admin_resource resource;
	bool read_only;
	bool needs_body;
	ts_err (*run)(struct ts__admin_call *call, struct ts_error *e);
};

/* Operations, one per endpoint. */
extern const struct ts__admin_op ts__admin_create_account, ts__admin_list_accounts,
        ts__admin_get_account, ts__admin_update_account, ts__admin_delete_account,
        ts__admin_get_account_settings, ts__admin_update_account_settings,
        ts__admin_create_admin_key, ts__admin_list_admin_keys, ts__admin_delete_admin_key,
        ts__admin_lookup_events;
/* SCIM API keys (api_apikeys.c) */
extern const struct ts__admin_op ts__admin_create_api_key, ts__admin_list_api_keys,
        ts__admin_delete_api_key;

/* Directory administration (docs/product.md §4): users, domains, licence groups, sign-in check. */
extern const struct ts__admin_op ts__admin_list_users, ts__admin_get_user, ts__admin_invite_users,
        ts__admin_suspend_users, ts__admin_activate_users, ts__admin_update_user_license,
        ts__admin_logout_user, ts__admin_reset_pin, ts__admin_delete_user, ts__admin_signin_check,
        ts__admin_add_domain, ts__admin_list_domains, ts__admin_get_domain, ts__admin_delete_domain,
        ts__admin_verify_domain, ts__admin_list_groups, ts__admin_put_groups,
        ts__admin_delete_groups;
/* The account's SAML identity source (api_saml.c). */
extern const struct ts__admin_op ts__admin_put_saml_config, ts__admin_get_saml_config,
        ts__admin_delete_saml_config, ts__admin_rotate_saml_sp_key;
/* The account's OpenID provider (api_oidc.c). */
extern const struct ts__admin_op ts__admin_update_openid_config, ts__admin_get_openid_config,
        ts__admin_delete_openid_config;

/*
 * One route, several operations: the Chime API selects some calls with the
 * `operation` query parameter on one method and path (POST .../users?operation=add).
 * A route whose handler is ts__admin_select carries a table of these, ended
 * by {NULL, NULL}; the entry with operation NULL answers when the parameter
 * is absent.
 */
struct ts__admin_choice {
	const char *operation;
	const struct ts__admin_op *op;
};
extern const struct ts__admin_choice ts__admin_users_post[], ts__admin_user_post[],
        ts__admin_domain_post[], ts__admin_saml_config_post[];

/* The admin module's configuration (ts_admin_module), or NULL (no server). */
const struct ts_admin_config *ts__admin_config(const struct ts__admin_call *call);

/*
 * Reads max-results (default def, 1..max) and next-token, opened into *after
 * (the position ts__admin_next_token sealed). A token that another listing,
 * filter or key issued, or that was changed, is TS_ERR_BAD_REQUEST.
 */
TS_MUST_USE ts_err ts__admin_paging(struct ts__admin_call *call, int def, int max, int *limit,
                                    const char **after, struct ts_error *e);
/* The opaque next-token for a position, bound to this call's listing (arena memory). */
const char *ts__admin_next_token(struct ts__admin_call *call, const char *position);
/* A string member of the body: NULL when absent; TS_ERR_BAD_REQUEST when not a string. */
TS_MUST_USE ts_err ts__admin_body_str(struct ts__admin_call *call, const char *key, bool required,
                                      const char **out, struct ts_error *e);
/* A boolean member of the body: *out -1 when absent, else 0 or 1; TS_ERR_BAD_REQUEST otherwise. */
TS_MUST_USE ts_err ts__admin_body_bool(struct ts__admin_call *call, const char *key, int *out,
                                       struct ts_error *e);
/*
 * RelayStateAllowList of the body (an identity source's deep-link origins):
 * at most max origins (docs/http.md, ts_http_origin_normalize), as the JSON
 * text the store keeps; *out NULL when absent.
 */
TS_MUST_USE ts_err ts__admin_body_origins(struct ts__admin_call *call, int max, const char **out,
                                          struct ts_error *e);

#endif
