/*
 * The store contract suite, the authorization server (store/oauth.h), on
 * SQLite and on PostgreSQL: a device flow's polls (slow_down decided from
 * the row as it was and the interval raised for good), its decision made
 * once, wrong entries that kill it at the limit, its consumption once on any
 * connection; refresh tokens spent once and families revoked with their
 * sessions; the per-address counters' window and lock; the signing keys'
 * order and retirement; and the purge of what expired (docs/oauth.md).
 */
#include "store_fixture.h"

#include "directory/session.h"
#include "store/oauth.h"
#include "store/saml.h"

#define ACCT "acct-1"
#define HASH "d1b2c3d4e5f60718293a4b5c6d7e8f90d1b2c3d4e5f60718293a4b5c6d7e8f90"

static struct ts_store_oauth_device mkdevice(const char *hash, const char *code, int64_t now)
{
	return (struct ts_store_oauth_device){.device_hash = hash,
	                                      .user_code = code,
	                                      .account_id = ACCT,
	                                      .client_id = "tessera-cli",
	                                      .client_info = "curl from 127.0.0.1",
	                                      .created_ms = now,
	                                      .expires_ms = now + 600000,
	                                      .interval_s = 5};
}

static void test_device_poll(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_device d = mkdevice(HASH, "BCDFGHJK", 1000);
	OK(ts_store_oauth_device_insert(f->c, &d, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_oauth_device_insert(f->c, &d, &f->e));
	struct ts_store_oauth_device other = mkdevice("other-hash", "BCDFGHJK", 1000);
	EXPECT(TS_ERR_CONFLICT, ts_store_oauth_device_insert(f->c, &other, &f->e));

	struct ts_store_oauth_device got;
	bool found = false;
	/* the first poll is never too fast; the next 4 s later is (interval 5) */
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 10000, 5, &got, &found, &f->e));
	assert_true(found);
	assert_false(got.poll_slow);
	assert_int_equal(got.interval_s, 5);
	assert_int_equal(got.last_poll_ms, 10000);
	assert_string_equal(got.status, "pending");
	assert_string_equal(got.account_id, ACCT);
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 14000, 5, &got, &found, &f->e));
	assert_true(got.poll_slow);
	assert_int_equal(got.interval_s, 10);
	/* 6 s later: the old interval would allow it, the raised one does not */
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 20000, 5, &got, &found, &f->e));
	assert_true(got.poll_slow);
	assert_int_equal(got.interval_s, 15);
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 36000, 5, &got, &found, &f->e));
	assert_false(got.poll_slow);
	assert_int_equal(got.interval_s, 15);
	OK(ts_store_oauth_device_poll(f->c, f->a, "unknown", 36000, 5, &got, &found, &f->e));
	assert_false(found);

	/* a relaxed poll (ts_store_tx_relaxed, as the token endpoint's pending polls are) is
	 * committed like any other and seen at once by another connection; one rolled back is
	 * not, and the next transaction on the connection is an ordinary one */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_begin(f->c, true, &f->e));
	ts_store_tx_relaxed(f->c);
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 60000, 5, &got, &found, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 61000, 5, &got, &found, &f->e));
	assert_true(got.poll_slow); /* 1 s after the relaxed poll */
	assert_int_equal(got.last_poll_ms, 61000);
	OK(ts_store_begin(f->c, true, &f->e));
	ts_store_tx_relaxed(f->c);
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 200000, 5, &got, &found, &f->e));
	ts_store_rollback(f->c);
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 200500, 5, &got, &found, &f->e));
	assert_false(got.poll_slow); /* the rolled-back poll left nothing */
	ts_store_tx_relaxed(f->c);   /* outside a transaction: nothing */
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 300000, 5, &got, &found, &f->e));
	assert_int_equal(got.last_poll_ms, 300000);
	/* a poll with no transaction open is committed when it answers (PostgreSQL sends its
	 * COMMIT with it): the other connection sees it at once */
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 300500, 5, &got, &found, &f->e));
	assert_true(got.poll_slow);
	/* inside an open transaction it is one statement of many, rolled back with it */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 400000, 5, &got, &found, &f->e));
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 400100, 5, &got, &found, &f->e));
	assert_true(got.poll_slow);
	ts_store_rollback(f->c);
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 400200, 5, &got, &found, &f->e));
	assert_false(got.poll_slow);
	/* after polls on their own, the connection's transactions are ordinary ones */
	OK(ts_store_oauth_device_poll(f->c, f->a, "unknown", 400300, 5, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 500000, 5, &got, &found, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 500100, 5, &got, &found, &f->e));
	assert_true(got.poll_slow);
	ts_store_disconnect(&c2);
}

