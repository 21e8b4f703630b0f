/* What the commands share: flag parsing, opening the store, local audit events. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "admin/audit.h"
#include "app/app.h"
#include "audit/sealer.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/crypto.h"

int ts_cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tessera: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

bool ts_cli_flags(const char *cmd, const struct ts_config_option *opts, int n, int argc,
                  char **argv, ts_arena_t *arena, const char **values)
{
	struct ts_error e = {0};
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fprintf(stderr, "usage: tessera %s [options]\n", cmd);
			ts_config_usage(opts, n);
			return false;
		}
	if (ts_config_parse(opts, n, argc, argv, arena, values, &e) != TS_ERR_OK) {
		ts_cli_fail("%s: %s", cmd, e.message);
		fprintf(stderr, "usage: tessera %s [options]\n", cmd);
		ts_config_usage(opts, n);
		return false;
	}
	return true;
}

ts_err ts_cli_keys_load(const char *key_path, bool create, struct ts_audit_keys *keys,
                        bool *created, struct ts_error *e)
{
	unsigned char master[TS_MASTER_KEY_LEN];
	bool made = false;
	ts_err rc = ts_app_master_key_load(key_path, create, master, &made, e);
	if (rc == TS_ERR_OK)
		ts_audit_keys_derive(master, keys);
	sodium_memzero(master, sizeof master);
	if (created != NULL)
		*created = made;
	return rc;
}

/*
 * Without a master key file (key_path names none) a command still opens the
 * store for reading; what it appends to the audit trail then fails with the
 * store's "needs the master key". A key that is there must be the store's.
 */
ts_err ts_cli_open(const char *db, const char *key_path, bool create, struct ts_cli_store *s,
                   struct ts_error *e)
{
	*s = (struct ts_cli_store){.arena = ts_arena_new()};
	struct ts_audit_keys keys;
	bool keyed = false;
	ts_err rc = TS_ERR_OK;
	if (key_path != NULL && access(key_path, F_OK) == 0) {
		rc = ts_cli_keys_load(key_path, false, &keys, NULL, e);
		keyed = rc == TS_ERR_OK;
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_open(db, create, NULL, &s->store, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_connect(s->store, &s->conn, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_migrate(s->conn, e);
	if (rc == TS_ERR_OK && keyed) {
		ts_store_audit_keys_set(s->store, &keys);
		rc = ts_store_audit_keys_check(s->conn, e);
		s->keyed = rc == TS_ERR_OK;
	}
	ts_audit_keys_wipe(&keys);
	if (rc != TS_ERR_OK)
		ts_cli_close(s);
	return rc;
}

void ts_cli_close(struct ts_cli_store *s)
{
	/* what the command appended is sealed now rather than at the next server start */
	struct ts_error ignored = {0};
	if (s->keyed && s->conn != NULL &&
	    ts_audit_seal_pending(s->conn, false, NULL, &ignored) != TS_ERR_OK)
		fprintf(stderr, "tessera: warning: audit events not sealed yet: %s\n",
		        ignored.message);
	s->keyed = false;
	ts_store_disconnect(&s->conn);
	ts_store_free(&s->store);
	ts_arena_free(&s->arena);
}

ts_err ts_cli_audit_event(struct ts_cli_store *s, const char *event, const char *account_id,
                          const json_t *params, const json_t *response, struct ts_error *e)
{
	char who[32];
	snprintf(who, sizeof who, "uid:%u", (unsigned)getuid());
	struct ts_audit_entry entry = {
	        .who = {.type = "LocalOperator", .principal_id = who},
	        .event_source = TS_AUDIT_SOURCE_CLI,
	        .event_name = event,
	        .account_id = account_id,
	        .source_ip = "local",
	        .user_agent = "tessera-cli",
	        .request_parameters = params,
	        .response_elements = response,
	};
	return ts_admin_audit_write(s->conn, s->arena, &entry, e);
}

void ts_cli_print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text != NULL) {
		puts(text);
		ts_free(text);
	}
	fflush(stdout);
}
