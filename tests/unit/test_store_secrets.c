/*
 * The store contract suite, sealed secrets (store/secrets.h,
 * docs/secrets.md), on SQLite and on PostgreSQL: put, get, replace, delete,
 * the listing rotation pages through (bytewise order on both backends), a
 * row moved behind the store's back refused, and rotating the master key:
 * every secret re-sealed, the audit trail re-keyed so that it verifies under
 * the new key only, and a tampered trail or secret refusing the rotation
 * with nothing changed.
 */
#include "store_fixture.h"

#include "audit/sealer.h"
#include "audit/verify.h"
#include "store/secrets.h"

static void skeys(struct ts_secret_key *k, struct ts_secret_key *other)
{
	ts_secret_key_derive(test_master, k);
	ts_secret_key_derive(other_master, other);
}

static void put(struct fx *f, const struct ts_secret_key *k, const char *kind, const char *owner,
                const char *name, const char *plain, int64_t now)
{
	OK(ts_store_secret_seal_put(f->c, f->a, k, kind, owner, name, (const unsigned char *)plain,
	                            strlen(plain), now, &f->e));
}

static void expect_plain(struct fx *f, const struct ts_secret_key *k, const char *kind,
                         const char *owner, const char *name, const char *want)
{
	unsigned char *plain = NULL;
	size_t n = 0;
	bool found = false;
	OK(ts_store_secret_open_get(f->c, f->a, k, kind, owner, name, &plain, &n, &found, &f->e));
	if (!found)
		fail_msg("%s: %s/%s/%s not found", f->b->name, kind, owner, name);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(plain, want, n);
}

static void test_secret_crud(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k, other;
	skeys(&k, &other);
	put(f, &k, "oidc_client", "c-1", "client_secret", "s3cret", 1000);
	put(f, &k, "saml_sp", "sp-1", "private_key", "-----BEGIN PRIVATE KEY-----", 1100);
	expect_plain(f, &k, "oidc_client", "c-1", "client_secret", "s3cret");
	expect_plain(f, &k, "saml_sp", "sp-1", "private_key", "-----BEGIN PRIVATE KEY-----");

	struct ts_store_secret row;
	bool found = false;
	OK(ts_store_secret_get(f->c, f->a, "oidc_client", "c-1", "client_secret", &row, &found,
	                       &f->e));
	assert_true(found);
	assert_string_equal(row.key_id, k.id);
	assert_null(strstr(row.sealed, "s3cret"));
	assert_int_equal(row.created_ms, 1000);
	assert_int_equal(row.updated_ms, 1000);

	/* replacing keeps created_ms, moves updated_ms */
	put(f, &k, "oidc_client", "c-1", "client_secret", "rotated", 2000);
	OK(ts_store_secret_get(f->c, f->a, "oidc_client", "c-1", "client_secret", &row, &found,
	                       &f->e));
	assert_int_equal(row.created_ms, 1000);
	assert_int_equal(row.updated_ms, 2000);
	expect_plain(f, &k, "oidc_client", "c-1", "client_secret", "rotated");

	/* under another key: refused, naming the key that sealed it */
	unsigned char *plain = NULL;
	size_t n = 0;
	EXPECT(TS_ERR_INTERNAL,
	       ts_store_secret_open_get(f->c, f->a, &other, "oidc_client", "c-1", "client_secret",
	                                &plain, &n, &found, &f->e));
	assert_non_null(strstr(f->e.message, k.id));

	/* absent */
	OK(ts_store_secret_open_get(f->c, f->a, &k, "oidc_client", "c-2", "client_secret", &plain,
	                            &n, &found, &f->e));
	assert_false(found);
	assert_null(plain);

	/* bad names and sizes */
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_secret_seal_put(f->c, f->a, &k, "", "o", "n", (const unsigned char *)"x", 1,
	                                1, &f->e));
	char *longname = ts_arena_alloc(f->a, TS_STORE_SECRET_NAME_MAX + 2);
	memset(longname, 'n', TS_STORE_SECRET_NAME_MAX + 1);
	longname[TS_STORE_SECRET_NAME_MAX + 1] = '\0';
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_secret_seal_put(f->c, f->a, &k, "k", "o", longname,
	                                (const unsigned char *)"x", 1, 1, &f->e));
	unsigned char *big = ts_arena_alloc(f->a, TS_STORE_SECRET_PLAIN_MAX + 1);
	memset(big, 'b', TS_STORE_SECRET_PLAIN_MAX + 1);
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_store_secret_seal_put(f->c, f->a, &k, "k", "o", "n", big,
	                                TS_STORE_SECRET_PLAIN_MAX + 1, 1, &f->e));
	OK(ts_store_secret_seal_put(f->c, f->a, &k, "k", "o", "n", big, TS_STORE_SECRET_PLAIN_MAX,
	                            1, &f->e));

	/* delete one, then an owner's */
	bool deleted = false;
	OK(ts_store_secret_delete(f->c, "oidc_client", "c-1", "client_secret", &deleted, &f->e));
	assert_true(deleted);
	OK(ts_store_secret_delete(f->c, "oidc_client", "c-1", "client_secret", &deleted, &f->e));
	assert_false(deleted);
	put(f, &k, "saml_sp", "sp-1", "cert_key", "k2", 1);
	put(f, &k, "saml_sp", "sp-2", "private_key", "k3", 1);
	OK(ts_store_secret_delete_owner(f->c, "saml_sp", "sp-1", &f->e));
	OK(ts_store_secret_get(f->c, f->a, "saml_sp", "sp-1", "private_key", &row, &found, &f->e));
	assert_false(found);
	expect_plain(f, &k, "saml_sp", "sp-2", "private_key", "k3");

	/* in the caller's transaction: a rollback leaves nothing */
	OK(ts_store_begin(f->c, true, &f->e));
	put(f, &k, "tx", "o", "n", "gone", 1);
	ts_store_rollback(f->c);
	OK(ts_store_secret_get(f->c, f->a, "tx", "o", "n", &row, &found, &f->e));
	assert_false(found);
}