static void test_device_decide_once(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_device d = mkdevice(HASH, "BCDFGHJK", 1000);
	OK(ts_store_oauth_device_insert(f->c, &d, &f->e));
	int64_t changed = 0;
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oauth_device_decide(f->c, "BCDFGHJK", "consumed", "u1",
	                                                        "s1", 2000, &changed, &f->e));
	/* past its expiry nothing is decided */
	OK(ts_store_oauth_device_decide(f->c, "BCDFGHJK", "approved", "u1", "s1", 601000, &changed,
	                                &f->e));
	assert_int_equal(changed, 0);
	OK(ts_store_oauth_device_decide(f->c, "BCDFGHJK", "approved", "u1", "s1", 2000, &changed,
	                                &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_oauth_device_decide(f->c, "BCDFGHJK", "denied", "u2", "s2", 2100, &changed,
	                                &f->e));
	assert_int_equal(changed, 0);
	struct ts_store_oauth_device got;
	bool found = false;
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BCDFGHJK", &got, &found, &f->e));
	assert_true(found);
	assert_string_equal(got.status, "approved");
	assert_string_equal(got.user_id, "u1");
	assert_string_equal(got.session_id, "s1");
	assert_int_equal(got.decided_ms, 2000);
	/* consumed once, whichever connection asks first */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_oauth_device_consume(c2, HASH, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_oauth_device_consume(f->c, HASH, &changed, &f->e));
	assert_int_equal(changed, 0);
	ts_store_disconnect(&c2);
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BCDFGHJK", &got, &found, &f->e));
	assert_string_equal(got.status, "consumed");
}

static void test_device_wrong_entries(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_device d = mkdevice(HASH, "BCDFGHJK", 1000);
	OK(ts_store_oauth_device_insert(f->c, &d, &f->e));
	int64_t wrong = 0;
	for (int i = 1; i <= 4; i++) {
		OK(ts_store_oauth_device_wrong(f->c, "BCDFGHJK", 5, &wrong, &f->e));
		assert_int_equal(wrong, i);
	}
	struct ts_store_oauth_device got;
	bool found = false;
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BCDFGHJK", &got, &found, &f->e));
	assert_string_equal(got.status, "pending");
	OK(ts_store_oauth_device_wrong(f->c, "BCDFGHJK", 5, &wrong, &f->e));
	assert_int_equal(wrong, 5);
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BCDFGHJK", &got, &found, &f->e));
	assert_string_equal(got.status, "denied"); /* dead */
	int64_t changed = 0;
	OK(ts_store_oauth_device_decide(f->c, "BCDFGHJK", "approved", "u1", "s1", 2000, &changed,
	                                &f->e));
	assert_int_equal(changed, 0);
	OK(ts_store_oauth_device_wrong(f->c, "ZZZZZZZZ", 5, &wrong, &f->e));
	assert_int_equal(wrong, 0);
}

static struct ts_user_row mkuser(const char *id)
{
	return (struct ts_user_row){.user_id = id,
	                            .account_id = ACCT,
	                            .user_name = id,
	                            .active = true,
	                            .resource = "{}",
	                            .version = 1,
	                            .created_ms = 1000,
	                            .modified_ms = 1000};
}

