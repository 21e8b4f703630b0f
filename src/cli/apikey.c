/*
 * tessera apikey create|list|delete --account ID: an account's SCIM API keys
 * offline. `create --json` prints {"ApiKeyId", "Token"}; the token is shown
 * once and only its hash is stored.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "credential/apikey.h"

enum { O_DB, O_KEY, O_ACCOUNT, O_DESCRIPTION, O_ID, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_ACCOUNT] = {"account", NULL, false, "AccountId the key provisions"},
        [O_DESCRIPTION] = {"description", NULL, false, "what the key is for"},
        [O_ID] = {"id", NULL, false, "ApiKeyId (delete)"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static int create(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	struct ts_apikey_created k;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_credential_apikey_create(s->conn, s->arena, v[O_ACCOUNT], v[O_DESCRIPTION], &k,
	                                &e) != TS_ERR_OK)
		goto fail;
	json_t *shown = ts_json_own(s->arena, ts_credential_apikey_json(&k.record));
	if (ts_cli_audit_event(s, "CreateApiKey", v[O_ACCOUNT], NULL, shown, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (v[O_JSON])
		ts_cli_print_json(
		        json_pack("{s:s, s:s}", "ApiKeyId", k.api_key_id, "Token", k.token));
	else
		printf("ApiKeyId %s\nToken    %s\n(the token is shown once)\n", k.api_key_id,
		       k.token);
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	return ts_cli_fail("apikey create: %s", e.message);
}

static int list(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	json_t *all = ts_json_own(s->arena, json_array());
	const char *after = NULL;
	for (;;) {
		struct ts_apikey *page = NULL;
		int n = 0;
		if (ts_store_apikey_list(s->conn, s->arena, v[O_ACCOUNT], after, TS_STORE_PAGE_MAX,
		                         &page, &n, &e) != TS_ERR_OK)
			return ts_cli_fail("apikey list: %s", e.message);
		for (int i = 0; i < n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_credential_apikey_json(&page[i]));
			else
				printf("%-20s  %s\n", ts_cli_text(s->arena, page[i].api_key_id),
				       ts_cli_text(s->arena, page[i].description));
		}
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].api_key_id;
	}
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", "ApiKeys", all));
	return 0;
}

static int delete (struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	if (v[O_ID] == NULL)
		return ts_cli_fail("apikey delete: --id is required");
	json_t *params = ts_json_own(s->arena, json_pack("{s:s}", "ApiKeyId", v[O_ID]));
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_store_apikey_delete(s->conn, v[O_ACCOUNT], v[O_ID], &e) != TS_ERR_OK ||
	    ts_cli_audit_event(s, "DeleteApiKey", v[O_ACCOUNT], params, NULL, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK) {
		if (ts_store_tx_retry(s->conn, e.code, &attempt))
			goto again;
		ts_store_rollback(s->conn);
		return ts_cli_fail("apikey delete: %s", e.message);
	}
	if (!v[O_JSON])
		printf("deleted %s\n", ts_cli_text(s->arena, v[O_ID]));
	return 0;
}

int ts_cli_apikey(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	int (*fn)(struct ts_cli_store *, const char **) = strcmp(verb, "create") == 0   ? create
	                                                  : strcmp(verb, "list") == 0   ? list
	                                                  : strcmp(verb, "delete") == 0 ? delete
	                                                                                : NULL;
	if (fn == NULL) {
		ts_cli_fail("apikey: unknown verb %s (create, list, delete)", verb);
		goto out;
	}
	if (!ts_cli_flags("apikey", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (v[O_ACCOUNT] == NULL) {
		status = ts_cli_fail("apikey %s: --account is required", verb);
		goto out;
	}
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("apikey: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = fn(&s, v);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