/* A sealed value copied to another row by someone with database access does not open there. */
static void test_secret_moved_refused(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k, other;
	skeys(&k, &other);
	put(f, &k, "oidc_client", "victim", "client_secret", "victim-secret", 1);
	put(f, &k, "oidc_client", "attacker", "client_secret", "mine", 1);
	raw_exec(f->b, "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE owner_id = "
	               "'victim') WHERE owner_id = 'attacker'");
	unsigned char *plain = NULL;
	size_t n = 0;
	bool found = false;
	EXPECT(TS_ERR_INTERNAL,
	       ts_store_secret_open_get(f->c, f->a, &k, "oidc_client", "attacker", "client_secret",
	                                &plain, &n, &found, &f->e));
	assert_non_null(strstr(f->e.message, "another place"));
	assert_null(plain);
	expect_plain(f, &k, "oidc_client", "victim", "client_secret", "victim-secret");
}

/* Keyset paging in bytewise order, the same on both backends. */
static void test_secret_list(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k, other;
	skeys(&k, &other);
	static const char *const owners[] = {"b", "B", "a", "a-", "\xc3\xa9", "A", "a_", "aa"};
	for (size_t i = 0; i < N_ITEMS(owners); i++) {
		put(f, &k, "kind", owners[i], "n2", "x", 1);
		put(f, &k, "kind", owners[i], "n1", "x", 1);
	}
	put(f, &k, "Kind", "z", "n", "x", 1);
	/* bytewise: "Kind" < "kind"; A < B < a < a- < a_ < aa < b < \xc3\xa9 */
	static const char *const want[] = {"A", "B", "a", "a-", "a_", "aa", "b", "\xc3\xa9"};
	struct ts_store_secret *rows = NULL, last = {0};
	int n = 0, total = 0;
	bool first = true;
	for (;;) {
		OK(ts_store_secret_list(f->c, f->a, first ? NULL : &last, 3, &rows, &n, &f->e));
		for (int i = 0; i < n; i++, total++) {
			if (total == 0) {
				assert_string_equal(rows[i].owner_kind, "Kind");
				continue;
			}
			int j = total - 1;
			assert_string_equal(rows[i].owner_kind, "kind");
			assert_string_equal(rows[i].owner_id, want[j / 2]);
			assert_string_equal(rows[i].name, j % 2 == 0 ? "n1" : "n2");
		}
		if (n < 3)
			break;
		last = rows[n - 1];
		first = false;
	}
	assert_int_equal(total, 1 + 2 * (int)N_ITEMS(owners));
	int64_t count = -1;
	OK(ts_store_secret_count_not_under(f->c, k.id, &count, &f->e));
	assert_int_equal(count, 0);
	OK(ts_store_secret_count_not_under(f->c, other.id, &count, &f->e));
	assert_int_equal(count, total);
}

/* ---- rotation ---- */