/* A user and a live session to hang refresh tokens on. */
static const char *session_for(struct fx *f, const char *user_id)
{
	struct ts_account acct = mkacct(ACCT, ACCT);
	struct ts_error ignored = {0};
	ts_err rc = ts_store_account_insert(f->c, &acct, &ignored);
	assert_true(rc == TS_ERR_OK ||
	            rc == TS_ERR_CONFLICT); /* the second user's account exists */
	struct ts_user_row u = mkuser(user_id);
	rc = ts_store_user_insert(f->c, &u, NULL, 0, &ignored);
	assert_true(rc == TS_ERR_OK || rc == TS_ERR_CONFLICT);
	const char *token = NULL;
	struct ts_session s;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_directory_session_create(f->c, f->a, ACCT, user_id, TS_SESSION_CLI, 3600000,
	                               TS_LICENSE_PRO, "tessera-cli", &token, &s, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	return s.session_id;
}

static void test_refresh_family(void **state)
{
	struct fx *f = *state;
	const char *s1 = session_for(f, "u1");
	const char *s2 = session_for(f, "u1");
	struct ts_store_oauth_refresh r1 = {"rh-1", "fam-1", ACCT, "u1", "tessera-cli",
	                                    s1,     1000,    9000, 0,    0};
	struct ts_store_oauth_refresh r2 = {"rh-2", "fam-1", ACCT, "u1", "tessera-cli",
	                                    s2,     2000,    9000, 0,    0};
	OK(ts_store_oauth_refresh_insert(f->c, &r1, &f->e));
	OK(ts_store_oauth_refresh_insert(f->c, &r2, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_oauth_refresh_insert(f->c, &r2, &f->e));
	int64_t changed = 0;
	OK(ts_store_oauth_refresh_spend(f->c, "rh-1", 1500, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_oauth_refresh_spend(f->c, "rh-1", 1600, &changed, &f->e));
	assert_int_equal(changed, 0);
	struct ts_store_oauth_refresh got;
	bool found = false;
	OK(ts_store_oauth_refresh_get(f->c, f->a, "rh-1", &got, &found, &f->e));
	assert_true(found);
	assert_int_equal(got.used_ms, 1500);
	assert_string_equal(got.family_id, "fam-1");
	assert_string_equal(got.session_id, s1);
	int64_t sessions = 0;
	OK(ts_store_oauth_refresh_revoke_family(f->c, "fam-1", 3000, &sessions, &f->e));
	assert_int_equal(sessions, 2);
	OK(ts_store_oauth_refresh_get(f->c, f->a, "rh-2", &got, &found, &f->e));
	assert_int_equal(got.revoked_ms, 3000);
	OK(ts_store_oauth_refresh_spend(f->c, "rh-2", 3100, &changed, &f->e));
	assert_int_equal(changed, 0); /* revoked: not spendable */
	struct ts_session s;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_session_get_for_update(f->c, f->a, s2, &s, &f->e));
	ts_store_rollback(f->c);
	assert_int_equal(s.revoked_ms, 3000);
	OK(ts_store_oauth_refresh_get(f->c, f->a, "nope", &got, &found, &f->e));
	assert_false(found);
}

static void test_address_failures(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_failures got;
	OK(ts_store_oauth_failures_get(f->c, "192.0.2.1", &got, &f->e));
	assert_int_equal(got.failures, 0);
	const int64_t window = 900000, lock = 900000;
	for (int i = 1; i <= 9; i++) {
		OK(ts_store_oauth_failures_add(f->c, "192.0.2.1", 1000 + i, 10, window, lock, &got,
		                               &f->e));
		assert_int_equal(got.failures, i);
		assert_int_equal(got.locked_until_ms, 0);
	}
	OK(ts_store_oauth_failures_add(f->c, "192.0.2.1", 2000, 10, window, lock, &got, &f->e));
	assert_int_equal(got.failures, 10);
	assert_int_equal(got.locked_until_ms, 2000 + lock);
	OK(ts_store_oauth_failures_get(f->c, "192.0.2.1", &got, &f->e));
	assert_int_equal(got.locked_until_ms, 2000 + lock);
	assert_int_equal(got.window_start_ms, 1001);
	/* another address is not touched */
	OK(ts_store_oauth_failures_get(f->c, "192.0.2.2", &got, &f->e));
	assert_int_equal(got.failures, 0);
	/* nine failures, then the window passes: the count starts again */
	for (int i = 1; i <= 9; i++)
		OK(ts_store_oauth_failures_add(f->c, "198.51.100.7", 1000, 10, window, lock, &got,
		                               &f->e));
	OK(ts_store_oauth_failures_add(f->c, "198.51.100.7", 1000 + window, 10, window, lock, &got,
	                               &f->e));
	assert_int_equal(got.failures, 1);
	assert_int_equal(got.locked_until_ms, 0);
}

static void test_signing_keys(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_key k1 = {"kid-1", "{\"kid\":\"kid-1\"}", 1000, 0, 1};
	struct ts_store_oauth_key k2 = {"kid-2", "{\"kid\":\"kid-2\"}", 2000, 0, 2};
	struct ts_store_oauth_key twin = {"kid-x", "{\"kid\":\"kid-x\"}", 2000, 0, 2};
	bool inserted = false;
	OK(ts_store_oauth_key_insert(f->c, &k1, &inserted, &f->e));
	assert_true(inserted);
	OK(ts_store_oauth_key_insert(f->c, &k2, &inserted, &f->e));
	assert_true(inserted);
	/* a second key of one generation (two nodes making it at once) is not kept */
	OK(ts_store_oauth_key_insert(f->c, &twin, &inserted, &f->e));
	assert_false(inserted);
	OK(ts_store_oauth_keys_retire(f->c, 2, 50000, &f->e));
	struct ts_store_oauth_key *keys = NULL;
	int n = 0;
	OK(ts_store_oauth_keys_live(f->c, f->a, 3000, 16, &keys, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(keys[0].kid, "kid-2"); /* current first */
	assert_int_equal(keys[0].retired_ms, 0);
	assert_string_equal(keys[1].kid, "kid-1");
	assert_int_equal(keys[1].retired_ms, 50000);
	OK(ts_store_oauth_keys_live(f->c, f->a, 50000, 16, &keys, &n, &f->e));
	assert_int_equal(n, 1); /* past its overlap: no longer published */
	struct ts_secret_key sk;
	ts_secret_key_derive(test_master, &sk);
	OK(ts_store_secret_seal_put(f->c, f->a, &sk, "oauth_signing", "kid-1", "private_key",
	                            (const unsigned char *)"pem", 3, 1000, &f->e));
	OK(ts_store_secret_seal_put(f->c, f->a, &sk, "oauth_signing", "kid-2", "private_key",
	                            (const unsigned char *)"pem", 3, 1000, &f->e));
	int64_t purged = 0;
	OK(ts_store_oauth_purge(f->c, 50000, 100, &purged, &f->e));
	assert_int_equal(purged, 1);
	bool found = true;
	struct ts_store_secret sec;
	OK(ts_store_secret_get(f->c, f->a, "oauth_signing", "kid-1", "private_key", &sec, &found,
	                       &f->e));
	assert_false(found); /* the retired key's private half went with it */
	OK(ts_store_secret_get(f->c, f->a, "oauth_signing", "kid-2", "private_key", &sec, &found,
	                       &f->e));
	assert_true(found);
	ts_secret_key_wipe(&sk);
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_device d1 = mkdevice("h1", "BBBBBBBB", 0);
	struct ts_store_oauth_device d2 = mkdevice("h2", "CCCCCCCC", 0);
	struct ts_store_oauth_device d3 = mkdevice("h3", "DDDDDDDD", 1000000);
	OK(ts_store_oauth_device_insert(f->c, &d1, &f->e));
	OK(ts_store_oauth_device_insert(f->c, &d2, &f->e));
	OK(ts_store_oauth_device_insert(f->c, &d3, &f->e));
	struct ts_store_oauth_failures fl;
	OK(ts_store_oauth_failures_add(f->c, "192.0.2.9", 0, 10, 1000, 1000, &fl, &f->e));
	const char *s = session_for(f, "u9");
	struct ts_store_oauth_refresh r = {"rh-x", "fam-x", ACCT,   "u9", "tessera-cli",
	                                   s,      0,       700000, 0,    0};
	OK(ts_store_oauth_refresh_insert(f->c, &r, &f->e));
	int64_t n = 0;
	OK(ts_store_oauth_purge(f->c, 700000, 1, &n, &f->e));
	assert_int_equal(n, 3); /* at most one of each kind */
	OK(ts_store_oauth_purge(f->c, 700000, 100, &n, &f->e));
	assert_int_equal(n, 1);
	struct ts_store_oauth_device got;
	bool found = false;
	OK(ts_store_oauth_device_by_code(f->c, f->a, "DDDDDDDD", &got, &found, &f->e));
	assert_true(found); /* not expired: kept */
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BBBBBBBB", &got, &found, &f->e));
	assert_false(found);
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oauth_purge(f->c, 0, 0, &n, &f->e));
}

/*
 * A poll on its own whose statement fails (PostgreSQL: the row held past the
 * lock timeout, inside the one pipeline of BEGIN, UPDATE and COMMIT): the
 * failure is reported, nothing is recorded, and the connection's next
 * transactions are ordinary ones.
 */
static void test_device_poll_alone_fails(void **state)
{
	struct fx *f = *state;
	if (!f->b->pg)
		return;
	struct ts_store_oauth_device d = mkdevice(HASH, "BCDFGHJK", 1000);
	OK(ts_store_oauth_device_insert(f->c, &d, &f->e));
	struct ts_store_options o = {.lock_timeout_ms = 200};
	ts_store_t *s2 = NULL;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_open(f->b->url, false, &o, &s2, &f->e));
	OK(ts_store_connect(s2, &c2, &f->e));
	struct ts_store_oauth_device got;
	bool found = false;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_oauth_device_by_code(f->c, f->a, "BCDFGHJK", &got, &found, &f->e));
	EXPECT(TS_ERR_UNAVAILABLE,
	       ts_store_oauth_device_poll(c2, f->a, HASH, 10000, 5, &got, &found, &f->e));
	assert_false(found);
	ts_store_rollback(f->c);
	/* 2 s after the failed poll: too fast had it been recorded (interval 5 s) */
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 12000, 5, &got, &found, &f->e));
	assert_true(found);
	assert_false(got.poll_slow);
	assert_int_equal(got.last_poll_ms, 12000);
	OK(ts_store_begin(c2, true, &f->e));
	OK(ts_store_oauth_device_poll(c2, f->a, HASH, 30000, 5, &got, &found, &f->e));
	ts_store_rollback(c2);
	/* 2 s after the rolled-back poll, 20 s after the last one recorded */
	OK(ts_store_oauth_device_poll(f->c, f->a, HASH, 32000, 5, &got, &found, &f->e));
	assert_false(got.poll_slow);
	ts_store_disconnect(&c2);
	ts_store_free(&s2);
}

