/*
 * tessera masterkey rotate: moves a store from one master key to another
 * (docs/secrets.md, "Rotation"). It checks the old key against the store's
 * key check value, makes the new key file (0600) unless it exists, checks the
 * whole audit trail under the old key, and then, in one write transaction,
 * re-seals every sealed secret, re-keys the audit trail (each event's MAC and
 * link, each checkpoint's MAC, every one checked under the old key first so
 * that a rotation cannot launder a tampered trail), records the new key's
 * check value and appends its own audit event. Nodes must be stopped: it
 * refuses while one beats in the nodes table. Exit 0: rotated; 1: refused
 * (nothing changed); 2: usage, keys or store errors.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/nodes.h"
#include "audit/sealer.h"
#include "audit/verify.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "store/secrets.h"

enum { EXIT_ROTATED = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

enum { O_DB, O_KEY, O_NEW_KEY, O_JSON, O__COUNT };
static const struct ts_config_option opts[O__COUNT] = {
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false,
                   "the store's current master key file"},
        [O_NEW_KEY] = {"new-master-key-file", NULL, false,
                       "the new master key file (made, mode 0600, when it does not exist)"},
        [O_JSON] = {"json", NULL, true, "machine-readable output"},
};

/* Both keys as every part of the rotation needs them. */
struct keys {
	struct ts_audit_keys old_audit, new_audit;
	struct ts_secret_key old_seal, new_seal;
};

static void keys_wipe(struct keys *k)
{
	ts_audit_keys_wipe(&k->old_audit);
	ts_audit_keys_wipe(&k->new_audit);
	ts_secret_key_wipe(&k->old_seal);
	ts_secret_key_wipe(&k->new_seal);
}

/* Reads the old key, reads or makes the new one; refuses the same key twice. */
static int load_keys(const char **v, struct keys *k, bool *created)
{
	unsigned char old_master[TS_MASTER_KEY_LEN], new_master[TS_MASTER_KEY_LEN];
	struct ts_error e = {0};
	bool ignored = false;
	int status = EXIT_USAGE;
	*created = false;
	if (ts_app_master_key_load(v[O_KEY], false, old_master, &ignored, &e) != TS_ERR_OK) {
		ts_cli_fail("masterkey rotate: %s", e.message);
		goto out;
	}
	if (ts_app_master_key_load(v[O_NEW_KEY], true, new_master, created, &e) != TS_ERR_OK) {
		ts_cli_fail("masterkey rotate: %s", e.message);
		goto out;
	}
	if (sodium_memcmp(old_master, new_master, TS_MASTER_KEY_LEN) == 0) {
		ts_cli_fail("masterkey rotate: the new master key is the old one");
		goto out;
	}
	ts_audit_keys_derive(old_master, &k->old_audit);
	ts_audit_keys_derive(new_master, &k->new_audit);
	ts_secret_key_derive(old_master, &k->old_seal);
	ts_secret_key_derive(new_master, &k->new_seal);
	status = EXIT_ROTATED;
out:
	sodium_memzero(old_master, sizeof old_master);
	sodium_memzero(new_master, sizeof new_master);
	return status;
}

/* What must hold before the transaction: no node serving, the trail intact under the old key. */
static int preflight(struct ts_cli_store *s, const struct keys *k)
{
	struct ts_error e = {0};
	int64_t live = 0;
	if (ts_store_rotation_live_nodes(s->conn, ts_now_ms() - TS_APP_NODE_LIVE_MS, &live, &e) !=
	    TS_ERR_OK)
		return ts_cli_fail("masterkey rotate: %s", e.message), EXIT_USAGE;
	if (live > 0)
		return ts_cli_fail(
		               "masterkey rotate: %lld node(s) serve from this store: stop every "
		               "node first (a node running with the old key cannot write once the "
		               "key has changed); nothing was rotated",
		               (long long)live),
		       EXIT_REFUSED;
	/* what is pending is sealed under the old key first, so that all of it is checked */
	if (ts_audit_seal_pending(s->conn, false, NULL, &e) != TS_ERR_OK)
		return ts_cli_fail("masterkey rotate: sealing the audit trail: %s", e.message),
		       EXIT_USAGE;
	struct ts_audit_report rep;
	if (ts_audit_verify(s->conn, s->arena, &k->old_audit, NULL, &rep, &e) != TS_ERR_OK)
		return ts_cli_fail("masterkey rotate: %s", e.message), EXIT_USAGE;
	if (!rep.ok)
		return ts_cli_fail(
		               "masterkey rotate: the audit trail does not verify under the old "
		               "key (%s; see tessera audit verify): a rotation would re-key a "
		               "broken trail, so nothing was rotated",
		               ts_cli_text(s->arena, rep.why)),
		       EXIT_REFUSED;
	return EXIT_ROTATED;
}

struct outcome {
	int64_t resealed;
	struct ts_store_rekey_result rekey;
};

