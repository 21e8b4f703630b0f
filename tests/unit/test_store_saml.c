/*
 * The store contract suite, SAML sign-in (store/saml.h), the sessions' origin
 * and role (store/sessions.h), sign-in attempts (store/signins.h) and the
 * registration of users (ts_store_dir_user_register), on SQLite and on
 * PostgreSQL. The contracts that need two connections run on two: an
 * AuthnRequest is taken once, a replayed assertion is fresh for exactly one
 * of several concurrent recorders (threads released together), a config's
 * version is never reused, a purge removes only what expired, and retired SP
 * keys leave with their sealed private keys (docs/store.md, docs/secrets.md).
 * And the upgrade from version 8: users who never signed in become
 * Unregistered.
 */
#include "store_helpers.h"

#include "store/internal.h" /* the version 8 schema (test_v9_upgrade) */
#include "store/saml.h"
#include "store/secrets.h"
#include "store/signins.h"

#define ACCT "acct-1"
#define OTHER "acct-2"
#define RACERS 6

static struct ts_store_saml_config mkconfig(const char *acct, const char *entity, int64_t now)
{
	return (struct ts_store_saml_config){.account_id = acct,
	                                     .idp_entity_id = entity,
	                                     .metadata_xml = "<EntityDescriptor/>",
	                                     .relay_allow = "[\"https://app.example.com\"]",
	                                     .created_ms = now,
	                                     .modified_ms = now};
}

/* ---- identity sources ------------------------------------------------------------------ */

static void test_config(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_saml_config got;
	bool found = true, deleted = true;
	int64_t version = -1;
	OK(ts_store_saml_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 0);
	OK(ts_store_saml_config_delete(f->c, ACCT, &deleted, &f->e));
	assert_false(deleted);
	const char *any = "x";
	OK(ts_store_saml_config_any(f->c, f->a, &any, &f->e));
	assert_null(any);

	struct ts_store_saml_config cfg = mkconfig(ACCT, "http://www.okta.com/exk1", 1000);
	cfg.allow_sha1 = true;
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_saml_config_any(f->c, f->a, &any, &f->e));
	assert_non_null(any);
	assert_string_equal(any, ACCT);
	OK(ts_store_saml_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_true(found);
	assert_string_equal(got.account_id, ACCT);
	assert_string_equal(got.idp_entity_id, "http://www.okta.com/exk1");
	assert_string_equal(got.metadata_xml, "<EntityDescriptor/>");
	assert_null(got.metadata_url);
	assert_int_equal(got.metadata_fetched_ms, 0);
	assert_false(got.allow_idp_initiated);
	assert_true(got.allow_sha1);
	assert_string_equal(got.relay_allow, "[\"https://app.example.com\"]");
	assert_int_equal(got.version, 1);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.modified_ms, 1000);

	/* a put replaces it: version + 1, created_ms kept */
	cfg = mkconfig(ACCT, "http://www.okta.com/exk2", 2000);
	cfg.created_ms = 0;
	cfg.metadata_url = "https://idp.example.com/metadata";
	cfg.metadata_fetched_ms = 1900;
	cfg.allow_idp_initiated = true;
	cfg.relay_allow = NULL;
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_saml_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_string_equal(got.idp_entity_id, "http://www.okta.com/exk2");
	assert_string_equal(got.metadata_url, "https://idp.example.com/metadata");
	assert_int_equal(got.metadata_fetched_ms, 1900);
	assert_true(got.allow_idp_initiated);
	assert_false(got.allow_sha1);
	assert_null(got.relay_allow);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.modified_ms, 2000);
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 2);

	/* inside a caller's transaction, rolled back: nothing moved */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	ts_store_rollback(f->c);
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 2);

	/* the refresher's list: configs with a URL fetched before the time given */
	struct ts_store_saml_config other = mkconfig(OTHER, "urn:other", 1000);
	OK(ts_store_saml_config_put(f->c, &other, &f->e)); /* uploaded: never due */
	struct ts_store_saml_config *due = NULL;
	int n = -1;
	OK(ts_store_saml_config_due(f->c, f->a, 1900, 10, &due, &n, &f->e));
	assert_int_equal(n, 0);
	OK(ts_store_saml_config_due(f->c, f->a, 1901, 10, &due, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(due[0].account_id, ACCT);
	assert_string_equal(due[0].metadata_xml, "<EntityDescriptor/>");
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_saml_config_due(f->c, f->a, 1901, 0, &due, &n, &f->e));

	/* deleted, and put again: a version a node may have cached is never reused */
	struct ts_store_saml_request req = {"id-1", ACCT, "bh", NULL, 1000, 999999};
	OK(ts_store_saml_request_insert(f->c, &req, &f->e));
	OK(ts_store_saml_config_delete(f->c, ACCT, &deleted, &f->e));
	assert_true(deleted);
	OK(ts_store_saml_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 0);
	struct ts_store_saml_request taken;
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-1", 1000, &taken, &found, &f->e));
	assert_false(found); /* the account's requests went with the config */
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 3);
	OK(ts_store_saml_config_version(f->c, OTHER, &version, &f->e));
	assert_int_equal(version, 1);

	/* the version as another connection sees it */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	cfg.modified_ms = 3000;
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_saml_config_version(c2, ACCT, &version, &f->e));
	assert_int_equal(version, 4);
	ts_store_disconnect(&c2);

	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_saml_config_put(f->c, &(struct ts_store_saml_config){.account_id = ACCT},
	                                &f->e));
}