/* A grant's one read of its user: the row, the account's status, its keys and SAML source. */
static void test_user_standing(void **state)
{
	struct fx *f = *state;
	struct ts_store_oauth_standing st;
	bool found = true;
	OK(ts_store_oauth_user_standing(f->c, f->a, ACCT, "u1", &st, &found, &f->e));
	assert_false(found); /* no account */
	(void)session_for(f, "u1");
	OK(ts_store_oauth_user_standing(f->c, f->a, ACCT, "u2", &st, &found, &f->e));
	assert_false(found); /* no such user */
	OK(ts_store_oauth_user_standing(f->c, f->a, "acct-2", "u1", &st, &found, &f->e));
	assert_false(found); /* another account's user */
	OK(ts_store_oauth_user_standing(f->c, f->a, ACCT, "u1", &st, &found, &f->e));
	assert_true(found);
	assert_string_equal(st.user.user_id, "u1");
	assert_string_equal(st.user.account_id, ACCT);
	assert_string_equal(st.account_status, "Active");
	assert_int_equal(st.api_keys, 0);
	assert_int_equal(st.saml_sources, 0);
	struct ts_apikey k = {
	        .api_key_id = "AK1", .account_id = ACCT, .secret_hash = "00", .created_ms = 1};
	OK(ts_store_apikey_insert(f->c, &k, &f->e));
	k.api_key_id = "AK2";
	OK(ts_store_apikey_insert(f->c, &k, &f->e));
	struct ts_store_saml_config cfg = {.account_id = ACCT,
	                                   .idp_entity_id = "urn:idp",
	                                   .metadata_xml = "<EntityDescriptor/>",
	                                   .created_ms = 1000,
	                                   .modified_ms = 1000};
	OK(ts_store_saml_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oauth_user_standing(f->c, f->a, ACCT, "u1", &st, &found, &f->e));
	assert_int_equal(st.api_keys, 2);
	assert_int_equal(st.saml_sources, 1);
}

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                                              \
	T(test_device_poll, b), T(test_device_decide_once, b), T(test_device_wrong_entries, b),  \
	        T(test_refresh_family, b), T(test_address_failures, b), T(test_signing_keys, b), \
	        T(test_purge, b), T(test_user_standing, b), T(test_device_poll_alone_fails, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store OAuth contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