static void append_events(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		char *id = ts_arena_alloc(f->a, TS_UUID_LEN + 1);
		ts_uuid_v4(id);
		struct ts_audit_record r = {.event_id = id,
		                            .event_time_ms = 1000 + i,
		                            .event_name = "CreateAccount",
		                            .account_id = i % 2 ? NULL : "acc-1",
		                            .body = ts_arena_printf(f->a, "{\"n\":%d}", i)};
		OK(ts_store_begin(f->c, true, &f->e));
		OK(ts_store_audit_append(f->c, f->a, &r, &f->e));
		OK(ts_store_commit(f->c, &f->e));
	}
}

static bool trail_ok(struct fx *f, const unsigned char *master)
{
	struct ts_audit_keys k;
	ts_audit_keys_derive(master, &k);
	struct ts_audit_report r;
	OK(ts_audit_verify(f->c, f->a, &k, NULL, &r, &f->e));
	return r.ok;
}

/* The rotation as `tessera masterkey rotate` runs it, in one transaction. */
static ts_err rotate(struct fx *f, struct ts_store_rekey_result *res, int64_t *resealed)
{
	struct ts_audit_keys ok_, nk;
	struct ts_secret_key os, ns;
	ts_audit_keys_derive(test_master, &ok_);
	ts_audit_keys_derive(other_master, &nk);
	ts_secret_key_derive(test_master, &os);
	ts_secret_key_derive(other_master, &ns);
	bool got = false;
	memset(&f->e, 0, sizeof f->e);
	ts_err rc = ts_store_audit_seal_lock(f->c, &got, &f->e);
	assert_true(got);
	if (rc == TS_ERR_OK)
		rc = ts_store_begin(f->c, true, &f->e);
	if (rc == TS_ERR_OK)
		rc = ts_store_secret_reseal_all(f->c, &os, &ns, 9000, resealed, &f->e);
	if (rc == TS_ERR_OK)
		rc = ts_store_audit_rekey(f->c, f->a, &ok_, &nk, res, &f->e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(f->c, &f->e);
	ts_store_rollback(f->c);
	ts_store_audit_seal_unlock(f->c);
	return rc;
}

static void test_rotate(void **state)
{
	struct fx *f = *state;
	struct ts_secret_key k, other;
	skeys(&k, &other);
	/* more rows than a page of the rotation's reads */
	for (int i = 0; i < 1203; i++)
		put(f, &k, "oidc_client", ts_arena_printf(f->a, "c-%04d", i), "client_secret",
		    ts_arena_printf(f->a, "secret-%d", i), 1);
	append_events(f, 7);
	int64_t sealed = 0;
	OK(ts_audit_seal_pending(f->c, false, &sealed, &f->e));
	assert_int_equal(sealed, 7);
	append_events(f, 3); /* pending at rotation time */
	assert_true(trail_ok(f, test_master));
	struct ts_audit_checkpoint before;
	bool found = false;
	OK(ts_store_audit_checkpoint_last(f->c, f->a, &before, &found, &f->e));

	struct ts_store_rekey_result res;
	int64_t resealed = 0;
	OK(rotate(f, &res, &resealed));
	assert_int_equal(resealed, 1203);
	assert_int_equal(res.events, 7);
	assert_int_equal(res.pending, 3);
	assert_int_equal(res.checkpoints, 2);
	assert_int_equal(res.last_chain_seq, 7);
	assert_string_equal(res.last_old_hash, before.hash);
	assert_string_not_equal(res.last_new_hash, before.hash);

	/* the secrets open under the new key only */
	expect_plain(f, &other, "oidc_client", "c-0000", "client_secret", "secret-0");
	expect_plain(f, &other, "oidc_client", "c-1202", "client_secret", "secret-1202");
	unsigned char *plain = NULL;
	size_t n = 0;
	EXPECT(TS_ERR_INTERNAL,
	       ts_store_secret_open_get(f->c, f->a, &k, "oidc_client", "c-0000", "client_secret",
	                                &plain, &n, &found, &f->e));
	int64_t count = -1;
	OK(ts_store_secret_count_not_under(f->c, other.id, &count, &f->e));
	assert_int_equal(count, 0);

	/* the key check value is the new key's: the old key is refused at start */
	struct ts_audit_keys nk;
	ts_audit_keys_derive(other_master, &nk);
	const char *check = NULL;
	OK(ts_store_key_check_get(f->c, f->a, &check, &found, &f->e));
	assert_string_equal(check, nk.check);
	struct ts_audit_keys ok_ = test_keys();
	ts_store_audit_keys_set(f->s, &ok_);
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_audit_keys_check(f->c, &f->e));
	/* a node still running with the old key: its next sealing round notices, then it
	 * neither seals nor appends */
	EXPECT(TS_ERR_UNAVAILABLE, ts_audit_seal_pending(f->c, false, &sealed, &f->e));
	assert_non_null(strstr(f->e.message, "master key was rotated"));
	struct ts_audit_record stale = {.event_id = "stale-event",
	                                .event_time_ms = 1,
	                                .event_name = "CreateAccount",
	                                .body = "{}"};
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_audit_append(f->c, f->a, &stale, &f->e));
	ts_store_rollback(f->c);

	/* the trail verifies under the new key, not the old; the new key seals on */
	assert_true(trail_ok(f, other_master));
	assert_false(trail_ok(f, test_master));
	ts_store_audit_keys_set(f->s, &nk);
	OK(ts_store_audit_keys_check(f->c, &f->e));
	OK(ts_audit_seal_pending(f->c, false, &sealed, &f->e));
	assert_int_equal(sealed, 3);
	append_events(f, 2);
	OK(ts_audit_seal_pending(f->c, false, &sealed, &f->e));
	assert_true(trail_ok(f, other_master));
}

