/*
 * The admin API's shape of an account's SAML identity source
 * (saml-contract "Admin API", GET .../saml-config): the IdP as its stored
 * metadata describes it, each signing certificate with its expiry, the
 * settings, and the ServiceProvider block with what the administrator
 * copies into the IdP (the "ACS URL" and "Issuer URL" of the AWS SSO guide).
 */
#include "admin/saml.h"

#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "store/saml.h"

#define MS_PER_DAY (24LL * 3600 * 1000)

static json_t *iso(int64_t ms)
{
	char buf[40];
	if (ms <= 0)
		return json_null();
	ts_time_iso(ms, buf);
	return json_string(buf);
}

/* The stored metadata parsed again; it parsed when it was stored. */
static ts_err stored_metadata(ts_arena_t *a, const struct ts_store_saml_config *cfg,
                              struct ts_saml_idp_metadata *md, struct ts_error *e)
{
	ts_err rc = ts_saml_metadata_parse(a, cfg->metadata_xml, strlen(cfg->metadata_xml), md, e);
	if (rc != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_INTERNAL, "the stored IdP metadata of %s: %s",
		               cfg->account_id, e->message);
	return TS_ERR_OK;
}

static json_t *idp_certs(const struct ts_saml_idp_metadata *md, int64_t now_ms)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < md->n_certs; i++) {
		const struct ts_saml_cert *c = &md->certs[i];
		int64_t left = c->not_after_ms - now_ms;
		/* whole days left, rounded down; negative once expired */
		int64_t days =
		        left >= 0 ? left / MS_PER_DAY : -((-left + MS_PER_DAY - 1) / MS_PER_DAY);
		json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:I}", "Subject",
		                                     ts_json_text(c->subject), "Sha256Fingerprint",
		                                     ts_json_text(c->sha256), "NotBefore",
		                                     iso(c->not_before_ms), "NotAfter",
		                                     iso(c->not_after_ms), "ExpiresInDays",
		                                     (json_int_t)days));
	}
	return arr;
}

static ts_err sp_certs(ts_store_conn_t *c, ts_arena_t *a, const char *account_id, int64_t now_ms,
                       json_t **out, struct ts_error *e)
{
	struct ts_store_saml_key *keys = NULL;
	int n = 0;
	ts_err rc = ts_store_saml_keys(c, a, account_id, now_ms, &keys, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = ts_json_own(a, json_array());
	for (int i = 0; i < n; i++) {
		struct ts_saml_cert cert;
		rc = ts_saml_cert_read(a, keys[i].cert_pem, &cert, e);
		if (rc != TS_ERR_OK)
			return TS_FAIL(e, TS_ERR_INTERNAL, "SP certificate %s: %s", keys[i].key_id,
			               e->message);
		json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:b}", "Subject",
		                                     ts_json_text(cert.subject),
		                                     "Sha256Fingerprint", ts_json_text(cert.sha256),
		                                     "NotBefore", iso(cert.not_before_ms),
		                                     "NotAfter", iso(cert.not_after_ms), "Current",
		                                     keys[i].retired_ms == 0));
	}
	*out = json_incref(arr);
	return TS_ERR_OK;
}

static json_t *relay_list(ts_arena_t *a, const char *text)
{
	json_t *j = NULL;
	if (text != NULL && ts_json_parse(text, strlen(text), NULL, a, &j, NULL) == TS_ERR_OK &&
	    json_is_array(j))
		return json_incref(j);
	return json_array();
}

