/* tessera account create|list: offline account bootstrap against --db. */
#include <stdio.h>
#include <string.h>

#include "admin/render.h"
#include "cli/cli.h"
#include "core/json.h"
#include "directory/account.h"

enum { O_DB, O_KEY, O_NAME, O_TYPE, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_NAME] = {"name", NULL, false, "account name (create)"},
        [O_TYPE] = {"type", "Team", false, "Team or Enterprise (create)"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static int create(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	struct ts_account acct;
	if (v[O_NAME] == NULL)
		return ts_cli_fail("account create: --name is required");
	json_t *params = ts_json_own(
	        s->arena, json_pack("{s:s, s:s}", "Name", v[O_NAME], "AccountType", v[O_TYPE]));
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK ||
	    ts_directory_account_create(s->conn, s->arena, v[O_NAME], v[O_TYPE], &acct, &e) !=
	            TS_ERR_OK)
		goto fail;
	json_t *out = ts_json_own(s->arena, ts_admin_account_json(&acct));
	if (ts_cli_audit_event(s, "CreateAccount", acct.account_id, params, out, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (v[O_JSON])
		ts_cli_print_json(json_incref(out));
	else
		printf("created %s account %s (%s)\n", acct.account_type, acct.account_id,
		       ts_cli_text(s->arena, acct.name));
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	return ts_cli_fail("account create: %s", e.message);
}

static int list(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	json_t *all = ts_json_own(s->arena, json_array());
	const char *after = NULL;
	for (;;) {
		struct ts_account *page = NULL;
		int n = 0;
		if (ts_store_account_list(s->conn, s->arena, after, NULL, TS_STORE_PAGE_MAX, &page,
		                          &n, &e) != TS_ERR_OK)
			return ts_cli_fail("account list: %s", e.message);
		for (int i = 0; i < n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_admin_account_json(&page[i]));
			else
				printf("%-36s  %-10s  %s\n",
				       ts_cli_text(s->arena, page[i].account_id),
				       ts_cli_text(s->arena, page[i].account_type),
				       ts_cli_text(s->arena, page[i].name));
		}
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].account_id;
	}
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", "Accounts", all));
	return 0;
}

int ts_cli_account(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0) {
		ts_cli_fail("account: unknown verb %s (create, list)", verb);
		goto out;
	}
	if (!ts_cli_flags("account", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("account: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = strcmp(verb, "create") == 0 ? create(&s, v) : list(&s, v);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
