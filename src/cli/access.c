/*
 * tessera target|permission-set|assignment create|list|delete --account ID:
 * access after sign-in offline against --db (SPEC §3, §8; docs/access.md),
 * with the admin API's checks (admin/access.h), each change audited as the
 * local operator in its transaction under the API's event name. --json
 * prints the API's shapes: {"Target": ...}, {"Targets": [...]}, and so on.
 * A permission set's policy documents come from a file (--policies-file: a
 * JSON array of documents, or one document).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/access.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/timeutil.h"

/* The flags of all three nouns; each noun's table takes the ones it uses. */
enum {
	O_DB,
	O_KEY,
	O_ACCOUNT,
	O_ID,
	O_JSON,
	O_NAME,
	O_KIND,
	O_URL,
	O_POLICIES_FILE,
	O_DURATION,
	O_PRINCIPAL_TYPE,
	O_PRINCIPAL_ID,
	O_TARGET,
	O_PSET,
	O__COUNT
};
static const struct ts_config_option all_opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_ACCOUNT] = {"account", NULL, false, "AccountId"},
        [O_ID] = {"id", NULL, false, "the id to delete"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
        [O_NAME] = {"name", NULL, false, "name (create)"},
        [O_KIND] = {"kind", TS_ACCESS_KIND_DEFAULT, false, "what the target is (create)"},
        [O_URL] = {"url", NULL, false, "the http(s) URL the target opens (create)"},
        [O_POLICIES_FILE] = {"policies-file", NULL, false,
                             "a JSON file: an array of policy documents, or one (create)"},
        [O_DURATION] = {"session-duration", NULL, false,
                        "seconds, 900 to 43200; default 3600 (create)"},
        [O_PRINCIPAL_TYPE] = {"principal-type", NULL, false, "USER or GROUP (create)"},
        [O_PRINCIPAL_ID] = {"principal-id", NULL, false, "a UserId or directory GroupId (create)"},
        [O_TARGET] = {"target", NULL, false, "TargetId (create; narrows list)"},
        [O_PSET] = {"permission-set", NULL, false, "PermissionSetId (create)"},
};

/* The largest --policies-file read: the cap of the stored text, with room for spacing. */
#define POLICIES_FILE_MAX (4 * TS_ACCESS_POLICIES_TEXT_MAX)

enum noun { N_TARGET, N_PSET, N_ASSIGNMENT };

struct noun_info {
	const char *cmd;
	const int *flags; /* the flags it takes, -1 ended */
	const char *create_event, *delete_event, *list_key, *one_key;
};

static const int target_flags[] = {O_DB, O_KEY, O_ACCOUNT, O_ID, O_JSON, O_NAME, O_KIND, O_URL, -1};
static const int pset_flags[] = {O_DB,   O_KEY,           O_ACCOUNT,  O_ID, O_JSON,
                                 O_NAME, O_POLICIES_FILE, O_DURATION, -1};
static const int assignment_flags[] = {
        O_DB,           O_KEY,    O_ACCOUNT, O_ID, O_JSON, O_PRINCIPAL_TYPE,
        O_PRINCIPAL_ID, O_TARGET, O_PSET,    -1};

static const struct noun_info nouns[] = {
        [N_TARGET] = {"target", target_flags, "CreateTarget", "DeleteTarget", "Targets", "Target"},
        [N_PSET] = {"permission-set", pset_flags, "CreatePermissionSet", "DeletePermissionSet",
                    "PermissionSets", "PermissionSet"},
        [N_ASSIGNMENT] = {"assignment", assignment_flags, "CreateAssignment", "DeleteAssignment",
                          "Assignments", "Assignment"},
};

/* The policies in path as JSON (arena-owned): an array, or one document made an array. */
static bool read_policies(ts_arena_t *a, const char *path, json_t **out, const char **why)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*why = "cannot be read";
		return false;
	}
	char *buf = ts_arena_alloc(a, POLICIES_FILE_MAX + 1);
	size_t n = fread(buf, 1, POLICIES_FILE_MAX + 1, f);
	bool ok = !ferror(f);
	fclose(f);
	if (!ok || n > POLICIES_FILE_MAX) {
		*why = ok ? "is too large" : "cannot be read";
		return false;
	}
	struct ts_error e = {0};
	json_t *j = NULL;
	if (ts_json_parse(buf, n, NULL, a, &j, &e) != TS_ERR_OK) {
		*why = ts_arena_printf(a, "is not JSON: %s", e.message);
		return false;
	}
	if (json_is_object(j))
		j = ts_json_own(a, json_pack("[O]", j));
	*out = j;
	return true;
}

/* --session-duration: seconds, or 0 (the default) when not given. */
static bool read_duration(const char *s, int64_t *out)
{
	*out = 0;
	if (s == NULL)
		return true;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || v <= 0)
		return false;
	*out = v;
	return true;
}