/* A trail tampered under the old key is not laundered: the rotation fails, nothing changes. */
static void test_rotate_refuses_tampered(void **state)
{
	static const char *const tamper[] = {
	        "UPDATE audit_events SET body = '{\"n\":99}' WHERE seq = 2",
	        "UPDATE audit_chain SET hash = '" TS_AUDIT_GENESIS_HASH "' WHERE chain_seq = 3",
	        "UPDATE audit_checkpoints SET time_ms = time_ms + 1 WHERE chain_seq = 0",
	        "DELETE FROM audit_checkpoints WHERE chain_seq = 4",
	        "UPDATE audit_events SET body = 'x' WHERE seq = 6", /* a pending one */
	        ("UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE owner_id = 'a') "
	         "WHERE owner_id = 'b'"),
	};
	struct fx *f = *state;
	struct ts_secret_key k, other;
	skeys(&k, &other);
	for (size_t t = 0; t < N_ITEMS(tamper); t++) {
		raw_exec(f->b, "DELETE FROM secrets");
		put(f, &k, "kind", "a", "n", "sa", 1);
		put(f, &k, "kind", "b", "n", "sb", 1);
		if (t == 0) {
			append_events(f, 4);
			int64_t sealed = 0;
			OK(ts_audit_seal_pending(f->c, false, &sealed, &f->e));
			append_events(f, 2); /* seqs 5, 6 pending */
		}
		raw_exec(f->b, "CREATE TABLE saved_cp AS SELECT * FROM audit_checkpoints");
		raw_exec(f->b, "CREATE TABLE saved_ev AS SELECT * FROM audit_events");
		raw_exec(f->b, "CREATE TABLE saved_ch AS SELECT * FROM audit_chain");
		raw_exec(f->b, tamper[t]);
		struct ts_store_rekey_result res;
		int64_t resealed = 0;
		EXPECT(TS_ERR_CONFLICT, rotate(f, &res, &resealed));
		/* for the reason planted: a secret moved, or the trail broken */
		assert_non_null(strstr(f->e.message, t + 1 == N_ITEMS(tamper)
		                                             ? "another place"
		                                             : "nothing was rotated"));
		/* nothing moved: the old key still opens, the check value is the old one */
		expect_plain(f, &k, "kind", "a", "n", "sa");
		struct ts_audit_keys ok_ = test_keys();
		const char *check = NULL;
		bool found = false;
		OK(ts_store_key_check_get(f->c, f->a, &check, &found, &f->e));
		assert_string_equal(check, ok_.check);
		/* restore the trail for the next case */
		raw_exec(f->b,
		         "DELETE FROM audit_checkpoints; INSERT INTO audit_checkpoints SELECT "
		         "* FROM saved_cp; DROP TABLE saved_cp");
		raw_exec(f->b, "DELETE FROM audit_events; INSERT INTO audit_events SELECT * FROM "
		               "saved_ev; DROP TABLE saved_ev");
		raw_exec(f->b, "DELETE FROM audit_chain; INSERT INTO audit_chain SELECT * FROM "
		               "saved_ch; DROP TABLE saved_ch");
		assert_true(trail_ok(f, test_master));
	}
	/* untampered, it rotates */
	struct ts_store_rekey_result res;
	int64_t resealed = 0;
	raw_exec(f->b, "DELETE FROM secrets");
	OK(rotate(f, &res, &resealed));
	assert_true(trail_ok(f, other_master));
}

/* ---- the two groups ------------------------------------------------------------------------ */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                                      \
	T(test_secret_crud, b), T(test_secret_moved_refused, b), T(test_secret_list, b), \
	        T(test_rotate, b), T(test_rotate_refuses_tampered, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store secrets contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
