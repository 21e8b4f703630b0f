/*
 * Admin API: an account's SAML identity source (docs/saml.md "The admin API";
 * docs/product.md §6), and the steps it shares with the CLI and the
 * metadata refresher (admin/saml.h).
 *
 * PUT takes the IdP metadata as an XML body or as JSON (MetadataDocument, or
 * MetadataUrl fetched here). A fetch can take seconds, so it never runs
 * inside the call's write transaction (on SQLite that is the store's one
 * writer lock): the call authenticates and authorizes in its transaction,
 * gives the transaction up, fetches, and opens a new one for the change. A
 * key deleted during those seconds does not stop a call it had already
 * allowed, as with any call in flight when its key is deleted.
 *
 * The audit event of a PUT names the IdP (entityID, SSO URL, MetadataUrl) and
 * the settings, never the document itself.
 */
#include <string.h>
#include <strings.h>

#include "admin/internal.h"
#include "admin/saml.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "http/client.h"
#include "http/url.h"
#include "saml/spkeys.h"
#include "store/saml.h"

#define SAML_METADATA_ACCEPT "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8"

ts_err ts_admin_saml_fetch(ts_arena_t *a, const char *url, const char **xml, size_t *len,
                           struct ts_error *e)
{
	struct ts_http_client_opts o = {.max_bytes = TS_SAML_METADATA_MAX,
	                                .timeout_ms = TS_SAML_METADATA_FETCH_TIMEOUT_MS,
	                                .accept = SAML_METADATA_ACCEPT};
	struct ts_http_client_response r;
	struct ts_error why = {0};
	ts_err rc = ts_http_client_get(a, url, &o, &r, &why);
	if (rc == TS_ERR_BAD_REQUEST)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "MetadataUrl: %s", why.message);
	if (rc == TS_ERR_TOO_LARGE)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "MetadataUrl: %s", why.message);
	if (rc != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "MetadataUrl could not be fetched: %s",
		               why.message);
	if (r.status != 200)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "MetadataUrl answered HTTP %ld, not 200",
		               r.status);
	if (r.len == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "MetadataUrl answered an empty document");
	*xml = r.body;
	*len = r.len;
	return TS_ERR_OK;
}

/* The SP certificate's subject: names the account, fits X.509's 64-character CN. */
static const char *sp_common_name(ts_arena_t *a, const char *account_id)
{
	return ts_arena_printf(a, "Tessera SAML SP %.40s", account_id);
}