static int create(enum noun noun, struct ts_cli_store *s, const char **v)
{
	const struct noun_info *ni = &nouns[noun];
	struct ts_error e = {0};
	json_t *policies = NULL;
	int64_t duration = 0;
	if (noun == N_TARGET && (v[O_NAME] == NULL || v[O_URL] == NULL))
		return ts_cli_fail("target create: --name and --url are required");
	if (noun == N_PSET) {
		const char *why = NULL;
		if (v[O_NAME] == NULL || v[O_POLICIES_FILE] == NULL)
			return ts_cli_fail(
			        "permission-set create: --name and --policies-file are required");
		if (!read_policies(s->arena, v[O_POLICIES_FILE], &policies, &why))
			return ts_cli_fail("permission-set create: %s %s", v[O_POLICIES_FILE], why);
		if (!read_duration(v[O_DURATION], &duration))
			return ts_cli_fail("permission-set create: --session-duration must be a "
			                   "number of seconds");
	}
	if (noun == N_ASSIGNMENT && (v[O_PRINCIPAL_TYPE] == NULL || v[O_PRINCIPAL_ID] == NULL ||
	                             v[O_TARGET] == NULL || v[O_PSET] == NULL))
		return ts_cli_fail("assignment create: --principal-type, --principal-id, --target "
		                   "and --permission-set are required");
	json_t *shown = NULL;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK)
		goto fail;
	ts_err rc = TS_ERR_OK;
	int64_t now = ts_now_ms();
	if (noun == N_TARGET) {
		struct ts_target t;
		rc = ts_admin_target_create(s->conn, s->arena, v[O_ACCOUNT], v[O_NAME], v[O_KIND],
		                            v[O_URL], now, &t, &e);
		if (rc == TS_ERR_OK)
			shown = ts_admin_target_json(&t);
	} else if (noun == N_PSET) {
		struct ts_permission_set p;
		rc = ts_admin_permission_set_create(s->conn, s->arena, v[O_ACCOUNT], v[O_NAME],
		                                    policies, duration, now, &p, &e);
		if (rc == TS_ERR_OK)
			shown = ts_admin_permission_set_json(&p);
	} else {
		struct ts_assignment as;
		rc = ts_admin_assignment_create(s->conn, s->arena, v[O_ACCOUNT],
		                                v[O_PRINCIPAL_TYPE], v[O_PRINCIPAL_ID], v[O_TARGET],
		                                v[O_PSET], now, &as, &e);
		if (rc == TS_ERR_OK)
			shown = ts_admin_assignment_json(&as);
	}
	if (rc != TS_ERR_OK)
		goto fail;
	json_t *out = ts_json_own(s->arena, json_pack("{s:o}", ni->one_key, shown));
	if (ts_cli_audit_event(s, ni->create_event, v[O_ACCOUNT], NULL, out, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (v[O_JSON])
		ts_cli_print_json(json_incref(out));
	else
		printf("created %s %s\n", ni->cmd,
		       ts_cli_text(s->arena, json_string_value(json_object_get(
		                                     shown, noun == N_TARGET ? "TargetId"
		                                            : noun == N_PSET ? "PermissionSetId"
		                                                             : "AssignmentId"))));
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	ts_store_rollback(s->conn);
	return ts_cli_fail("%s create: %s", ni->cmd, e.message);
}

/* One page of the noun's listing, appended to all (or printed), and its last id. */
static ts_err list_page(enum noun noun, struct ts_cli_store *s, const char **v, const char *after,
                        json_t *all, int *n, const char **last, struct ts_error *e)
{
	ts_arena_t *a = s->arena;
	ts_err rc;
	*last = NULL;
	if (noun == N_TARGET) {
		struct ts_target *l = NULL;
		rc = ts_store_target_list(s->conn, a, v[O_ACCOUNT], after, TS_STORE_PAGE_MAX, &l, n,
		                          e);
		for (int i = 0; rc == TS_ERR_OK && i < *n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_admin_target_json(&l[i]));
			else
				printf("%-36s  %-20s  %-40s  %s\n", ts_cli_text(a, l[i].target_id),
				       ts_cli_text(a, l[i].name), ts_cli_text(a, l[i].url),
				       ts_cli_text(a, l[i].kind));
			*last = l[i].target_id;
		}
	} else if (noun == N_PSET) {
		struct ts_permission_set *l = NULL;
		rc = ts_store_permission_set_list(s->conn, a, v[O_ACCOUNT], after,
		                                  TS_STORE_PAGE_MAX, &l, n, e);
		for (int i = 0; rc == TS_ERR_OK && i < *n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_admin_permission_set_json(&l[i]));
			else
				printf("%-36s  %-30s  %llds\n",
				       ts_cli_text(a, l[i].permission_set_id),
				       ts_cli_text(a, l[i].name),
				       (long long)l[i].session_duration_s);
			*last = l[i].permission_set_id;
		}
	} else {
		struct ts_assignment *l = NULL;
		rc = ts_store_assignment_list(s->conn, a, v[O_ACCOUNT], v[O_TARGET], NULL, after,
		                              TS_STORE_PAGE_MAX, &l, n, e);
		for (int i = 0; rc == TS_ERR_OK && i < *n; i++) {
			if (v[O_JSON])
				json_array_append_new(all, ts_admin_assignment_json(&l[i]));
			else
				printf("%-36s  %-5s  %-36s  %-36s  %s\n",
				       ts_cli_text(a, l[i].assignment_id),
				       ts_cli_text(a, l[i].principal_type),
				       ts_cli_text(a, l[i].principal_id),
				       ts_cli_text(a, l[i].target_id),
				       ts_cli_text(a, l[i].permission_set_id));
			*last = l[i].assignment_id;
		}
	}
	return rc;
}

