/*
 * tessera oidc configure --account ID --issuer URL --client-id ID
 * --client-secret-file F [--claim C] [--scopes S]: an account's OpenID
 * provider offline, as PUT .../openid-config does it (admin/oidc.h): the
 * issuer's discovery document and JWKS fetched and checked, the client
 * secret read from a file (never from the command line, where ps shows it,
 * and never printed), sealed with the master key, the change audited as the
 * local operator in its transaction without the secret. Prints the GET body.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admin/oidc.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/timeutil.h"

enum {
	O_DB,
	O_KEY,
	O_ACCOUNT,
	O_ISSUER,
	O_CLIENT_ID,
	O_SECRET_FILE,
	O_CLAIM,
	O_SCOPES,
	O_BASE_URL,
	O__COUNT
};
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_ACCOUNT] = {"account", NULL, false, "account ID"},
        [O_ISSUER] = {"issuer", NULL, false, "the provider's issuer (https URL)"},
        [O_CLIENT_ID] = {"client-id", NULL, false, "the client ID the provider gave"},
        [O_SECRET_FILE] = {"client-secret-file", NULL, false,
                           "a file holding the client secret (one line); may be left out to "
                           "keep the stored one"},
        [O_CLAIM] = {"claim", NULL, false, "the claim that names the user (default email)"},
        [O_SCOPES] = {"scopes", NULL, false, "the scopes asked (default \"openid email\")"},
        [O_BASE_URL] = {"base-url", "http://127.0.0.1:8080", false,
                        "the server's public origin, for the URLs printed (serve --base-url)"},
};

/*
 * The secret from path into buf (NUL-terminated): one line, its line end
 * dropped. false with a message when it cannot be read or is too long.
 */
static bool read_secret(const char *path, unsigned char *buf, size_t cap, size_t *len,
                        const char **why)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*why = "cannot be read";
		return false;
	}
	size_t n = fread(buf, 1, cap - 1, f);
	bool ok = !ferror(f);
	fclose(f);
	if (!ok) {
		*why = "cannot be read";
		return false;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n > cap - 3) { /* room was left for a secret at its cap and a CRLF */
		*why = "is longer than a client secret may be";
		return false;
	}
	*len = n;
	return true;
}

static int configure(struct ts_cli_store *s, const char **v,
                     const unsigned char master[TS_MASTER_KEY_LEN], struct ts_admin_oidc_input *in)
{
	struct ts_error e = {0};
	if (ts_admin_oidc_check(in, &e) != TS_ERR_OK ||
	    ts_admin_oidc_fetch(s->arena, in, &e) != TS_ERR_OK)
		return ts_cli_fail("oidc configure: %s", e.message);
	json_t *view = NULL;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_admin_oidc_configure(s->conn, s->arena, master, v[O_ACCOUNT], in, ts_now_ms(), &e) !=
	            TS_ERR_OK)
		goto fail;
	/* as the API's event: what was given, never the secret */
	json_t *params =
	        ts_json_own(s->arena, json_pack("{s:s, s:o, s:o, s:b}", "AccountId", v[O_ACCOUNT],
	                                        "Issuer", ts_json_text(in->issuer), "ClientId",
	                                        ts_json_text(in->client_id), "ClientSecretGiven",
	                                        in->client_secret != NULL));
	if (in->claim != NULL)
		json_object_set_new(params, "Claim", ts_json_text(in->claim));
	if (in->scopes != NULL)
		json_object_set_new(params, "Scopes", ts_json_text(in->scopes));
	if (ts_cli_audit_event(s, "UpdateAccountOpenIdConfig", v[O_ACCOUNT], params, NULL, &e) !=
	            TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (ts_store_begin(s->conn, false, &e) != TS_ERR_OK ||
	    ts_admin_oidc_config_load_json(s->conn, s->arena, v[O_BASE_URL], v[O_ACCOUNT], &view,
	                                   &e) != TS_ERR_OK) {
		ts_store_rollback(s->conn);
		return ts_cli_fail("oidc configure: stored, but cannot read it back: %s",
		                   e.message);
	}
	ts_store_rollback(s->conn);
	ts_cli_print_json_indented(view);
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	ts_store_rollback(s->conn);
	return ts_cli_fail("oidc configure: %s", e.message);
}

int ts_cli_oidc(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	unsigned char master[TS_MASTER_KEY_LEN];
	unsigned char secret[TS_OIDC_CLIENT_SECRET_MAX + 3];
	struct ts_admin_oidc_input in = {.allow_hs256 = -1};
	bool created = false;
	int status = 2;
	if (strcmp(verb, "configure") != 0) {
		ts_cli_fail("oidc: unknown verb %s (configure)", verb);
		goto out;
	}
	if (!ts_cli_flags("oidc", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (v[O_ACCOUNT] == NULL || v[O_ISSUER] == NULL || v[O_CLIENT_ID] == NULL) {
		status = ts_cli_fail("oidc configure: --account, --issuer and --client-id are "
		                     "required");
		goto out;
	}
	in.issuer = v[O_ISSUER];
	in.client_id = v[O_CLIENT_ID];
	in.claim = v[O_CLAIM];
	in.scopes = v[O_SCOPES];
	if (v[O_SECRET_FILE] != NULL) {
		const char *why = NULL;
		if (!read_secret(v[O_SECRET_FILE], secret, sizeof secret, &in.secret_len, &why)) {
			status = ts_cli_fail("oidc configure: the client secret file %s %s",
			                     ts_cli_text(arena, v[O_SECRET_FILE]), why);
			goto out;
		}
		in.client_secret = secret;
	}
	/* the client secret is sealed with it: the key file must exist (tessera init) */
	if (ts_app_master_key_load(v[O_KEY], false, master, &created, &e) != TS_ERR_OK) {
		status = ts_cli_fail("oidc configure: %s", e.message);
		goto out;
	}
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("oidc: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = configure(&s, v, master, &in);
out:
	sodium_memzero(master, sizeof master);
	sodium_memzero(secret, sizeof secret);
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
