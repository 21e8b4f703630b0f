/*
 * tessera user list|get|suspend|activate|logout: an account's users offline,
 * against --db (the Amazon Chime administration guide: the Users page). Changes are audited as the
 * local operator, in the transaction that makes them.
 */
#include <stdio.h>
#include <string.h>

#include "admin/render.h"
#include "cli/cli.h"
#include "core/json.h"
#include "directory/session.h"
#include "directory/user.h"

enum { O_DB, O_KEY, O_ACCOUNT, O_EMAIL, O_ID, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_ACCOUNT] = {"account", NULL, false, "account ID"},
        [O_EMAIL] = {"email", NULL, false, "only the user with this primary or proxy address"},
        [O_ID] = {"id", NULL, false, "user ID (get, suspend, activate, logout)"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static int list(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	struct ts_account acct;
	bool managed = false;
	if (v[O_ACCOUNT] == NULL)
		return ts_cli_fail("user list: --account is required");
	/* one read transaction: the account, every page and each user's view from one
	 * snapshot (docs/store.md); disconnecting at exit ends it */
	if (ts_store_begin(s->conn, false, &e) != TS_ERR_OK ||
	    ts_store_account_get(s->conn, s->arena, v[O_ACCOUNT], &acct, &e) != TS_ERR_OK ||
	    ts_directory_account_managed(s->conn, acct.account_id, &managed, &e) != TS_ERR_OK)
		return ts_cli_fail("user list: %s", e.message);
	const char *key = v[O_EMAIL] ? ts_directory_key(s->arena, v[O_EMAIL]) : NULL;
	json_t *all = ts_json_own(s->arena, json_array());
	const char *after = NULL;
	for (;;) {
		struct ts_user_row *page = NULL;
		int n = 0;
		if (ts_store_dir_user_list(s->conn, s->arena, acct.account_id, key, after,
		                           TS_STORE_PAGE_MAX, &page, &n, &e) != TS_ERR_OK)
			return ts_cli_fail("user list: %s", e.message);
		for (int i = 0; i < n; i++) {
			json_t *view = NULL;
			if (ts_admin_user_load_json(s->conn, s->arena, &acct, &page[i], managed,
			                            &view, &e) != TS_ERR_OK)
				return ts_cli_fail("user list: %s", e.message);
			if (v[O_JSON]) {
				json_array_append_new(all, view);
				continue;
			}
			const char *lic = ts_json_str(view, "LicenseType");
			const char *mail = ts_json_str(view, "PrimaryEmail");
			printf("%-36s  %-12s  %-5s  %s\n", ts_cli_text(s->arena, page[i].user_id),
			       ts_cli_text(s->arena, ts_json_str(view, "UserRegistrationStatus")),
			       ts_cli_text(s->arena, lic),
			       ts_cli_text(s->arena, mail ? mail : page[i].user_name));
			json_decref(view);
		}
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].user_id;
	}
	ts_store_rollback(s->conn);
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", "Users", all));
	return 0;
}

static int get(struct ts_cli_store *s, const char **v)
{
	struct ts_error e = {0};
	struct ts_account acct;
	struct ts_user_row u;
	bool managed = false;
	json_t *view = NULL;
	if (v[O_ACCOUNT] == NULL || v[O_ID] == NULL)
		return ts_cli_fail("user get: --account and --id are required");
	if (ts_store_begin(s->conn, false, &e) != TS_ERR_OK ||
	    ts_store_account_get(s->conn, s->arena, v[O_ACCOUNT], &acct, &e) != TS_ERR_OK ||
	    ts_directory_account_managed(s->conn, acct.account_id, &managed, &e) != TS_ERR_OK ||
	    ts_store_user_get(s->conn, s->arena, acct.account_id, v[O_ID], &u, &e) != TS_ERR_OK ||
	    ts_admin_user_load_json(s->conn, s->arena, &acct, &u, managed, &view, &e) != TS_ERR_OK)
		return ts_cli_fail("user get: %s", e.message);
	ts_store_rollback(s->conn);
	json_t *out = json_pack("{s:o}", "User", view);
	if (v[O_JSON]) {
		ts_cli_print_json(out);
	} else {
		ts_cli_print_json_indented(out);
	}
	return 0;
}

/* suspend / activate / logout: one change and its audit event in one transaction. */
static int change(struct ts_cli_store *s, const char **v, const char *verb)
{
	struct ts_error e = {0};
	if (v[O_ACCOUNT] == NULL || v[O_ID] == NULL)
		return ts_cli_fail("user %s: --account and --id are required", verb);
	const char *event = strcmp(verb, "logout") == 0    ? "LogoutUser"
	                    : strcmp(verb, "suspend") == 0 ? "SuspendUsers"
	                                                   : "ActivateUsers";
	json_t *params = ts_json_own(
	        s->arena, json_pack("{s:s, s:s}", "AccountId", v[O_ACCOUNT], "UserId", v[O_ID]));
	struct ts_user_row u;
	struct ts_account acct;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:;
	ts_err rc = ts_store_begin(s->conn, true, &e);
	/* locked as the admin API locks it: the type decided on cannot change meanwhile */
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(s->conn, s->arena, v[O_ACCOUNT], &acct, &e);
	/* as the admin API: suspension is for Enterprise accounts (Team users are removed) */
	if (rc == TS_ERR_OK && strcmp(verb, "logout") != 0 &&
	    strcmp(acct.account_type, "Enterprise") != 0)
		rc = TS_FAIL(&e, TS_ERR_BAD_REQUEST,
		             "%s works on Enterprise accounts only; remove a Team account's users",
		             event);
	if (rc == TS_ERR_OK)
		rc = ts_store_user_get(s->conn, s->arena, v[O_ACCOUNT], v[O_ID], &u, &e);
	if (rc == TS_ERR_OK && strcmp(verb, "logout") == 0)
		rc = ts_directory_session_revoke_all(s->conn, u.user_id, NULL, &e);
	else if (rc == TS_ERR_OK)
		rc = ts_directory_user_suspend(s->conn, s->arena, v[O_ACCOUNT], u.user_id,
		                               strcmp(verb, "suspend") == 0, &e);
	if (rc == TS_ERR_OK)
		rc = ts_cli_audit_event(s, event, v[O_ACCOUNT], params, NULL, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(s->conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(s->conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK) {
		ts_store_rollback(s->conn);
		return ts_cli_fail("user %s: %s", verb, e.message);
	}
	if (!v[O_JSON])
		printf("%s: %s\n", verb, ts_cli_text(s->arena, u.user_id));
	return 0;
}

int ts_cli_user(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	static const char *const verbs[] = {"list", "get", "suspend", "activate", "logout", NULL};
	bool known = false;
	for (int i = 0; verbs[i]; i++)
		known = known || strcmp(verb, verbs[i]) == 0;
	if (!known) {
		ts_cli_fail("user: unknown verb %s (list, get, suspend, activate, logout)", verb);
		goto out;
	}
	if (!ts_cli_flags("user", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("user: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = strcmp(verb, "list") == 0  ? list(&s, v)
	         : strcmp(verb, "get") == 0 ? get(&s, v)
	                                    : change(&s, v, verb);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
