/*
 * Admin API: an account's OpenID provider (docs/oidc.md "Configuration";
 * SPEC §2 GetAccountWithOpenIdConfig, UpdateAccountOpenIdConfig,
 * DeleteAccountOpenIdConfig), and the steps it shares with the CLI
 * (admin/oidc.h).
 *
 * PUT checks the issuer by fetching its discovery document and JWKS, which
 * can take seconds, so the fetch never runs inside the call's write
 * transaction (on SQLite the store's one writer lock): the call
 * authenticates and authorizes in its transaction, gives it up, fetches, and
 * opens a new one for the change, as PUT .../saml-config does with a
 * MetadataUrl.
 *
 * The client secret is read from the body into the call's arena, sealed, and
 * never put in the audit event's requestParameters (which name the members
 * given, ClientSecretGiven saying whether a new secret came), in the answer
 * or in a log line; the body itself is not audited.
 */
#include <string.h>
#include <strings.h>

#include "admin/internal.h"
#include "admin/oidc.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "http/client.h"
#include "http/url.h"
#include "oidc/discovery.h"
#include "store/oidc.h"

/* ---- the steps shared with the CLI ---- */

/* Visible ASCII and spaces (RFC 6749 Appendix A: VSCHAR = %x20-7E), 1 to max bytes. */
static bool vschars(const unsigned char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool claim_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TS_OIDC_CLAIM_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == n;
}

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by one space. */
static bool scopes_ok(const char *s)
{
	size_t n = strlen(s);
	bool openid = false;
	if (n == 0 || n > TS_OIDC_SCOPES_MAX)
		return false;
	for (const char *p = s; *p != '\0';) {
		size_t len = 0;
		while (p[len] != '\0' && p[len] != ' ') {
			unsigned char ch = (unsigned char)p[len];
			if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\')
				return false;
			len++;
		}
		if (len == 0)
			return false; /* a leading, trailing or doubled space */
		openid = openid || (len == 6 && strncmp(p, "openid", 6) == 0);
		p += len;
		if (*p == ' ' && *++p == '\0')
			return false;
	}
	return openid;
}