/* ---- SP key pairs ---------------------------------------------------------------------- */

static void put_key(struct fx *f, const struct ts_secret_key *k, const char *acct, const char *id,
                    int64_t created)
{
	struct ts_store_saml_key key = {.key_id = id,
	                                .account_id = acct,
	                                .cert_pem = "-----BEGIN CERTIFICATE-----",
	                                .created_ms = created,
	                                .not_after_ms = created + 1000000};
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_saml_key_insert(f->c, &key, &f->e));
	OK(ts_store_secret_seal_put(f->c, f->a, k, "saml_sp", id, "private_key",
	                            (const unsigned char *)"pem", 3, created, &f->e));
	OK(ts_store_commit(f->c, &f->e));
}

static bool has_secret(struct fx *f, const char *id)
{
	struct ts_store_secret s;
	bool found = false;
	OK(ts_store_secret_get(f->c, f->a, "saml_sp", id, "private_key", &s, &found, &f->e));
	return found;
}

static void test_sp_keys(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k;
	ts_secret_key_derive(test_master, &k);
	need_account(f, ACCT);
	need_account(f, OTHER);
	put_key(f, &k, ACCT, "k1", 1000);
	put_key(f, &k, ACCT, "k2", 2000);
	put_key(f, &k, OTHER, "k-other", 1500);
	struct ts_store_saml_key *keys = NULL;
	int n = 0;
	OK(ts_store_saml_keys(f->c, f->a, ACCT, 5000, &keys, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(keys[0].key_id, "k2"); /* newest first */
	assert_string_equal(keys[1].key_id, "k1");
	assert_string_equal(keys[0].account_id, ACCT);
	assert_string_equal(keys[0].cert_pem, "-----BEGIN CERTIFICATE-----");
	assert_int_equal(keys[0].not_after_ms, 1002000);
	assert_int_equal(keys[0].retired_ms, 0);

	/* a rotation: the current ones retire at the overlap's end, a new one comes */
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_saml_keys_retire(f->c, ACCT, 0, &f->e));
	OK(ts_store_saml_keys_retire(f->c, ACCT, 10000, &f->e));
	put_key(f, &k, ACCT, "k3", 6000);
	OK(ts_store_saml_keys(f->c, f->a, ACCT, 10000, &keys, &n, &f->e));
	assert_int_equal(n, 3); /* published until then */
	assert_string_equal(keys[0].key_id, "k3");
	assert_int_equal(keys[0].retired_ms, 0);
	assert_int_equal(keys[1].retired_ms, 10000);
	OK(ts_store_saml_keys(f->c, f->a, ACCT, 10001, &keys, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(keys[0].key_id, "k3");

	/* purged only once retired before now, with their sealed private keys */
	int64_t purged = -1;
	OK(ts_store_saml_keys_purge(f->c, 10000, &purged, &f->e));
	assert_int_equal(purged, 0);
	assert_true(has_secret(f, "k1"));
	OK(ts_store_saml_keys_purge(f->c, 10001, &purged, &f->e));
	assert_int_equal(purged, 2);
	assert_false(has_secret(f, "k1"));
	assert_false(has_secret(f, "k2"));
	assert_true(has_secret(f, "k3"));
	assert_true(has_secret(f, "k-other"));
	OK(ts_store_saml_keys(f->c, f->a, ACCT, 0, &keys, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_saml_keys(f->c, f->a, OTHER, 99999999, &keys, &n, &f->e));
	assert_int_equal(n, 1);

	/* at most 8 listed */
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "m%d", i);
		put_key(f, &k, OTHER, id, 20000 + i);
	}
	OK(ts_store_saml_keys(f->c, f->a, OTHER, 0, &keys, &n, &f->e));
	assert_int_equal(n, 8);
	assert_string_equal(keys[0].key_id, "m9");

	/* a key ID is unique */
	struct ts_store_saml_key dup = {"k3", ACCT, "x", 1, 2, 0};
	EXPECT(TS_ERR_CONFLICT, ts_store_saml_key_insert(f->c, &dup, &f->e));
}

/* ---- AuthnRequests --------------------------------------------------------------------- */

static void test_requests(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_saml_request r = {"id-a", ACCT, "hash-a", "/portal?x=1", 1000, 2000};
	OK(ts_store_saml_request_insert(f->c, &r, &f->e));
	struct ts_store_saml_request r2 = {"id-b", ACCT, "hash-b", NULL, 1000, 2000};
	OK(ts_store_saml_request_insert(f->c, &r2, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_saml_request_insert(f->c, &r, &f->e));

	struct ts_store_saml_request got;
	bool found = true;
	/* another account's, expired: not found, and not taken */
	OK(ts_store_saml_request_take(f->c, f->a, OTHER, "id-a", 1500, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-a", 2000, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-a", 1999, &got, &found, &f->e));
	assert_true(found);
	assert_string_equal(got.request_id, "id-a");
	assert_string_equal(got.account_id, ACCT);
	assert_string_equal(got.browser_hash, "hash-a");
	assert_string_equal(got.relay_state, "/portal?x=1");
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.expires_ms, 2000);
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-a", 1500, &got, &found, &f->e));
	assert_false(found); /* single use */

	char big[TS_STORE_SAML_ID_MAX + 2];
	memset(big, 'i', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct ts_store_saml_request long_id = {big, ACCT, "h", NULL, 1000, 2000};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_saml_request_insert(f->c, &long_id, &f->e));
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, big, 1500, &got, &found, &f->e));
	assert_false(found);

	/* taken on one connection: gone for another */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_saml_request_take(c2, f->a, ACCT, "id-b", 1500, &got, &found, &f->e));
	assert_true(found);
	assert_null(got.relay_state);
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-b", 1500, &got, &found, &f->e));
	assert_false(found);

	/* taken in a transaction that rolls back: still there */
	struct ts_store_saml_request r3 = {"id-c", ACCT, "hash-c", NULL, 1000, 2000};
	OK(ts_store_saml_request_insert(f->c, &r3, &f->e));
	OK(ts_store_begin(c2, true, &f->e));
	OK(ts_store_saml_request_take(c2, f->a, ACCT, "id-c", 1500, &got, &found, &f->e));
	assert_true(found);
	ts_store_rollback(c2);
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id-c", 1500, &got, &found, &f->e));
	assert_true(found);
	ts_store_disconnect(&c2);
}