/* The one transaction. */
static ts_err rotate(struct ts_cli_store *s, const struct keys *k, struct outcome *o,
                     struct ts_error *e)
{
	bool locked = false;
	ts_err rc = ts_store_audit_seal_lock(s->conn, &locked, e);
	if (rc == TS_ERR_OK && !locked)
		rc = TS_FAIL(e, TS_ERR_CONFLICT,
		             "a server is sealing the audit trail: stop every node first");
	if (rc == TS_ERR_OK)
		rc = ts_store_begin(s->conn, true, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_secret_reseal_all(s->conn, &k->old_seal, &k->new_seal, ts_now_ms(),
		                                &o->resealed, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_audit_rekey(s->conn, s->arena, &k->old_audit, &k->new_audit,
		                          &o->rekey, e);
	if (rc == TS_ERR_OK) {
		/* the rotation's own event is the first one MACed under the new key */
		ts_store_audit_keys_set(s->store, &k->new_audit);
		json_t *params =
		        ts_json_own(s->arena, json_pack("{s:s, s:s}", "OldKeyId", k->old_seal.id,
		                                        "NewKeyId", k->new_seal.id));
		json_t *out = ts_json_own(
		        s->arena,
		        json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:s, s:s}}", "SecretsResealed",
		                  (json_int_t)o->resealed, "EventsRekeyed",
		                  (json_int_t)o->rekey.events, "PendingRekeyed",
		                  (json_int_t)o->rekey.pending, "CheckpointsRekeyed",
		                  (json_int_t)o->rekey.checkpoints, "LastCheckpoint", "Seq",
		                  (json_int_t)o->rekey.last_chain_seq, "OldHash",
		                  o->rekey.last_old_hash, "NewHash", o->rekey.last_new_hash));
		rc = ts_cli_audit_event(s, "RotateMasterKey", NULL, params, out, e);
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(s->conn, e);
	if (rc != TS_ERR_OK) {
		ts_store_rollback(s->conn);
		ts_store_audit_keys_set(s->store, &k->old_audit);
	}
	if (locked)
		ts_store_audit_seal_unlock(s->conn);
	return rc;
}

static void print(const char **v, const struct keys *k, const struct outcome *o)
{
	const struct ts_store_rekey_result *r = &o->rekey;
	if (v[O_JSON]) {
		ts_cli_print_json(
		        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:{s:I, s:s, s:s}}", "OldKeyId",
		                  k->old_seal.id, "NewKeyId", k->new_seal.id, "SecretsResealed",
		                  (json_int_t)o->resealed, "EventsRekeyed", (json_int_t)r->events,
		                  "PendingRekeyed", (json_int_t)r->pending, "CheckpointsRekeyed",
		                  (json_int_t)r->checkpoints, "LastCheckpoint", "Seq",
		                  (json_int_t)r->last_chain_seq, "OldHash", r->last_old_hash,
		                  "NewHash", r->last_new_hash));
		return;
	}
	printf("master key rotated: key %s replaces key %s\n", k->new_seal.id, k->old_seal.id);
	printf("%lld secrets re-sealed; %lld sealed and %lld pending audit events and %lld "
	       "checkpoints re-keyed\n",
	       (long long)o->resealed, (long long)r->events, (long long)r->pending,
	       (long long)r->checkpoints);
	printf("checkpoint %lld:%s is now %lld:%s (checkpoints kept outside the store from before "
	       "the rotation no longer match: keep this line with them)\n",
	       (long long)r->last_chain_seq, r->last_old_hash, (long long)r->last_chain_seq,
	       r->last_new_hash);
	printf("start every node with --master-key-file %s\n", v[O_NEW_KEY]);
}

int ts_cli_masterkey(const char *verb, int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_cli_store s = {0};
	struct keys k = {0};
	struct ts_error e = {0};
	struct outcome o = {0};
	bool created = false;
	int status = EXIT_USAGE;
	if (strcmp(verb, "rotate") != 0) {
		ts_cli_fail("masterkey: unknown verb %s (rotate)", verb);
		goto out;
	}
	if (!ts_cli_flags("masterkey rotate", opts, O__COUNT, argc, argv, arena, v))
		goto out;
	if (v[O_NEW_KEY] == NULL) {
		ts_cli_fail("masterkey rotate: --new-master-key-file is required");
		goto out;
	}
	if (access(v[O_KEY], F_OK) != 0) {
		ts_cli_fail("masterkey rotate: the master key file %s does not exist", v[O_KEY]);
		goto out;
	}
	status = load_keys(v, &k, &created);
	if (status != EXIT_ROTATED)
		goto out;
	status = EXIT_USAGE;
	/* opening checks the old key against the store's key check value */
	if (ts_cli_open(v[O_DB], v[O_KEY], false, &s, &e) != TS_ERR_OK) {
		ts_cli_fail("masterkey rotate: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		            e.message);
		goto out;
	}
	status = preflight(&s, &k);
	if (status != EXIT_ROTATED)
		goto out;
	ts_err rc = rotate(&s, &k, &o, &e);
	if (rc != TS_ERR_OK) {
		ts_cli_fail("masterkey rotate: %s", e.message);
		status = rc == TS_ERR_CONFLICT ? EXIT_REFUSED : EXIT_USAGE;
		goto out;
	}
	print(v, &k, &o);
	status = EXIT_ROTATED;
out:
	/* a new key file made for a rotation that did not happen protects nothing: removed */
	if (status != EXIT_ROTATED && created)
		unlink(v[O_NEW_KEY]);
	keys_wipe(&k);
	ts_cli_close(&s); /* seals the rotation's event under the new key */
	ts_arena_free(&arena);
	return status;
}