static int list(enum noun noun, struct ts_cli_store *s, const char **v)
{
	const struct noun_info *ni = &nouns[noun];
	struct ts_error e = {0};
	struct ts_account acct;
	json_t *all = ts_json_own(s->arena, json_array());
	if (ts_store_account_get(s->conn, s->arena, v[O_ACCOUNT], &acct, &e) != TS_ERR_OK)
		return ts_cli_fail("%s list: %s", ni->cmd, e.message);
	const char *after = NULL;
	for (;;) {
		int n = 0;
		const char *last = NULL;
		if (list_page(noun, s, v, after, all, &n, &last, &e) != TS_ERR_OK)
			return ts_cli_fail("%s list: %s", ni->cmd, e.message);
		if (n < TS_STORE_PAGE_MAX)
			break;
		after = last;
	}
	if (v[O_JSON])
		ts_cli_print_json(json_pack("{s:O}", ni->list_key, all));
	return 0;
}

static int delete (enum noun noun, struct ts_cli_store *s, const char **v)
{
	const struct noun_info *ni = &nouns[noun];
	struct ts_error e = {0};
	int64_t gone = 0;
	if (v[O_ID] == NULL)
		return ts_cli_fail("%s delete: --id is required", ni->cmd);
	json_t *params = ts_json_own(s->arena, json_pack("{s:s}", "ResourceId", v[O_ID]));
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	if (ts_store_begin(s->conn, true, &e) != TS_ERR_OK)
		goto fail;
	ts_err rc =
	        noun == N_TARGET ? ts_store_target_delete(s->conn, v[O_ACCOUNT], v[O_ID], &gone, &e)
	        : noun == N_PSET
	                ? ts_store_permission_set_delete(s->conn, v[O_ACCOUNT], v[O_ID], &gone, &e)
	                : ts_store_assignment_delete(s->conn, v[O_ACCOUNT], v[O_ID], &e);
	if (rc != TS_ERR_OK)
		goto fail;
	json_t *out = noun == N_ASSIGNMENT
	                      ? NULL
	                      : ts_json_own(s->arena, json_pack("{s:I}", "AssignmentsDeleted",
	                                                        (json_int_t)gone));
	if (ts_cli_audit_event(s, ni->delete_event, v[O_ACCOUNT], params, out, &e) != TS_ERR_OK ||
	    ts_store_commit(s->conn, &e) != TS_ERR_OK)
		goto fail;
	if (!v[O_JSON])
		printf("deleted %s %s\n", ni->cmd, ts_cli_text(s->arena, v[O_ID]));
	return 0;
fail:
	if (ts_store_tx_retry(s->conn, e.code, &attempt))
		goto again;
	ts_store_rollback(s->conn);
	return ts_cli_fail("%s delete: %s", ni->cmd, e.message);
}

static int run(enum noun noun, const char *verb, int argc, char **argv)
{
	const struct noun_info *ni = &nouns[noun];
	ts_arena_t *arena = ts_arena_new();
	struct ts_config_option opts[O__COUNT];
	const char *got[O__COUNT];
	const char *v[O__COUNT] = {0};
	int index[O__COUNT];
	int nopts = 0;
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	int (*fn)(enum noun, struct ts_cli_store *, const char **) =
	        strcmp(verb, "create") == 0   ? create
	        : strcmp(verb, "list") == 0   ? list
	        : strcmp(verb, "delete") == 0 ? delete
	                                      : NULL;
	if (fn == NULL) {
		ts_cli_fail("%s: unknown verb %s (create, list, delete)", ni->cmd, verb);
		goto out;
	}
	/* the noun's own flags only: another noun's flag is refused, not ignored */
	for (const int *f = ni->flags; *f >= 0; f++) {
		index[nopts] = *f;
		opts[nopts++] = all_opts[*f];
	}
	if (!ts_cli_flags(ni->cmd, opts, nopts, argc, argv, arena, got))
		goto out;
	for (int i = 0; i < nopts; i++)
		v[index[i]] = got[i];
	if (v[O_ACCOUNT] == NULL) {
		status = ts_cli_fail("%s %s: --account is required", ni->cmd, verb);
		goto out;
	}
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("%s: store %s: %s", ni->cmd, ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	status = fn(noun, &s, v);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}

int ts_cli_target(const char *verb, int argc, char **argv)
{
	return run(N_TARGET, verb, argc, argv);
}

int ts_cli_permission_set(const char *verb, int argc, char **argv)
{
	return run(N_PSET, verb, argc, argv);
}

int ts_cli_assignment(const char *verb, int argc, char **argv)
{
	return run(N_ASSIGNMENT, verb, argc, argv);
}
