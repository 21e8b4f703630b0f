/*
 * The store contract suite, OpenID Connect sign-in (store/oidc.h), on
 * SQLite and on PostgreSQL: an account's provider and its version (never
 * reused, also after a delete), the JWKS refresh that moves nothing else, the
 * client secret sealed in the secrets table (never in the config's row, not
 * opened by another master key), states taken once on any connection and
 * never once expired, the purge of expired states, and an account's deletion
 * taking all of it (docs/oidc.md, docs/secrets.md).
 */
#include "store_helpers.h"

#include "store/oidc.h"
#include "store/secrets.h"

#define ACCT "acct-1"
#define OTHER "acct-2"
#define SECRET "okta-client-secret-0123456789"

static struct ts_store_oidc_config mkconfig(const char *acct, const char *issuer, int64_t now)
{
	return (struct ts_store_oidc_config){.account_id = acct,
	                                     .issuer = issuer,
	                                     .client_id = "0oa1client",
	                                     .discovery_json = "{\"issuer\":\"x\"}",
	                                     .jwks_json = "{\"keys\":[]}",
	                                     .jwks_fetched_ms = now,
	                                     .created_ms = now,
	                                     .modified_ms = now};
}

/* ---- an account's provider ------------------------------------------------------------- */

static void test_config(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_oidc_config got;
	bool found = true, deleted = true;
	int64_t version = -1;
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 0);
	OK(ts_store_oidc_config_delete(f->c, ACCT, &deleted, &f->e));
	assert_false(deleted);
	const char *any = "x";
	OK(ts_store_oidc_config_any(f->c, f->a, &any, &f->e));
	assert_null(any);

	/* defaults: claim email, scopes openid email, no relay list, no HS256 */
	struct ts_store_oidc_config cfg = mkconfig(ACCT, "https://example.okta.com", 1000);
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_config_any(f->c, f->a, &any, &f->e));
	assert_string_equal(any, ACCT);
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_true(found);
	assert_string_equal(got.account_id, ACCT);
	assert_string_equal(got.issuer, "https://example.okta.com");
	assert_string_equal(got.client_id, "0oa1client");
	assert_string_equal(got.claim, "email");
	assert_string_equal(got.scopes, "openid email");
	assert_string_equal(got.discovery_json, "{\"issuer\":\"x\"}");
	assert_string_equal(got.jwks_json, "{\"keys\":[]}");
	assert_int_equal(got.jwks_fetched_ms, 1000);
	assert_null(got.relay_allow);
	assert_false(got.allow_hs256);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.modified_ms, 1000);

	/* a put replaces it: version + 1, created_ms kept, settings as given */
	cfg.claim = "preferred_username";
	cfg.scopes = "openid email profile";
	cfg.relay_allow = "[\"https://app.example.com\"]";
	cfg.allow_hs256 = true;
	cfg.modified_ms = 2000;
	cfg.created_ms = 0;
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_string_equal(got.claim, "preferred_username");
	assert_string_equal(got.scopes, "openid email profile");
	assert_string_equal(got.relay_allow, "[\"https://app.example.com\"]");
	assert_true(got.allow_hs256);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.modified_ms, 2000);

	/* a JWKS refresh moves the keys only; an older fetch does not replace newer keys */
	OK(ts_store_oidc_jwks_put(f->c, ACCT, "{\"keys\":[1]}", 5000, &f->e));
	OK(ts_store_oidc_jwks_put(f->c, ACCT, "{\"keys\":[0]}", 4000, &f->e));
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_string_equal(got.jwks_json, "{\"keys\":[1]}");
	assert_int_equal(got.jwks_fetched_ms, 5000);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.modified_ms, 2000);
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_jwks_put(f->c, ACCT, NULL, 6000, &f->e));

	/* deleted (secret and states with it), and put again: versions never reused */
	OK(ts_store_oidc_secret_put(f->c, f->a, test_master, ACCT, (const unsigned char *)SECRET,
	                            strlen(SECRET), 1000, &f->e));
	struct ts_store_oidc_state st = {"sh-1", ACCT, "bh", "nh", NULL, 1000, 999999};
	OK(ts_store_oidc_state_insert(f->c, &st, &f->e));
	OK(ts_store_oidc_config_delete(f->c, ACCT, &deleted, &f->e));
	assert_true(deleted);
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 0);
	const char *plain = NULL;
	size_t n = 0;
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	assert_false(found);
	assert_null(plain);
	struct ts_store_oidc_state taken;
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-1", 1000, &taken, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 3);

	/* the version as another connection sees it */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	cfg.modified_ms = 3000;
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_config_version(c2, ACCT, &version, &f->e));
	assert_int_equal(version, 4);
	OK(ts_store_oidc_config_version(c2, OTHER, &version, &f->e));
	assert_int_equal(version, 0);
	ts_store_disconnect(&c2);

	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_oidc_config_put(f->c, &(struct ts_store_oidc_config){.account_id = ACCT},
	                                &f->e));
	/* an account that does not exist has no config (the backends name the refusal apart) */
	cfg.account_id = "acct-none";
	assert_int_not_equal(ts_store_oidc_config_put(f->c, &cfg, &f->e), TS_ERR_OK);
}