ts_err ts_admin_saml_config_load_json(ts_store_conn_t *c, ts_arena_t *a, const char *base_url,
                                      const char *account_id, int64_t now_ms, json_t **out,
                                      struct ts_error *e)
{
	struct ts_store_saml_config cfg;
	struct ts_saml_idp_metadata md;
	bool found = false;
	json_t *sp = NULL;
	*out = NULL;
	ts_err rc = ts_store_saml_config_get(c, a, account_id, &cfg, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s has no SAML configuration",
		             account_id);
	if (rc == TS_ERR_OK)
		rc = stored_metadata(a, &cfg, &md, e);
	if (rc == TS_ERR_OK)
		rc = sp_certs(c, a, account_id, now_ms, &sp, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the SP's entityID is its metadata URL: the "Issuer URL" the IdP is given */
	const char *root = ts_arena_printf(a, "%s/saml/%s", base_url, account_id);
	const char *metadata_url = ts_arena_printf(a, "%s/metadata", root);
	json_t *service =
	        json_pack("{s:s, s:s, s:s, s:s, s:o}", "EntityId", metadata_url, "AcsUrl",
	                  ts_arena_printf(a, "%s/acs", root), "MetadataUrl", metadata_url,
	                  "LoginUrl", ts_arena_printf(a, "%s/login", root), "Certificates", sp);
	json_t *view = json_object();
	json_object_set_new(view, "IdpEntityId", ts_json_text(md.entity_id));
	json_object_set_new(
	        view, "IdpSsoUrl",
	        ts_json_text(md.sso_redirect_url ? md.sso_redirect_url : md.sso_post_url));
	json_object_set_new(view, "MetadataUrl",
	                    cfg.metadata_url ? ts_json_text(cfg.metadata_url) : json_null());
	json_object_set_new(view, "MetadataFetchedOn",
	                    cfg.metadata_url ? iso(cfg.metadata_fetched_ms) : json_null());
	json_object_set_new(view, "Certificates", idp_certs(&md, now_ms));
	json_object_set_new(view, "AllowIdpInitiated", json_boolean(cfg.allow_idp_initiated));
	json_object_set_new(view, "AllowSha1", json_boolean(cfg.allow_sha1));
	json_object_set_new(view, "RelayStateAllowList", relay_list(a, cfg.relay_allow));
	json_object_set_new(view, "ServiceProvider", service);
	json_object_set_new(view, "UpdatedOn", iso(cfg.modified_ms));
	*out = json_pack("{s:o}", "SamlConfig", view);
	return TS_ERR_OK;
}

ts_err ts_admin_saml_idp_expiry(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                int64_t *not_after_ms, struct ts_error *e)
{
	struct ts_store_saml_config cfg;
	struct ts_saml_idp_metadata md;
	bool found = false;
	*not_after_ms = 0;
	ts_err rc = ts_store_saml_config_get(c, a, account_id, &cfg, &found, e);
	if (rc != TS_ERR_OK || !found)
		return rc;
	rc = stored_metadata(a, &cfg, &md, e);
	for (size_t i = 0; rc == TS_ERR_OK && i < md.n_certs; i++)
		if (*not_after_ms == 0 || md.certs[i].not_after_ms < *not_after_ms)
			*not_after_ms = md.certs[i].not_after_ms;
	return rc;
}

ts_err ts_admin_saml_cert_warnings(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   int64_t now_ms, json_t **out, struct ts_error *e)
{
	struct ts_store_saml_config cfg;
	struct ts_saml_idp_metadata md;
	bool found = false;
	*out = NULL;
	ts_err rc = ts_store_saml_config_get(c, a, account_id, &cfg, &found, e);
	if (rc == TS_ERR_OK && found)
		rc = stored_metadata(a, &cfg, &md, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; found && i < md.n_certs; i++) {
		const struct ts_saml_cert *cert = &md.certs[i];
		int64_t left = cert->not_after_ms - now_ms;
		if (left >= TS_SAML_CERT_WARN_MS)
			continue;
		const char *subject = ts_text_escape(a, cert->subject);
		json_array_append_new(
		        arr,
		        json_string(left >= 0 ? ts_arena_printf(a,
		                                                "IdP signing certificate %s "
		                                                "expires in %lld days",
		                                                subject,
		                                                (long long)(left / MS_PER_DAY))
		                              : ts_arena_printf(a,
		                                                "IdP signing certificate %s "
		                                                "expired %lld days ago",
		                                                subject,
		                                                (long long)(-left / MS_PER_DAY))));
	}
	*out = arr;
	return TS_ERR_OK;
}
