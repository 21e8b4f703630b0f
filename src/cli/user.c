/* tessera user list: the users of an account, read offline from --db (seed: the Users page). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "directory/user.h"

enum { O_DB, O_ACCOUNT, O_EMAIL, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_ACCOUNT] = {"account", NULL, false, "account ID"},
        [O_EMAIL] = {"email", NULL, false, "only the user with this primary or proxy address"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static int list(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	struct ts_account acct;
	bool managed = false;
	if (v[O_ACCOUNT] == NULL)
		return ts_cli_fail("user list: --account is required");
	if (ts_store_account_get(s->conn, s->arena, v[O_ACCOUNT], &acct, &e) != TS_ERR_OK ||
	    ts_directory_account_managed(s->conn, acct.account_id, &managed, &e) != TS_ERR_OK)
		return ts_cli_fail("user list: %s", e.message);
	const char *key = v[O_EMAIL] ? ts_directory_key(s->arena, v[O_EMAIL]) : NULL;
	json_t *all = ts_json_own(s->arena, json_array());
	const char *after = NULL;
	for (;;) {
		struct ts_dir_user *page = NULL;
		int n = 0;
		if (ts_store_dir_user_list(s->conn, s->arena, acct.account_id, key, after,
		                           TS_STORE_PAGE_MAX, &page, &n, &e) != TS_ERR_OK)
			return ts_cli_fail("user list: %s", e.message);
		for (int i = 0; i < n; i++) {
			json_t *view = NULL;
			if (ts_directory_user_json(s->conn, s->arena, &acct, &page[i], managed,
			                           &view, &e) != TS_ERR_OK)
				return ts_cli_fail("user list: %s", e.message);
			if (v[O_JSON]) {
				json_array_append_new(all, view);
				continue;
			}
			const char *lic = ts_json_str(view, "LicenseType");
			const char *mail = ts_json_str(view, "PrimaryEmail");
			printf("%-36s  %-12s  %-5s  %s\n", page[i].user_id,
			       ts_json_str(view, "UserRegistrationStatus"), lic ? lic : "-",
			       mail ? mail : page[i].user_name);
			json_decref(view);
		}
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].user_id;
	}
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", "Users", all));
	return 0;
}

int ts_cli_user(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	if (strcmp(verb, "list") != 0) {
		ts_cli_fail("user: unknown verb %s (list)", verb);
		goto out;
	}
	if (!ts_cli_flags("user", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (ts_cli_open(v[O_DB], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("user: store %s: %s", v[O_DB], e.message);
		goto out;
	}
	status = list(&s, v);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