/* ---- the client secret ------------------------------------------------------------------ */

static void test_secret(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_oidc_config cfg = mkconfig(ACCT, "https://example.okta.com", 1000);
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	const char *plain = NULL;
	size_t n = 0;
	bool found = true;
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	assert_false(found);

	/* in one transaction with the config, as the admin API does */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_secret_put(f->c, f->a, test_master, ACCT, (const unsigned char *)SECRET,
	                            strlen(SECRET), 1000, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	assert_true(found);
	assert_int_equal(n, strlen(SECRET));
	assert_string_equal(plain, SECRET);

	/* sealed: the plain secret is in no row of the store */
	assert_int_equal(
	        count_rows(f, "SELECT count(*) FROM secrets WHERE sealed LIKE '%" SECRET "%'"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM secrets WHERE owner_kind = "
	                               "'oidc_client' AND owner_id = 'acct-1' AND name = "
	                               "'client_secret' AND sealed LIKE 'ts1.%'"),
	                 1);
	assert_int_equal(count_rows(f,
	                            "SELECT count(*) FROM oidc_configs WHERE issuer LIKE '%" SECRET
	                            "%' OR client_id LIKE '%" SECRET
	                            "%' OR discovery_json LIKE '%" SECRET "%'"),
	                 0);

	/* another master key does not open it; another account has none */
	EXPECT(TS_ERR_INTERNAL, ts_store_oidc_secret_open(f->c, f->a, other_master, ACCT, &plain,
	                                                  &n, &found, &f->e));
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, OTHER, &plain, &n, &found, &f->e));
	assert_false(found);

	/* replaced */
	OK(ts_store_oidc_secret_put(f->c, f->a, test_master, ACCT, (const unsigned char *)"new", 3,
	                            2000, &f->e));
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	assert_string_equal(plain, "new");
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_oidc_secret_put(f->c, f->a, test_master, ACCT, (const unsigned char *)"", 0,
	                                1, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_oidc_secret_put(f->c, f->a, NULL, ACCT,
	                                                 (const unsigned char *)"x", 1, 1, &f->e));

	/* a master key rotation re-seals it with every other secret (docs/secrets.md) */
	struct ts_secret_key old_k, new_k;
	ts_secret_key_derive(test_master, &old_k);
	ts_secret_key_derive(other_master, &new_k);
	int64_t count = 0;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_secret_reseal_all(f->c, &old_k, &new_k, 3000, &count, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(count, 1);
	OK(ts_store_oidc_secret_open(f->c, f->a, other_master, ACCT, &plain, &n, &found, &f->e));
	assert_true(found);
	assert_string_equal(plain, "new");
	EXPECT(TS_ERR_INTERNAL,
	       ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	ts_secret_key_wipe(&old_k);
	ts_secret_key_wipe(&new_k);
}

/* ---- states ----------------------------------------------------------------------------- */

static void test_states(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	struct ts_store_oidc_state a = {"sh-a", ACCT, "bh-a", "nh-a", "/portal?x=1", 1000, 2000};
	struct ts_store_oidc_state b = {"sh-b", ACCT, "bh-b", "nh-b", NULL, 1000, 2000};
	OK(ts_store_oidc_state_insert(f->c, &a, &f->e));
	OK(ts_store_oidc_state_insert(f->c, &b, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_oidc_state_insert(f->c, &a, &f->e));

	struct ts_store_oidc_state got;
	bool found = true;
	/* expired: not found, and not taken */
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-a", 2000, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_state_get(f->c, f->a, "sh-a", 2000, &got, &found, &f->e));
	assert_false(found);
	/* read, twice, on another connection too: not taken */
	for (int i = 0; i < 2; i++) {
		OK(ts_store_oidc_state_get(f->c, f->a, "sh-a", 1999, &got, &found, &f->e));
		assert_true(found);
		assert_string_equal(got.browser_hash, "bh-a");
		assert_string_equal(got.target, "/portal?x=1");
	}
	OK(ts_store_oidc_state_get(f->c, f->a, "", 1999, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-a", 1999, &got, &found, &f->e));
	assert_true(found);
	assert_string_equal(got.state_hash, "sh-a");
	assert_string_equal(got.account_id, ACCT);
	assert_string_equal(got.browser_hash, "bh-a");
	assert_string_equal(got.nonce_hash, "nh-a");
	assert_string_equal(got.target, "/portal?x=1");
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.expires_ms, 2000);
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-a", 1500, &got, &found, &f->e));
	assert_false(found); /* single use */
	OK(ts_store_oidc_state_get(f->c, f->a, "sh-a", 1500, &got, &found, &f->e));
	assert_false(found);

	/* taken on one connection (another node): gone for the other */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_oidc_state_take(c2, f->a, "sh-b", 1500, &got, &found, &f->e));
	assert_true(found);
	assert_null(got.target);
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-b", 1500, &got, &found, &f->e));
	assert_false(found);

	/* taken in a transaction that rolls back: still there, once */
	struct ts_store_oidc_state c = {"sh-c", ACCT, "bh-c", "nh-c", NULL, 1000, 2000};
	OK(ts_store_oidc_state_insert(f->c, &c, &f->e));
	OK(ts_store_begin(c2, true, &f->e));
	OK(ts_store_oidc_state_take(c2, f->a, "sh-c", 1500, &got, &found, &f->e));
	assert_true(found);
	ts_store_rollback(c2);
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-c", 1500, &got, &found, &f->e));
	assert_true(found);
	OK(ts_store_oidc_state_take(c2, f->a, "sh-c", 1500, &got, &found, &f->e));
	assert_false(found);
	ts_store_disconnect(&c2);

	/* caps: hashes and target */
	char big[TS_STORE_OIDC_TARGET_MAX + 2];
	memset(big, 'h', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct ts_store_oidc_state bad = {"", ACCT, "b", "n", NULL, 1, 2};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_state_insert(f->c, &bad, &f->e));
	bad = (struct ts_store_oidc_state){"s", ACCT, NULL, "n", NULL, 1, 2};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_state_insert(f->c, &bad, &f->e));
	bad = (struct ts_store_oidc_state){"s", ACCT, "b", "n", big, 1, 2};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_state_insert(f->c, &bad, &f->e));
	big[TS_STORE_OIDC_HASH_MAX + 1] = '\0';
	bad = (struct ts_store_oidc_state){big, ACCT, "b", "n", NULL, 1, 2};
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_state_insert(f->c, &bad, &f->e));
	OK(ts_store_oidc_state_take(f->c, f->a, big, 1, &got, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_state_take(f->c, f->a, "", 1, &got, &found, &f->e));
	assert_false(found);
	/* a state for an account that does not exist */
	bad = (struct ts_store_oidc_state){"s", "acct-none", "b", "n", NULL, 1, 2};
	assert_int_not_equal(ts_store_oidc_state_insert(f->c, &bad, &f->e), TS_ERR_OK);
}

