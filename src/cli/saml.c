/*
 * tessera saml configure --account ID --idp-metadata FILE|URL
 * [--allow-idp-initiated]: an account's SAML identity source offline, as
 * PUT .../saml-config does it (admin/saml.h): the metadata read from a file
 * or fetched from an https URL (http only to loopback), imported, the first
 * SP key pair made and sealed with the master key, the change audited as the
 * local operator in its transaction. Prints the GET body.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admin/saml.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/timeutil.h"

enum { O_DB, O_KEY, O_ACCOUNT, O_METADATA, O_IDP_INITIATED, O_BASE_URL, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_ACCOUNT] = {"account", NULL, false, "account ID"},
        [O_METADATA] = {"idp-metadata", NULL, false,
                        "the IdP's metadata: a file, or an https URL to fetch and refresh"},
        [O_IDP_INITIATED] = {"allow-idp-initiated", NULL, true,
                             "accept IdP-initiated (unsolicited) responses"},
        [O_BASE_URL] = {"base-url", "http://127.0.0.1:8080", false,
                        "the server's public origin, for the URLs printed (serve --base-url)"},
};

static bool is_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* The file's bytes, at most TS_SAML_METADATA_MAX of them (arena memory, NUL-terminated). */
static bool read_file(ts_arena_t *a, const char *path, const char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	char *buf = ts_arena_alloc(a, TS_SAML_METADATA_MAX + 2);
	size_t n = fread(buf, 1, TS_SAML_METADATA_MAX + 1, f);
	bool ok = !ferror(f);
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return ok;
}

static int configure(struct ts_cli_store *s, const char **v,
                     const unsigned char master[TS_MASTER_KEY_LEN])
{
	struct ts_error e = {0};
	struct ts_admin_saml_input in = {.allow_idp_initiated = v[O_IDP_INITIATED] ? 1 : -1,
	                                 .allow_sha1 = -1};
	if (is_url(v[O_METADATA])) {
		in.metadata_url = v[O_METADATA];
		if (ts_admin_saml_fetch(s->arena, in.metadata_url, &in.metadata_xml,
		                        &in.metadata_len, &e) != TS_ERR_OK)
			return ts_cli_fail("saml configure: %s", e.message);
		in.fetched_ms = ts_now_ms();
	} else if (!read_file(s->arena, v[O_METADATA], &in.metadata_xml, &in.metadata_len)) {
		return ts_cli_fail("saml configure: cannot read %s",
		                   ts_cli_text(s->arena, v[O_METADATA]));
	}
	struct ts_saml_idp_metadata md;
	json_t *view = NULL;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_admin_saml_configure(s->conn, s->arena, master, v[O_ACCOUNT], &in, ts_now_ms(), &md,
	                            &e) != TS_ERR_OK)
		goto fail;
	/* as the API's event: where the metadata came from and whom it names, not the document */
	json_t *params = ts_json_own(
	        s->arena,
	        json_pack("{s:s, s:o, s:o, s:o}", "AccountId", v[O_ACCOUNT], "IdpEntityId",
	                  ts_json_text(md.entity_id), "IdpSsoUrl",
	                  ts_json_text(md.sso_redirect_url ? md.sso_redirect_url : md.sso_post_url),
	                  "MetadataUrl",
	                  in.metadata_url ? json_string(in.metadata_url) : json_null()));
	if (in.allow_idp_initiated == 1)
		json_object_set_new(params, "AllowIdpInitiated", json_true());
	if (ts_cli_audit_event(s, "PutSamlConfig", v[O_ACCOUNT], params, NULL, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (ts_store_begin(s->conn, false, &e) != TS_ERR_OK ||
	    ts_admin_saml_config_load_json(s->conn, s->arena, v[O_BASE_URL], v[O_ACCOUNT],
	                                   ts_now_ms(), &view, &e) != TS_ERR_OK) {
		ts_store_rollback(s->conn);
		return ts_cli_fail("saml configure: stored, but cannot read it back: %s",
		                   e.message);
	}
	ts_store_rollback(s->conn);
	ts_cli_print_json_indented(view);
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	ts_store_rollback(s->conn);
	return ts_cli_fail("saml configure: %s", e.message);
}

int ts_cli_saml(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	unsigned char master[TS_MASTER_KEY_LEN];
	bool created = false;
	int status = 2;
	if (strcmp(verb, "configure") != 0) {
		ts_cli_fail("saml: unknown verb %s (configure)", verb);
		goto out;
	}
	if (!ts_cli_flags("saml", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (v[O_ACCOUNT] == NULL || v[O_METADATA] == NULL) {
		status = ts_cli_fail("saml configure: --account and --idp-metadata are required");
		goto out;
	}
	/* the SP's private key is sealed with it: the key file must exist (tessera init) */
	if (ts_app_master_key_load(v[O_KEY], false, master, &created, &e) != TS_ERR_OK) {
		status = ts_cli_fail("saml configure: %s", e.message);
		goto out;
	}
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("saml: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = configure(&s, v, master);
out:
	sodium_memzero(master, sizeof master);
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