static ts_err take_request(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                           struct ts_error *e)
{
	(void)arg;
	struct ts_store_saml_request got;
	return ts_store_saml_request_take(c, a, ACCT, "raced", 1500, &got, hit, e);
}

static ts_err record_replay(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                            struct ts_error *e)
{
	(void)a;
	(void)arg;
	return ts_store_saml_replay_record(c, ACCT, "_assertion-raced", 5000, 1500, hit, e);
}

/*
 * RACERS threads released together, each on its own connection, each taking
 * the same request (take) or recording the same assertion: how many found it
 * or recorded it fresh.
 */
static int race(struct fx *f, bool take)
{
	struct fx_racer r[RACERS];
	for (int i = 0; i < RACERS; i++)
		r[i] = (struct fx_racer){.step = take ? take_request : record_replay};
	fx_race(f, r, RACERS);
	fx_race_check(f, r, RACERS, TS_ERR_OK);
	return fx_race_count(r, RACERS, TS_ERR_OK, true);
}

static void test_request_taken_once_concurrently(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	for (int round = 0; round < 5; round++) {
		struct ts_store_saml_request r = {"raced", ACCT, "h", NULL, 1000, 2000};
		OK(ts_store_saml_request_insert(f->c, &r, &f->e));
		assert_int_equal(race(f, true), 1);
	}
}