ts_err ts_admin_oidc_check(const struct ts_admin_oidc_input *in, struct ts_error *e)
{
	if (in->issuer == NULL || in->client_id == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Issuer and ClientId are required");
	if (!vschars((const unsigned char *)in->client_id, strlen(in->client_id),
	             TS_OIDC_CLIENT_ID_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "ClientId must be 1 to %d characters of visible ASCII",
		               TS_OIDC_CLIENT_ID_MAX);
	if (in->client_secret != NULL &&
	    !vschars(in->client_secret, in->secret_len, TS_OIDC_CLIENT_SECRET_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "ClientSecret must be 1 to %d characters of visible ASCII",
		               TS_OIDC_CLIENT_SECRET_MAX);
	if (in->claim != NULL && !claim_ok(in->claim))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Claim must be a claim name of 1 to %d letters, digits, '_', '-', "
		               "'.' or ':'",
		               TS_OIDC_CLAIM_MAX);
	if (in->scopes != NULL && !scopes_ok(in->scopes))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Scopes must be at most %d bytes of scope names separated by single "
		               "spaces, \"openid\" among them",
		               TS_OIDC_SCOPES_MAX);
	return TS_ERR_OK;
}

ts_err ts_admin_oidc_fetch(ts_arena_t *a, struct ts_admin_oidc_input *in, struct ts_error *e)
{
	struct ts_oidc_discovery d;
	size_t len = 0;
	ts_err rc = ts_oidc_discovery_fetch(a, in->issuer, &d, &in->discovery_json, &len, e);
	if (rc == TS_ERR_OK)
		rc = ts_oidc_discovery_jwks_fetch(a, d.jwks_uri, &in->jwks_json, &len, e);
	in->fetched_ms = ts_now_ms();
	return rc;
}

ts_err ts_admin_oidc_configure(ts_store_conn_t *c, ts_arena_t *a,
                               const unsigned char master[TS_MASTER_KEY_LEN],
                               const char *account_id, const struct ts_admin_oidc_input *in,
                               int64_t now_ms, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_store_oidc_config old = {0};
	bool found = false;
	if (in->discovery_json == NULL || in->jwks_json == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "the issuer's documents were not fetched");
	/* the account's row locked first: two changes for one account run one after the other */
	ts_err rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_oidc_check(in, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_oidc_config_get(c, a, account_id, &old, &found, e);
	if (rc == TS_ERR_OK && !found && in->client_secret == NULL)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "ClientSecret is required: account %s has no OpenID configuration yet",
		             account_id);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_oidc_config cfg = {
	        .account_id = account_id,
	        .issuer = in->issuer,
	        .client_id = in->client_id,
	        .claim = in->claim ? in->claim
	                 : found   ? old.claim
	                           : NULL,
	        .scopes = in->scopes ? in->scopes
	                  : found    ? old.scopes
	                             : NULL,
	        .discovery_json = in->discovery_json,
	        .jwks_json = in->jwks_json,
	        .jwks_fetched_ms = in->fetched_ms,
	        .relay_allow = in->relay_allow ? in->relay_allow
	                       : found         ? old.relay_allow
	                                       : NULL,
	        .allow_hs256 =
	                in->allow_hs256 >= 0 ? in->allow_hs256 == 1 : found && old.allow_hs256,
	        .created_ms = found ? old.created_ms : now_ms,
	        .modified_ms = now_ms,
	};
	rc = ts_store_oidc_config_put(c, &cfg, e);
	if (rc == TS_ERR_OK && in->client_secret != NULL)
		rc = ts_store_oidc_secret_put(c, a, master, account_id, in->client_secret,
		                              in->secret_len, now_ms, e);
	return rc;
}

/* ---- the endpoints ---- */

static const char *base_url(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	return cfg != NULL && cfg->base_url != NULL ? cfg->base_url : "";
}

static const unsigned char *master_key(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	return cfg != NULL ? cfg->master_key : NULL;
}

static const char *const put_members[] = {"Issuer",    "ClientId", "ClientSecret",
                                          "Claim",     "Scopes",   "RelayStateAllowList",
                                          "AllowHs256"};
/* the members copied into the audit event: every one but ClientSecret */
static const char *const audited_members[] = {
        "Issuer", "ClientId", "Claim", "Scopes", "RelayStateAllowList", "AllowHs256"};

static ts_err read_body(struct ts__admin_call *call, struct ts_admin_oidc_input *in,
                        struct ts_error *e)
{
	struct ts_http_req *req = call->req;
	if (req->body_len == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a body is required: {\"Issuer\", \"ClientId\", \"ClientSecret\"}");
	const struct ts_json_limits lim = {.max_depth = 4, .max_string = TS_HTTP_CLIENT_URL_MAX};
	ts_err rc = ts_json_parse(req->body, req->body_len, &lim, call->a, &call->body, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!json_is_object(call->body))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the body must be a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(call->body, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < sizeof put_members / sizeof put_members[0]; i++)
			known = known || strcmp(key, put_members[i]) == 0;
		if (!known)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown member %s",
			               ts_text_escape(call->a, key));
	}
	/* requestParameters: what was given, never the secret (docs/oidc.md) */
	for (size_t i = 0; i < sizeof audited_members / sizeof audited_members[0]; i++) {
		json_t *s = json_object_get(call->body, audited_members[i]);
		if (s != NULL)
			json_object_set(call->params, audited_members[i], s);
	}
	json_object_set_new(call->params, "ClientSecretGiven",
	                    json_boolean(json_object_get(call->body, "ClientSecret") != NULL));
	const char *secret = NULL;
	rc = ts__admin_body_str(call, "Issuer", true, &in->issuer, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "ClientId", true, &in->client_id, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "ClientSecret", false, &secret, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "Claim", false, &in->claim, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "Scopes", false, &in->scopes, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_origins(call, TS_OIDC_RELAY_ALLOW_MAX, &in->relay_allow, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_bool(call, "AllowHs256", &in->allow_hs256, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (secret != NULL) {
		in->client_secret = (const unsigned char *)secret;
		in->secret_len = strlen(secret);
	}
	rc = ts_admin_oidc_check(in, e);
	/* plain http to loopback is for tests (docs/oidc.md): a server served over https talks
	 * to its issuers over https only, or an admin key would reach its loopback services */
	if (rc == TS_ERR_OK && strncmp(base_url(call), "https://", strlen("https://")) == 0 &&
	    strncasecmp(in->issuer, "https://", strlen("https://")) != 0)
		rc = TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "Issuer must be https (plain http only while serve --base-url is http)");
	return rc;
}

/*
 * Fetches the issuer's documents outside the write transaction (see the top
 * of this file): gives the transaction up, fetches, begins a new one.
 */
static ts_err fetch_outside(struct ts__admin_call *call, struct ts_admin_oidc_input *in,
                            struct ts_error *e)
{
	ts_store_rollback(call->conn);
	struct ts_error why = {0};
	ts_err fetched = ts_admin_oidc_fetch(call->a, in, &why);
	ts_err rc = ts_store_begin(call->conn, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (fetched != TS_ERR_OK)
		*e = why;
	return fetched;
}

static ts_err answer_config(struct ts__admin_call *call, struct ts_error *e)
{
	json_t *view = NULL;
	ts_err rc = ts_admin_oidc_config_load_json(call->conn, call->a, base_url(call),
	                                           call->account_id, &view, e);
	if (rc == TS_ERR_OK)
		call->response = view;
	return rc;
}

static ts_err put_config(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_admin_oidc_input in = {.allow_hs256 = -1};
	ts_err rc = read_body(call, &in, e);
	if (rc == TS_ERR_OK)
		rc = fetch_outside(call, &in, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_oidc_configure(call->conn, call->a, master_key(call),
		                             call->account_id, &in, ts_now_ms(), e);
	if (rc != TS_ERR_OK)
		return rc;
	return answer_config(call, e);
}

static ts_err get_config(struct ts__admin_call *call, struct ts_error *e)
{
	return answer_config(call, e);
}

static ts_err delete_config(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	bool deleted = false;
	ts_err rc =
	        ts_store_account_get_for_update(call->conn, call->a, call->account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_oidc_config_delete(call->conn, call->account_id, &deleted, e);
	if (rc == TS_ERR_OK && !deleted)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s has no OpenID configuration",
		             call->account_id);
	if (rc == TS_ERR_OK)
		call->status = 204;
	return rc;
}

const struct ts__admin_op ts__admin_update_openid_config = {"tessera:UpdateAccountOpenIdConfig",
                                                            "UpdateAccountOpenIdConfig",
                                                            TS__RES_ACCOUNT,
                                                            false,
                                                            false,
                                                            put_config};
const struct ts__admin_op ts__admin_get_openid_config = {"tessera:GetAccountWithOpenIdConfig",
                                                         "GetAccountWithOpenIdConfig",
                                                         TS__RES_ACCOUNT,
                                                         true,
                                                         false,
                                                         get_config};
const struct ts__admin_op ts__admin_delete_openid_config = {"tessera:DeleteAccountOpenIdConfig",
                                                            "DeleteAccountOpenIdConfig",
                                                            TS__RES_ACCOUNT,
                                                            false,
                                                            false,
                                                            delete_config};