ts_err ts_admin_saml_configure(ts_store_conn_t *c, ts_arena_t *a,
                               const unsigned char master[TS_MASTER_KEY_LEN],
                               const char *account_id, const struct ts_admin_saml_input *in,
                               int64_t now_ms, struct ts_saml_idp_metadata *md_out,
                               struct ts_error *e)
{
	struct ts_account acct;
	struct ts_saml_idp_metadata md;
	struct ts_store_saml_config old = {0};
	bool found = false;
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to seal the SP key with");
	/* the account's row locked first: two imports for one account run one after the other */
	ts_err rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK && in->metadata_len > TS_SAML_METADATA_MAX)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the metadata document is larger than %d bytes",
		             TS_SAML_METADATA_MAX);
	if (rc == TS_ERR_OK)
		rc = ts_saml_metadata_parse(a, in->metadata_xml, in->metadata_len, &md, e);
	if (rc == TS_ERR_OK && md.valid_until_ms != 0 && md.valid_until_ms <= now_ms) {
		/* SAML Metadata §2.3.2: an expired document is not to be used */
		char t[TS_ISO8601_LEN + 1];
		ts_time_iso(md.valid_until_ms, t);
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the metadata expired at %s (validUntil)", t);
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_config_get(c, a, account_id, &old, &found, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_saml_config cfg = {
	        .account_id = account_id,
	        .idp_entity_id = md.entity_id,
	        .metadata_xml = ts_arena_strndup(a, in->metadata_xml, in->metadata_len),
	        .metadata_url = in->metadata_url,
	        .metadata_fetched_ms = in->metadata_url ? in->fetched_ms : 0,
	        .allow_idp_initiated = in->allow_idp_initiated >= 0
	                                       ? in->allow_idp_initiated == 1
	                                       : found && old.allow_idp_initiated,
	        .allow_sha1 = in->allow_sha1 >= 0 ? in->allow_sha1 == 1 : found && old.allow_sha1,
	        .relay_allow = in->relay_allow ? in->relay_allow
	                       : found         ? old.relay_allow
	                                       : NULL,
	        .created_ms = found ? old.created_ms : now_ms,
	        .modified_ms = now_ms,
	};
	rc = ts_store_saml_config_put(c, &cfg, e);
	struct ts_store_saml_key *keys = NULL;
	int n = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_keys(c, a, account_id, now_ms, &keys, &n, e);
	if (rc == TS_ERR_OK && n == 0) /* the first import: the account's first SP key pair */
		rc = ts_saml_sp_key_create(c, a, master, account_id, sp_common_name(a, account_id),
		                           now_ms, NULL, e);
	if (rc == TS_ERR_OK && md_out != NULL)
		*md_out = md;
	return rc;
}

/* ---- the endpoints ---- */

static const char *base_url(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	return cfg != NULL && cfg->base_url != NULL ? cfg->base_url : "";
}

/*
 * Tells the SAML upkeep thread that an identity source changed. Before the
 * commit: the thread's round reads in its own transaction, which sees the
 * change once committed; the round a kick misses is the next tick's.
 */
static void changed(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	if (cfg != NULL && cfg->saml_changed != NULL)
		cfg->saml_changed(cfg->saml_changed_arg);
}

static const unsigned char *master_key(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	return cfg != NULL ? cfg->master_key : NULL;
}

static bool xml_media(const char *ct)
{
	if (ct == NULL)
		return false;
	size_t n = strcspn(ct, "; \t");
	return (n == 15 && strncasecmp(ct, "application/xml", n) == 0) ||
	       (n == 8 && strncasecmp(ct, "text/xml", n) == 0) ||
	       (n == 28 && strncasecmp(ct, "application/samlmetadata+xml", n) == 0);
}

static const char *const put_members[] = {"MetadataDocument", "MetadataUrl", "AllowIdpInitiated",
                                          "AllowSha1", "RelayStateAllowList"};

/* Reads a JSON body into in; MetadataUrl is fetched by the caller. */
static ts_err read_json(struct ts__admin_call *call, struct ts_admin_saml_input *in,
                        struct ts_error *e)
{
	struct ts_http_req *req = call->req;
	if (req->body_len == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a body is required: the IdP metadata as XML, or JSON with "
		               "MetadataDocument or MetadataUrl");
	/* MetadataDocument holds a whole document: Entra ID's and federations' pass 64 KiB */
	const struct ts_json_limits lim = {.max_string = TS_SAML_METADATA_MAX};
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
	const char *doc = NULL, *url = NULL;
	rc = ts__admin_body_str(call, "MetadataDocument", false, &doc, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "MetadataUrl", false, &url, e);
	if (rc == TS_ERR_OK && (doc == NULL) == (url == NULL))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "give exactly one of MetadataDocument and "
		             "MetadataUrl");
	if (rc == TS_ERR_OK && url != NULL)
		rc = ts_http_client_url_check(url, e);
	/* plain http to loopback is for tests (docs/saml.md): a server served over https fetches
	 * over https only, or an admin key would reach its loopback services */
	if (rc == TS_ERR_OK && url != NULL &&
	    strncmp(base_url(call), "https://", strlen("https://")) == 0 &&
	    strncasecmp(url, "https://", strlen("https://")) != 0)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "MetadataUrl must be https (plain http only while serve --base-url is "
		             "http)");
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_bool(call, "AllowIdpInitiated", &in->allow_idp_initiated, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_bool(call, "AllowSha1", &in->allow_sha1, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_origins(call, TS_SAML_RELAY_ALLOW_MAX, &in->relay_allow, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (doc != NULL) {
		in->metadata_xml = doc;
		in->metadata_len = strlen(doc);
	}
	in->metadata_url = url;
	/* requestParameters: the settings and where the metadata came from, not the document */
	if (url != NULL)
		json_object_set_new(call->params, "MetadataUrl", json_string(url));
	for (size_t i = 2; i < sizeof put_members / sizeof put_members[0]; i++) {
		json_t *s = json_object_get(call->body, put_members[i]);
		if (s != NULL)
			json_object_set(call->params, put_members[i], s);
	}
	return TS_ERR_OK;
}

/*
 * Fetches in->metadata_url outside the write transaction (see the top of
 * this file): gives the transaction up, fetches, begins a new one.
 */
static ts_err fetch_outside(struct ts__admin_call *call, struct ts_admin_saml_input *in,
                            struct ts_error *e)
{
	ts_store_rollback(call->conn);
	struct ts_error why = {0};
	ts_err fetched = ts_admin_saml_fetch(call->a, in->metadata_url, &in->metadata_xml,
	                                     &in->metadata_len, &why);
	in->fetched_ms = ts_now_ms();
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
	ts_err rc = ts_admin_saml_config_load_json(call->conn, call->a, base_url(call),
	                                           call->account_id, ts_now_ms(), &view, e);
	if (rc == TS_ERR_OK)
		call->response = view;
	return rc;
}

static ts_err put_config(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_admin_saml_input in = {.allow_idp_initiated = -1, .allow_sha1 = -1};
	struct ts_http_req *req = call->req;
	ts_err rc = TS_ERR_OK;
	if (xml_media(ts_http_header(req, "content-type"))) {
		in.metadata_xml = req->body;
		in.metadata_len = req->body_len;
		if (in.metadata_len == 0)
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the IdP metadata document is empty");
	} else {
		rc = read_json(call, &in, e);
	}
	if (rc == TS_ERR_OK && in.metadata_url != NULL)
		rc = fetch_outside(call, &in, e);
	struct ts_saml_idp_metadata md;
	if (rc == TS_ERR_OK)
		rc = ts_admin_saml_configure(call->conn, call->a, master_key(call),
		                             call->account_id, &in, ts_now_ms(), &md, e);
	if (rc != TS_ERR_OK)
		return rc;
	changed(call);
	json_object_set_new(call->params, "IdpEntityId", ts_json_text(md.entity_id));
	json_object_set_new(
	        call->params, "IdpSsoUrl",
	        ts_json_text(md.sso_redirect_url ? md.sso_redirect_url : md.sso_post_url));
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
		rc = ts_store_saml_config_delete(call->conn, call->account_id, &deleted, e);
	if (rc == TS_ERR_OK && !deleted)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s has no SAML configuration",
		             call->account_id);
	if (rc == TS_ERR_OK) {
		call->status = 204;
		changed(call);
	}
	return rc;
}

static ts_err rotate_sp_key(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_store_saml_config cfg;
	bool found = false;
	const char *key_id = NULL;
	const unsigned char *master = master_key(call);
	int64_t now = ts_now_ms();
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to seal the SP key with");
	ts_err rc =
	        ts_store_account_get_for_update(call->conn, call->a, call->account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_config_get(call->conn, call->a, call->account_id, &cfg, &found,
		                              e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s has no SAML configuration",
		             call->account_id);
	if (rc == TS_ERR_OK)
		rc = ts_saml_sp_key_rotate(call->conn, call->a, master, call->account_id,
		                           sp_common_name(call->a, call->account_id), now, &key_id,
		                           e);
	/* the config's version moves, so that every node's cache of the account's keys reloads */
	if (rc == TS_ERR_OK) {
		cfg.modified_ms = now;
		rc = ts_store_saml_config_put(call->conn, &cfg, e);
	}
	if (rc != TS_ERR_OK)
		return rc;
	call->audit_response = ts_json_own(call->a, json_pack("{s:s}", "SpKeyId", key_id));
	return answer_config(call, e);
}

const struct ts__admin_op ts__admin_put_saml_config = {
        "tessera:PutSamlConfig", "PutSamlConfig", TS__RES_ACCOUNT, false, false, put_config};
const struct ts__admin_op ts__admin_get_saml_config = {
        "tessera:GetSamlConfig", "GetSamlConfig", TS__RES_ACCOUNT, true, false, get_config};
const struct ts__admin_op ts__admin_delete_saml_config = {"tessera:DeleteSamlConfig",
                                                          "DeleteSamlConfig",
                                                          TS__RES_ACCOUNT,
                                                          false,
                                                          false,
                                                          delete_config};
const struct ts__admin_op ts__admin_rotate_saml_sp_key = {
        "tessera:RotateSamlSpKey", "RotateSamlSpKey", TS__RES_ACCOUNT, false, false, rotate_sp_key};

const struct ts__admin_choice ts__admin_saml_config_post[] = {
        {"rotate-sp-key", &ts__admin_rotate_saml_sp_key},
        {NULL, NULL},
};