/* ---- the replay cache ------------------------------------------------------------------ */

static void test_replay(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	bool fresh = false;
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a1", 5000, 1000, &fresh, &f->e));
	assert_true(fresh);
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a1", 5000, 1001, &fresh, &f->e));
	assert_false(fresh); /* a replay */
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a1", 9000, 4999, &fresh, &f->e));
	assert_false(fresh); /* still a replay the instant before expiry */
	OK(ts_store_saml_replay_record(f->c, OTHER, "_a1", 5000, 1001, &fresh, &f->e));
	assert_true(fresh); /* per account */

	/* on another connection */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_saml_replay_record(c2, ACCT, "_a1", 5000, 2000, &fresh, &f->e));
	assert_false(fresh);

	/* expired: replaced, and kept until its new expiry */
	OK(ts_store_saml_replay_record(c2, ACCT, "_a1", 8000, 5000, &fresh, &f->e));
	assert_true(fresh);
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a1", 9000, 7999, &fresh, &f->e));
	assert_false(fresh);
	ts_store_disconnect(&c2);

	/* recorded in a transaction that rolls back: not recorded */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a2", 5000, 1000, &fresh, &f->e));
	assert_true(fresh);
	ts_store_rollback(f->c);
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a2", 5000, 1000, &fresh, &f->e));
	assert_true(fresh);

	/* IDs are capped */
	char big[TS_STORE_SAML_ID_MAX + 2];
	memset(big, 'i', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_saml_replay_record(f->c, ACCT, big, 5000, 1000, &fresh, &f->e));
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_saml_replay_record(f->c, ACCT, "", 5000, 1000, &fresh, &f->e));
	big[TS_STORE_SAML_ID_MAX] = '\0';
	OK(ts_store_saml_replay_record(f->c, ACCT, big, 5000, 1000, &fresh, &f->e));
	assert_true(fresh);
	/* an entry that would be expired already is a caller's mistake */
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_saml_replay_record(f->c, ACCT, "_a3", 1000, 1000, &fresh, &f->e));
}

static void test_replay_recorded_once_concurrently(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	for (int round = 0; round < 5; round++) {
		raw_exec(f->b, "DELETE FROM saml_replay");
		assert_int_equal(race(f, false), 1);
	}
	/* and once more against the entry left: a replay for every racer */
	assert_int_equal(race(f, false), 0);
}

/* ---- purge ----------------------------------------------------------------------------- */