static ts_err take_state(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                         struct ts_error *e)
{
	struct ts_store_oidc_state got;
	return ts_store_oidc_state_take(c, a, arg, 1500, &got, hit, e);
}

/* Racers, each on its own connection, each taking the same state: one finds it. */
static void test_state_taken_once_concurrently(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	struct ts_store_oidc_state st = {"sh-race", ACCT, "bh", "nh", NULL, 1000, 2000};
	OK(ts_store_oidc_state_insert(f->c, &st, &f->e));
	enum { RACERS = 6 };
	struct fx_racer r[RACERS];
	for (int i = 0; i < RACERS; i++)
		r[i] = (struct fx_racer){.step = take_state, .arg = "sh-race"};
	fx_race(f, r, RACERS);
	fx_race_check(f, r, RACERS, TS_ERR_OK);
	assert_int_equal(fx_race_count(r, RACERS, TS_ERR_OK, true), 1);
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	for (int i = 0; i < 5; i++) {
		char h[16];
		snprintf(h, sizeof h, "sh-%d", i);
		struct ts_store_oidc_state st = {h, ACCT, "bh", "nh", NULL, 0, 1000 + i * 1000};
		OK(ts_store_oidc_state_insert(f->c, &st, &f->e));
	}
	int64_t n = -1;
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_oidc_purge(f->c, 3000, 0, &n, &f->e));
	/* expired at 3000: sh-0 (1000), sh-1 (2000), sh-2 (3000); two at most per call */
	OK(ts_store_oidc_purge(f->c, 3000, 2, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_oidc_purge(f->c, 3000, 100, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_oidc_purge(f->c, 3000, 100, &n, &f->e));
	assert_int_equal(n, 0);
	struct ts_store_oidc_state got;
	bool found = false;
	OK(ts_store_oidc_state_take(f->c, f->a, "sh-3", 3500, &got, &found, &f->e));
	assert_true(found); /* not expired: kept */
}

/* ---- an account's deletion ------------------------------------------------------------- */

static void test_account_delete_cascades(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	struct ts_store_oidc_config cfg = mkconfig(ACCT, "https://a.example.com", 1000);
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	struct ts_store_oidc_config other = mkconfig(OTHER, "https://b.example.com", 1000);
	OK(ts_store_oidc_config_put(f->c, &other, &f->e));
	OK(ts_store_oidc_secret_put(f->c, f->a, test_master, ACCT, (const unsigned char *)"s1", 2,
	                            1000, &f->e));
	OK(ts_store_oidc_secret_put(f->c, f->a, test_master, OTHER, (const unsigned char *)"s2", 2,
	                            1000, &f->e));
	struct ts_store_oidc_state st = {"sh", ACCT, "bh", "nh", NULL, 0, 5000};
	OK(ts_store_oidc_state_insert(f->c, &st, &f->e));

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_delete(f->c, ACCT, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	need_account(f, ACCT); /* the same ID again finds nothing of the old one */
	struct ts_store_oidc_config got;
	bool found = true;
	OK(ts_store_oidc_config_get(f->c, f->a, ACCT, &got, &found, &f->e));
	assert_false(found);
	const char *plain = NULL;
	size_t n = 0;
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, ACCT, &plain, &n, &found, &f->e));
	assert_false(found);
	OK(ts_store_oidc_secret_open(f->c, f->a, test_master, OTHER, &plain, &n, &found, &f->e));
	assert_true(found);
	assert_string_equal(plain, "s2");
	struct ts_store_oidc_state taken;
	OK(ts_store_oidc_state_take(f->c, f->a, "sh", 0, &taken, &found, &f->e));
	assert_false(found);
	int64_t version = -1;
	OK(ts_store_oidc_config_put(f->c, &cfg, &f->e));
	OK(ts_store_oidc_config_version(f->c, ACCT, &version, &f->e));
	assert_int_equal(version, 1); /* its counter went with it too */
	OK(ts_store_oidc_config_version(f->c, OTHER, &version, &f->e));
	assert_int_equal(version, 1);
}

/* ---- the two groups ------------------------------------------------------------------------ */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                         \
	T(test_config, b), T(test_secret, b), T(test_states, b),            \
	        T(test_state_taken_once_concurrently, b), T(test_purge, b), \
	        T(test_account_delete_cascades, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store OIDC contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
