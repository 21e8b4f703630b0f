/*
 * tessera audit verify: checks the sealed audit trail (docs/audit.md) with
 * the keys of the master key, optionally against a checkpoint kept outside
 * the store (--expect SEQ:HASH, from the server's "audit checkpoint" log
 * lines). Exit 0: intact; 1: broken, naming the first bad event and why;
 * 2: usage or store errors.
 */
#include <stdio.h>
#include <string.h>

#include "audit/verify.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/timeutil.h"

enum { EXIT_INTACT = 0, EXIT_BROKEN = 1, EXIT_USAGE = 2 };

enum { O_DB, O_KEY, O_EXPECT, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, TS_CLI_KEY_HELP},
        [O_EXPECT] = {"expect", NULL, false,
                      "SEQ:HASH of a checkpoint kept outside the store (from the server's "
                      "\"audit checkpoint\" log lines): the chain must still hold it"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

static void print_json(const struct ts_audit_report *r, int64_t now)
{
	json_t *o = json_pack("{s:b, s:I, s:I, s:I}", "Intact", r->ok, "EventsChecked",
	                      (json_int_t)r->sealed, "Checkpoints", (json_int_t)r->checkpoints,
	                      "NotSealedYet", (json_int_t)r->unsealed);
	json_object_set_new(o, "OldestNotSealedAgeMs",
	                    r->unsealed > 0 ? json_integer(now - r->oldest_unsealed_ms)
	                                    : json_null());
	if (r->checkpoints > 0)
		json_object_set_new(o, "LastCheckpoint",
		                    json_pack("{s:I, s:s, s:I}", "Seq",
		                              (json_int_t)r->last.chain_seq, "Hash", r->last.hash,
		                              "TimeMs", (json_int_t)r->last.time_ms));
	if (!r->ok) {
		json_object_set_new(o, "FirstBadSequence",
		                    r->bad_seq > 0 ? json_integer(r->bad_seq) : json_null());
		json_object_set_new(o, "FirstBadChainSeq",
		                    r->bad_chain_seq > 0 ? json_integer(r->bad_chain_seq)
		                                         : json_null());
		json_object_set_new(o, "FirstBadEventId", ts_json_text(r->bad_event));
		json_object_set_new(o, "Reason", ts_json_text(r->why));
	}
	ts_cli_print_json(o);
}

static void print_text(ts_arena_t *a, const struct ts_audit_report *r, int64_t now)
{
	if (r->ok) {
		printf("audit trail intact: %lld sealed events, %lld checkpoints",
		       (long long)r->sealed, (long long)r->checkpoints);
		if (r->checkpoints > 0)
			printf(", last checkpoint %lld:%s", (long long)r->last.chain_seq,
			       r->last.hash);
		printf("\n%lld events not sealed yet", (long long)r->unsealed);
		if (r->unsealed > 0)
			printf(" (the oldest %lld ms old)",
			       (long long)(now - r->oldest_unsealed_ms));
		printf("\n");
		return;
	}
	fprintf(stderr, "tessera: audit trail broken");
	if (r->bad_seq > 0)
		fprintf(stderr, " at event %lld (eventID %s)", (long long)r->bad_seq,
		        r->bad_event ? ts_cli_text(a, r->bad_event) : "-");
	if (r->bad_chain_seq > 0)
		fprintf(stderr, " at chain place %lld", (long long)r->bad_chain_seq);
	fprintf(stderr, ": %s\n         %lld sealed events before it are intact\n",
	        ts_cli_text(a, r->why), (long long)r->sealed);
}

int ts_cli_audit(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct ts_audit_keys keys = {0};
	struct ts_error e = {0};
	struct ts_audit_expect expect = {0};
	int status = EXIT_USAGE;
	if (strcmp(verb, "verify") != 0) {
		ts_cli_fail("audit: unknown verb %s (verify)", verb);
		goto out;
	}
	if (!ts_cli_flags("audit verify", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (v[O_EXPECT] != NULL && !ts_audit_expect_parse(v[O_EXPECT], arena, &expect)) {
		ts_cli_fail("audit verify: --expect wants SEQ:HASH (a chain place and 64 hex "
		            "digits), as the server logs them");
		goto out;
	}
	if (ts_cli_keys_load(v[O_KEY], false, &keys, NULL, &e) != TS_ERR_OK) {
		ts_cli_fail("audit verify: %s (the trail's MACs need the master key: "
		            "--master-key-file)",
		            e.message);
		goto out;
	}
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		ts_cli_fail("audit: store %s: %s", ts_cli_db_shown(arena, v[O_DB]), e.message);
		goto out;
	}
	s.keyed = false; /* verify reads what is there: it does not seal */
	struct ts_audit_report report;
	if (ts_audit_verify(s.conn, s.arena, &keys, v[O_EXPECT] ? &expect : NULL, &report, &e) !=
	    TS_ERR_OK) {
		ts_cli_fail("audit verify: %s", e.message);
		goto out;
	}
	int64_t now = ts_now_ms();
	if (v[O_JSON])
		print_json(&report, now);
	else
		print_text(arena, &report, now);
	status = report.ok ? EXIT_INTACT : EXIT_BROKEN;
out:
	ts_audit_keys_wipe(&keys);
	ts_cli_close(&s);
	ts_arena_free(&arena);
	return status;
}