static void test_purge(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	bool fresh = false, found = false;
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof id, "r%d", i);
		struct ts_store_saml_request r = {id, ACCT, "h", NULL, 0, 1000 + i * 1000};
		OK(ts_store_saml_request_insert(f->c, &r, &f->e));
		snprintf(id, sizeof id, "_x%d", i);
		OK(ts_store_saml_replay_record(f->c, ACCT, id, 1000 + i * 1000, 0, &fresh, &f->e));
	}
	/* at 3000: r0, r1, r2 and _x0, _x1, _x2 expired (expires_ms <= now) */
	int64_t n = -1;
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_saml_purge(f->c, 3000, 0, &n, &f->e));
	OK(ts_store_saml_purge(f->c, 3000, 2, &n, &f->e));
	assert_int_equal(n, 4); /* two of each, the oldest */
	OK(ts_store_saml_purge(f->c, 3000, 100, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_saml_purge(f->c, 3000, 100, &n, &f->e));
	assert_int_equal(n, 0);
	/* what was not expired is all there: requests still taken, replays still refused */
	struct ts_store_saml_request got;
	for (int i = 3; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof id, "_x%d", i);
		OK(ts_store_saml_replay_record(f->c, ACCT, id, 99000, 2999, &fresh, &f->e));
		assert_false(fresh);
		snprintf(id, sizeof id, "r%d", i);
		OK(ts_store_saml_request_take(f->c, f->a, ACCT, id, 2999, &got, &found, &f->e));
		assert_true(found);
	}
	/* what was expired is gone: the same IDs record fresh (a row, not a replacement) */
	OK(ts_store_saml_replay_record(f->c, ACCT, "_x0", 99000, 2999, &fresh, &f->e));
	assert_true(fresh);
	/* far later: the replay entries left (_x3 to _x5 and _x0 again) and no request */
	OK(ts_store_saml_purge(f->c, 99000, 100, &n, &f->e));
	assert_int_equal(n, 4);
}

/* ---- an account's deletion ------------------------------------------------------------- */

static void test_account_delete_cascades(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k;
	ts_secret_key_derive(test_master, &k);
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_saml_config cfg = mkconfig(ACCT, "urn:idp", 1000);
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	put_key(f, &k, ACCT, "k1", 1000);
	put_key(f, &k, OTHER, "k2", 1000);
	struct ts_store_saml_request r = {"id", ACCT, "h", NULL, 0, 5000};
	OK(ts_store_saml_request_insert(f->c, &r, &f->e));
	bool fresh = false;
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a", 5000, 0, &fresh, &f->e));
	struct ts_signin_attempt at = {ACCT, NULL, "x@example.com", 1, "Refused", "Match", "saml"};
	OK(ts_store_signin_attempt_insert(f->c, &at, &f->e));

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_delete(f->c, ACCT, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	need_account(f, ACCT); /* the same ID again finds nothing of the old one */
	int64_t version = -1;
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 0);
	struct ts_store_saml_key *keys = NULL;
	int n = -1;
	OK(ts_store_saml_keys(f->c, f->a, ACCT, 0, &keys, &n, &f->e));
	assert_int_equal(n, 0);
	assert_false(has_secret(f, "k1"));
	assert_true(has_secret(f, "k2"));
	struct ts_store_saml_request got;
	bool found = true;
	OK(ts_store_saml_request_take(f->c, f->a, ACCT, "id", 0, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_saml_replay_record(f->c, ACCT, "_a", 5000, 0, &fresh, &f->e));
	assert_true(fresh);
	struct ts_signin_attempt *list = NULL;
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, NULL, "x@example.com", 10, &list, &n, &f->e));
	assert_int_equal(n, 0);
	/* and a new config starts its versions again: no node can hold the deleted account's */
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_saml_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 1);
}

/* ---- sessions: origin and role --------------------------------------------------------- */

#define ROLES                                                                                  \
	"[{\"RoleArn\":\"arn:aws:iam::123456789012:role/Dev\",\"ProviderArn\":\"arn:aws:iam::" \
	"123456789012:saml-provider/Okta\"}]"

