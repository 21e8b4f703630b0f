/*
 * tessera adminkey create|list|delete: admin keys offline.
 * --policy takes a managed policy name (FullAccess, UserManagement,
 * ReadOnly), several separated by commas, or a JSON file holding a policy
 * document or an array of names and documents.
 */
#include <stdio.h>
#include <string.h>

#include "admin/keys.h"
#include "cli/cli.h"
#include "core/json.h"

#define POLICY_FILE_MAX (256 * 1024)

enum { O_DB, O_KEY, O_POLICY, O_DESCRIPTION, O_ID, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_POLICY] = {"policy", NULL, false, "FullAccess|UserManagement|ReadOnly|FILE.json"},
        [O_DESCRIPTION] = {"description", NULL, false, "what the key is for"},
        [O_ID] = {"id", NULL, false, "AccessKeyId (delete)"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static ts_err load_policies(ts_arena_t *a, const char *arg, json_t **out, struct ts_error *e)
{
	if (ts_admin_policy_managed(arg) != NULL || strchr(arg, ',') != NULL) {
		json_t *arr = ts_json_own(a, json_array());
		char *copy = ts_arena_strdup(a, arg), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(arr, json_string(t));
		*out = arr;
		return TS_ERR_OK;
	}
	FILE *f = fopen(arg, "r");
	if (f == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "--policy %s is neither a managed policy nor a readable file", arg);
	char *buf = ts_arena_alloc(a, POLICY_FILE_MAX + 1);
	size_t n = fread(buf, 1, POLICY_FILE_MAX + 1, f);
	fclose(f);
	if (n > POLICY_FILE_MAX)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "policy file %s is too large", arg);
	json_t *doc = NULL;
	ts_err rc = ts_json_parse(buf, n, NULL, a, &doc, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (json_is_object(doc)) {
		json_t *arr = ts_json_own(a, json_array());
		json_array_append(arr, doc);
		doc = arr;
	}
	*out = doc;
	return TS_ERR_OK;
}

static int create(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	json_t *policies = NULL;
	struct ts_adminkey_created k;
	if (v[O_POLICY] == NULL)
		return ts_cli_fail("adminkey create: --policy is required");
	if (load_policies(s->arena, v[O_POLICY], &policies, &e) != TS_ERR_OK)
		return ts_cli_fail("adminkey create: %s", e.message);
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_admin_key_create(s->conn, s->arena, policies, v[O_DESCRIPTION], &k, &e) != TS_ERR_OK)
		goto fail;
	json_t *shown = ts_json_own(s->arena, ts_admin_key_json(&k.record));
	if (ts_cli_audit_event(s, "CreateAdminKey", NULL, NULL, shown, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (v[O_JSON])
		ts_cli_print_json(
		        json_pack("{s:s, s:s}", "AccessKeyId", k.access_key_id, "Token", k.token));
	else
		printf("AccessKeyId %s\nToken       %s\n(the token is shown once)\n",
		       k.access_key_id, k.token);
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	return ts_cli_fail("adminkey create: %s", e.message);
}

static int list(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	json_t *all = ts_json_own(s->arena, json_array());
	const char *after = NULL;
	for (;;) {
		struct ts_adminkey *page = NULL;
		int n = 0;
		if (ts_store_adminkey_list(s->conn, s->arena, after, TS_STORE_PAGE_MAX, &page, &n,
		                           &e) != TS_ERR_OK)
			return ts_cli_fail("adminkey list: %s", e.message);
		for (int i = 0; i < n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_admin_key_json(&page[i]));
			else
				printf("%-20s  %s  %s\n",
				       ts_cli_text(s->arena, page[i].access_key_id),
				       ts_cli_text(s->arena, page[i].policies),
				       ts_cli_text(s->arena, page[i].description));
		}
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].access_key_id;
	}
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", "AdminKeys", all));
	return 0;
}

static int delete (struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	if (v[O_ID] == NULL)
		return ts_cli_fail("adminkey delete: --id is required");
	json_t *params = ts_json_own(s->arena, json_pack("{s:s}", "AccessKeyId", v[O_ID]));
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_store_adminkey_delete(s->conn, v[O_ID], &e) != TS_ERR_OK ||
	    ts_cli_audit_event(s, "DeleteAdminKey", NULL, params, NULL, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK) {
		if (ts_store_tx_retry(s->conn, e.code, &attempt))
			goto again;
		ts_store_rollback(s->conn);
		return ts_cli_fail("adminkey delete: %s", e.message);
	}
	if (!v[O_JSON])
		printf("deleted %s\n", ts_cli_text(s->arena, v[O_ID]));
	return 0;
}

int ts_cli_adminkey(const char *verb, int argc, char **argv)
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
		ts_cli_fail("adminkey: unknown verb %s (create, list, delete)", verb);
		goto out;
	}
	if (!ts_cli_flags("adminkey", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("adminkey: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = fn(&s, v);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
