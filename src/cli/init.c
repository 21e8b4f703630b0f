/*
 * tessera init: creates or migrates the store, creates the master key file
 * when it is missing, records the key's check value in the store (a store
 * set up with another key is refused), and prints a first admin key (all
 * actions) once, when the store has no admin key yet.
 */
#include <stdio.h>

#include "admin/keys.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/json.h"

enum { O_DB, O_KEY, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, "master key file"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

int ts_cli_init(int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_error e = {0};
	struct ts_cli_store s = {0};
	int status = 1;
	if (!ts_cli_flags("init", opts, O__COUNT, argc, argv, arena, v)) {
		status = 2;
		goto out;
	}
	struct ts_audit_keys keys;
	bool created = false;
	if (ts_cli_keys_load(v[O_KEY], true, &keys, &created, &e) != TS_ERR_OK) {
		status = ts_cli_fail("init: %s", e.message);
		goto out;
	}
	ts_audit_keys_wipe(&keys);
	/* records the key's check value in a new store, refuses another key's store */
	if (ts_cli_open(v[O_DB], v[O_KEY], true, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("init: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:;
	int64_t nkeys = 0;
	if (ts_store_begin(s.conn, true, &e) != TS_ERR_OK ||
	    ts_store_adminkey_count(s.conn, &nkeys, &e) != TS_ERR_OK)
		goto store_failed;
	if (nkeys > 0) {
		ts_store_rollback(s.conn);
		if (v[O_JSON])
			ts_cli_print_json(json_pack("{s:s, s:i}", "Store",
			                            ts_cli_db_shown(arena, v[O_DB]),
			                            "SchemaVersion", ts_store_schema_latest()));
		else
			printf("store %s is ready (schema %d); it already has admin keys\n",
			       ts_cli_db_shown(arena, v[O_DB]), ts_store_schema_latest());
		status = 0;
		goto out;
	}
	json_t *root = ts_json_own(s.arena, json_loads(TS_ADMIN_POLICY_ROOT, 0, NULL));
	struct ts_adminkey_created k;
	if (ts_admin_key_create(s.conn, s.arena, root, "first admin key (tessera init)", &k, &e) !=
	    TS_ERR_OK)
		goto store_failed;
	json_t *shown = ts_json_own(s.arena, ts_admin_key_json(&k.record));
	if (ts_cli_audit_event(&s, "CreateAdminKey", NULL, NULL, shown, &e) != TS_ERR_OK ||
	    ts_store_commit(s.conn, &e) != TS_ERR_OK)
		goto store_failed;
	if (v[O_JSON]) {
		ts_cli_print_json(
		        json_pack("{s:s, s:s}", "AccessKeyId", k.access_key_id, "Token", k.token));
	} else {
		printf("store %s is ready (schema %d)%s\n", ts_cli_db_shown(arena, v[O_DB]),
		       ts_store_schema_latest(), created ? "; master key file created" : "");
		printf("first admin key (shown once, keep it safe):\n  AccessKeyId %s\n  Token "
		       "      %s\n",
		       k.access_key_id, k.token);
	}
	status = 0;
	goto out;
store_failed:
	if (ts_store_tx_retry(s.conn, e.code, &attempt))
		goto again;
	status = ts_cli_fail("init: %s", e.message);
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