static void test_session_origin(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_user(f, ACCT, "u1", "ann@example.com", 1000);
	struct ts_session s = {.session_id = "s1",
	                       .token_hash = "h1",
	                       .account_id = ACCT,
	                       .user_id = "u1",
	                       .kind = "browser",
	                       .license = "Pro",
	                       .created_ms = 1000,
	                       .expires_ms = 100000,
	                       .origin = "saml",
	                       .roles_json = ROLES,
	                       .role_session_name = "ann"};
	OK(ts_store_session_insert(f->c, &s, &f->e));
	struct ts_session plain = {.session_id = "s2",
	                           .token_hash = "h2",
	                           .account_id = ACCT,
	                           .user_id = "u1",
	                           .kind = "cli",
	                           .created_ms = 1000,
	                           .expires_ms = 100000};
	OK(ts_store_session_insert(f->c, &plain, &f->e));
	struct ts_session got;
	OK(ts_store_session_by_hash(f->c, f->a, "h1", &got, &f->e));
	assert_string_equal(got.origin, "saml");
	assert_string_equal(got.roles_json, ROLES);
	assert_null(got.role_arn);
	assert_null(got.provider_arn);
	assert_string_equal(got.role_session_name, "ann");
	OK(ts_store_session_by_hash(f->c, f->a, "h2", &got, &f->e));
	assert_null(got.origin);
	assert_null(got.roles_json);
	assert_null(got.role_session_name);

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_session_get_for_update(f->c, f->a, "s1", &got, &f->e));
	assert_string_equal(got.token_hash, "h1");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_session_get_for_update(f->c, f->a, "sx", &got, &f->e));
	OK(ts_store_session_set_role(f->c, "s1", "arn:aws:iam::123456789012:role/Dev",
	                             "arn:aws:iam::123456789012:saml-provider/Okta", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_session_set_role(f->c, "sx", "a", "b", &f->e));
	OK(ts_store_commit(f->c, &f->e));
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_session_by_hash(c2, f->a, "h1", &got, &f->e));
	assert_string_equal(got.role_arn, "arn:aws:iam::123456789012:role/Dev");
	assert_string_equal(got.provider_arn, "arn:aws:iam::123456789012:saml-provider/Okta");
	ts_store_disconnect(&c2);
}

/* ---- sign-in attempts ------------------------------------------------------------------ */

