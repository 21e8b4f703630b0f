/*
 * tessera audit verify: walks the audit chain and exits 1, naming the first
 * bad event, when any stored event was changed or removed.
 */
#include <stdio.h>
#include <string.h>

#include "admin/audit.h"
#include "cli/cli.h"

enum { O_DB, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

int ts_cli_audit(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_error e = {0};
	int status = 2;
	if (strcmp(verb, "verify") != 0) {
		ts_cli_fail("audit: unknown verb %s (verify)", verb);
		goto out;
	}
	if (!ts_cli_flags("audit verify", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (ts_cli_open(v[O_DB], false, &s, &e) != TS_ERR_OK) {
		status = ts_cli_fail("audit: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	struct ts_audit_verdict verdict;
	if (ts_admin_audit_verify(s.conn, s.arena, &verdict, &e) != TS_ERR_OK) {
		status = ts_cli_fail("audit verify: %s", e.message);
		goto out;
	}
	if (v[O_JSON]) {
		json_t *o = json_pack("{s:b, s:I}", "Intact", verdict.ok, "EventsChecked",
		                      (json_int_t)verdict.events);
		if (!verdict.ok) {
			json_object_set_new(o, "FirstBadSequence", json_integer(verdict.bad_seq));
			json_object_set_new(o, "FirstBadEventId",
			                    verdict.bad_event ? json_string(verdict.bad_event)
			                                      : json_null());
			json_object_set_new(o, "Reason", json_string(verdict.why));
		}
		ts_cli_print_json(o);
	} else if (verdict.ok) {
		printf("audit chain intact: %lld events\n", (long long)verdict.events);
	} else {
		fprintf(stderr,
		        "tessera: audit chain broken at event %lld (eventID %s): %s\n"
		        "         %lld events before it are intact\n",
		        (long long)verdict.bad_seq, ts_cli_text(arena, verdict.bad_event),
		        ts_cli_text(arena, verdict.why), (long long)verdict.events);
	}
	status = verdict.ok ? 0 : 1;
out:
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