static void test_signin_attempts(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	need_user(f, ACCT, "u1", "ann@example.com", 1000);
	need_user(f, ACCT, "u2", "bob@example.com", 1000);
	for (int i = 0; i < TS_STORE_SIGNIN_KEEP + 5; i++) {
		struct ts_signin_attempt at = {ACCT,
		                               "u1",
		                               "ann@example.com",
		                               1000 + i,
		                               i % 2 ? "Refused" : "Allowed",
		                               i % 2 ? "Licence" : NULL,
		                               "saml"};
		OK(ts_store_signin_attempt_insert(f->c, &at, &f->e));
	}
	struct ts_signin_attempt bob = {ACCT, "u2",  "bob@example.com", 5000, "Allowed",
	                                NULL, "oidc"};
	OK(ts_store_signin_attempt_insert(f->c, &bob, &f->e));
	/* an identity that matched nobody: its own group, in a caller's transaction */
	OK(ts_store_begin(f->c, true, &f->e));
	for (int i = 0; i < TS_STORE_SIGNIN_KEEP + 2; i++) {
		struct ts_signin_attempt at = {
		        ACCT, NULL, "Ann@Example.com", 2000 + i, "Refused", "Match", "saml"};
		OK(ts_store_signin_attempt_insert(f->c, &at, &f->e));
	}
	OK(ts_store_commit(f->c, &f->e));

	struct ts_signin_attempt *list = NULL;
	int n = 0;
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, "u1", NULL, 100, &list, &n, &f->e));
	assert_int_equal(n, TS_STORE_SIGNIN_KEEP); /* the oldest five were dropped */
	assert_int_equal(list[0].time_ms, 1000 + TS_STORE_SIGNIN_KEEP + 4); /* newest first */
	assert_int_equal(list[n - 1].time_ms, 1005);
	assert_string_equal(list[0].account_id, ACCT);
	assert_string_equal(list[0].user_id, "u1");
	assert_string_equal(list[0].identity, "ann@example.com");
	assert_string_equal(list[0].outcome, "Allowed");
	assert_null(list[0].check_name);
	assert_string_equal(list[1].outcome, "Refused");
	assert_string_equal(list[1].check_name, "Licence");
	assert_string_equal(list[0].source, "saml");
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, "u1", NULL, 3, &list, &n, &f->e));
	assert_int_equal(n, 3);
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, NULL, "Ann@Example.com", 100, &list, &n,
	                            &f->e));
	assert_int_equal(n, TS_STORE_SIGNIN_KEEP);
	assert_null(list[0].user_id);
	assert_string_equal(list[0].check_name, "Match");
	/* a user and the identities they were tried as: both, newest first */
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, "u1", "Ann@Example.com", 100, &list, &n,
	                            &f->e));
	assert_int_equal(n, 2 * TS_STORE_SIGNIN_KEEP);
	assert_int_equal(list[0].time_ms, 2000 + TS_STORE_SIGNIN_KEEP + 1);
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, "u2", NULL, 100, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].source, "oidc");
	OK(ts_store_signin_attempts(f->c, f->a, OTHER, "u1", NULL, 100, &list, &n, &f->e));
	assert_int_equal(n, 0);

	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_signin_attempts(f->c, f->a, ACCT, NULL, NULL, 10, &list, &n, &f->e));
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_signin_attempts(f->c, f->a, ACCT, "u1", NULL, 0, &list, &n, &f->e));
	struct ts_signin_attempt bad = {ACCT, NULL, "x", 1, "Maybe", NULL, "saml"};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_signin_attempt_insert(f->c, &bad, &f->e));
	bad.outcome = "Refused";
	bad.identity = "";
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_signin_attempt_insert(f->c, &bad, &f->e));
	char big[TS_STORE_SIGNIN_IDENTITY_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	bad.identity = big;
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_signin_attempt_insert(f->c, &bad, &f->e));
	/* a user's deletion takes their attempts */
	OK(ts_store_user_delete(f->c, ACCT, "u2", &f->e));
	OK(ts_store_signin_attempts(f->c, f->a, ACCT, "u2", NULL, 100, &list, &n, &f->e));
	assert_int_equal(n, 0);
}

/* ---- registration ---------------------------------------------------------------------- */

static void test_registration(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	/* provisioned over SCIM, never signed in: Unregistered, no RegisteredOn, no PIN */
	need_user(f, ACCT, "u1", "ann@example.com", 1000);
	struct ts_user_row u;
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &u, &f->e));
	assert_string_equal(u.registration_status, "Unregistered");
	assert_int_equal(u.joined_ms, 0);
	assert_null(u.personal_pin);

	int64_t changed = 0;
	OK(ts_store_dir_user_register(f->c, "u1", "0123456789", 7000, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &u, &f->e));
	assert_string_equal(u.registration_status, "Registered");
	assert_int_equal(u.joined_ms, 7000);
	assert_string_equal(u.personal_pin, "0123456789");
	assert_int_equal(u.version, 2);
	/* once only */
	OK(ts_store_dir_user_register(f->c, "u1", "1111111111", 8000, &changed, &f->e));
	assert_int_equal(changed, 0);
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &u, &f->e));
	assert_int_equal(u.joined_ms, 7000);
	assert_string_equal(u.personal_pin, "0123456789");

	/* an invited user keeps the PIN the invitation gave; a PIN held by another conflicts */
	struct ts_user_row inv = {.user_id = "u2",
	                          .account_id = ACCT,
	                          .user_name = "bob@example.com",
	                          .registration_status = "Unregistered",
	                          .personal_pin = "2222222222",
	                          .invited_ms = 1000,
	                          .created_ms = 1000};
	OK(ts_store_dir_user_insert(f->c, &inv, "bob@example.com", &f->e));
	OK(ts_store_dir_user_register(f->c, "u2", "0123456789", 9000, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_user_get(f->c, f->a, ACCT, "u2", &u, &f->e));
	assert_string_equal(u.personal_pin, "2222222222");
	need_user(f, ACCT, "u3", "cy@example.com", 1000);
	EXPECT(TS_ERR_CONFLICT,
	       ts_store_dir_user_register(f->c, "u3", "0123456789", 9000, &changed, &f->e));
	/* a suspended user is not registered by a sign-in (they cannot sign in) */
	OK(ts_store_dir_user_set_state(f->c, "u3", true, "Suspended", 9000, &f->e));
	OK(ts_store_dir_user_register(f->c, "u3", "3333333333", 9000, &changed, &f->e));
	assert_int_equal(changed, 0);
}

/* ---- the upgrade to version 9 --------------------------------------------------------- */

/*
 * A version 8 store: its users who never signed in were shown Registered
 * (the SCIM default); after the upgrade they are Unregistered, and the others
 * keep their status. Its sessions have no origin.
 */
static void test_v9_upgrade(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < ts__store_migration_count && ts__store_migrations[i].version <= 8;
	     i++) {
		raw_exec(f->b, f->b->pg ? ts__store_migrations[i].postgres
		                        : ts__store_migrations[i].sqlite);
		raw_exec(f->b, ts_arena_printf(f->a, "UPDATE schema_version SET version = %d",
		                               ts__store_migrations[i].version));
	}
	raw_exec(f->b, "INSERT INTO accounts (account_id, name, account_type, status, created_ms) "
	               "VALUES ('acct-1', 'a', 'Enterprise', 'Active', 1)");
	static const char *const users[][3] = {
	        {"scim", "Registered", "NULL"},   /* the old default, never signed in */
	        {"joined", "Registered", "5000"}, /* signed in */
	        {"invited", "Unregistered", "NULL"},
	        {"suspended", "Suspended", "NULL"},
	};
	for (size_t i = 0; i < N_ITEMS(users); i++)
		raw_exec(f->b, ts_arena_printf(f->a,
		                               "INSERT INTO users (user_id, account_id, user_name, "
		                               "user_name_key, registration_status, joined_ms, "
		                               "created_ms, modified_ms) VALUES ('%s', 'acct-1', "
		                               "'%s', '%s', '%s', %s, 1, 1)",
		                               users[i][0], users[i][0], users[i][0], users[i][1],
		                               users[i][2]));
	raw_exec(f->b, "INSERT INTO sessions (session_id, token_hash, account_id, user_id, kind, "
	               "created_ms, expires_ms, license_checked_ms) VALUES "
	               "('s1', 'h1', 'acct-1', 'joined', 'browser', 1, 99999, 1)");
	OK(ts_store_migrate(f->c, &f->e));
	int v = 0;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	static const char *const want[] = {"Unregistered", "Registered", "Unregistered",
	                                   "Suspended"};
	for (size_t i = 0; i < N_ITEMS(users); i++) {
		struct ts_user_row u;
		OK(ts_store_user_get(f->c, f->a, "acct-1", users[i][0], &u, &f->e));
		assert_string_equal(u.registration_status, want[i]);
	}
	struct ts_session s;
	OK(ts_store_session_by_hash(f->c, f->a, "h1", &s, &f->e));
	assert_null(s.origin);
	assert_null(s.role_arn);
	bool fresh = false;
	OK(ts_store_saml_replay_record(f->c, "acct-1", "_a", 5000, 1000, &fresh, &f->e));
	assert_true(fresh);
}

/* ---- the two groups ------------------------------------------------------------------------ */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define TE(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup_empty, teardown, b)
#define CONTRACT(b)                                                             \
	T(test_config, b), T(test_sp_keys, b), T(test_requests, b),             \
	        T(test_request_taken_once_concurrently, b), T(test_replay, b),  \
	        T(test_replay_recorded_once_concurrently, b), T(test_purge, b), \
	        T(test_account_delete_cascades, b), T(test_session_origin, b),  \
	        T(test_signin_attempts, b), T(test_registration, b), TE(test_v9_upgrade, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store SAML contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
