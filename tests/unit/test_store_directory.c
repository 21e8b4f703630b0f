/*
 * The store contract suite, second part ("one contract suite,
 * whole"): every function of store.h that test_store.c does not call, on
 * SQLite and on PostgreSQL, and the contracts that need two connections at
 * once: a lost update, an If-Match race, uniqueness races (userName, PIN,
 * verified domain), a session revoked on one connection refused on the other,
 * a deadlock retried, one snapshot per read transaction. Each concurrency
 * test fails on a store that reads without locking what it writes back, or
 * that runs reads at READ COMMITTED (docs/store.md).
 */
#include "store_fixture.h"

#define THREADS 4
#define ROUNDS 25
#define ACCT "acct-1"

static void need_account(struct fx *f, const char *id)
{
	struct ts_account a = mkacct(id, id);
	OK(ts_store_account_insert(f->c, &a, &f->e));
}

static struct ts_user_row mkuser(const char *id, const char *name)
{
	return (struct ts_user_row){.user_id = id,
	                            .account_id = ACCT,
	                            .user_name = name,
	                            .external_id = NULL,
	                            .display_name = NULL,
	                            .active = true,
	                            .resource = "{}",
	                            .version = 1,
	                            .created_ms = 1000,
	                            .modified_ms = 1000};
}

static void add_user(struct fx *f, const char *id, const char *name, int64_t created)
{
	struct ts_user_row u = mkuser(id, name);
	u.created_ms = u.modified_ms = created;
	OK(ts_store_user_insert(f->c, &u, NULL, 0, &f->e));
}

/* ---- SCIM users ------------------------------------------------------------------------ */

static void test_scim_users(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, "acct-2");
	struct ts_user_row u = mkuser("u1", "Ann@Example.com");
	u.external_id = "ext-1";
	u.display_name = "Ann";
	struct ts_user_email em[] = {{"ann@example.com", "work", true}, {"a2@x.io", NULL, false}};
	OK(ts_store_user_insert(f->c, &u, em, 2, &f->e));
	/* RFC 7643 §4.1.1: userName is unique regardless of case */
	struct ts_user_row dup = mkuser("u2", "ANN@example.COM");
	EXPECT(TS_ERR_CONFLICT, ts_store_user_insert(f->c, &dup, NULL, 0, &f->e));
	add_user(f, "u2", "bob@example.com", 2000);
	add_user(f, "u3", "cy@example.com", 3000);
	/* an address the list repeats, in any case, is stored once: the first one */
	struct ts_user_row dupe = mkuser("u4", "dee@example.com");
	struct ts_user_email twice[] = {{"Dee@Example.com", "work", true},
	                                {"dee@example.COM", "home", false}};
	OK(ts_store_user_insert(f->c, &dupe, twice, 2, &f->e));
	struct ts_user_email *kept = NULL;
	int nkept = -1;
	OK(ts_store_dir_user_emails(f->c, f->a, "u4", &kept, &nkept, &f->e));
	assert_int_equal(nkept, 1);
	assert_string_equal(kept[0].value, "Dee@Example.com");
	OK(ts_store_user_delete(f->c, ACCT, "u4", &f->e));
	/* the addresses in their order on both stores: the primary first, then by key (the
	 * address in lower case), whatever the order given */
	struct ts_user_row many = mkuser("u5", "eve@example.com");
	struct ts_user_email four[] = {{"zed@example.com", "home", false},
	                               {"Eve@Example.com", "work", false},
	                               {"mid@example.com", "work", true},
	                               {"Abe@example.com", "other", false}};
	OK(ts_store_user_insert(f->c, &many, four, 4, &f->e));
	OK(ts_store_dir_user_emails(f->c, f->a, "u5", &kept, &nkept, &f->e));
	assert_int_equal(nkept, 4);
	assert_string_equal(kept[0].value, "mid@example.com");
	assert_true(kept[0].primary);
	assert_string_equal(kept[1].value, "Abe@example.com");
	assert_string_equal(kept[2].value, "Eve@Example.com");
	assert_string_equal(kept[2].type, "work");
	assert_string_equal(kept[3].value, "zed@example.com");
	assert_false(kept[3].primary);
	OK(ts_store_user_delete(f->c, ACCT, "u5", &f->e));

	struct ts_user_row got;
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &got, &f->e));
	assert_string_equal(got.user_name, "Ann@Example.com");
	assert_string_equal(got.external_id, "ext-1");
	assert_string_equal(got.display_name, "Ann");
	assert_int_equal(got.version, 1);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, "acct-2", "u1", &got, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, ACCT, "nope", &got, &f->e));

	/* the locking read answers the same, in a write transaction */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_user_get_for_update(f->c, f->a, ACCT, "u1", &got, &f->e));
	assert_string_equal(got.user_name, "Ann@Example.com");
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_store_user_get_for_update(f->c, f->a, "acct-2", "u1", &got, &f->e));
	got.display_name = "Ann B";
	got.version = 2;
	got.modified_ms = 5000;
	OK(ts_store_user_update(f->c, &got, NULL, -1, &f->e)); /* addresses untouched */
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &got, &f->e));
	assert_string_equal(got.display_name, "Ann B");
	assert_int_equal(got.version, 2);

	struct ts_user_row *list = NULL;
	int n = 0;
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_EMAIL, "A2@X.IO", 0, 0, 10, &list,
	                      &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].user_id, "u1");
	/* a rewrite with addresses replaces them */
	struct ts_user_email em2[] = {{"new@x.io", "home", true}};
	OK(ts_store_user_update(f->c, &got, em2, 1, &f->e));
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_EMAIL, "a2@x.io", 0, 0, 10, &list,
	                      &n, &f->e));
	assert_int_equal(n, 0);
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_EMAIL, "new@x.io", 0, 0, 10, &list,
	                      &n, &f->e));
	assert_int_equal(n, 1);
	/* a rename onto a taken userName conflicts */
	struct ts_user_row clash = got;
	clash.user_name = "BOB@example.com";
	EXPECT(TS_ERR_CONFLICT, ts_store_user_update(f->c, &clash, NULL, -1, &f->e));

	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_NAME, "ann@example.com", 0, 0, 10,
	                      &list, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_EXTERNAL, "ext-1", 0, 0, 10, &list,
	                      &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_BY_ID, "u3", 0, 0, 10, &list, &n,
	                      &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].user_name, "cy@example.com");
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_MODIFIED, NULL, 1500, 3500, 10, &list,
	                      &n, &f->e));
	assert_int_equal(n, 2); /* u2 and u3; u1 moved to 5000 */

	OK(ts_store_user_list(f->c, f->a, ACCT, 1, 10, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].user_id, "u2"); /* creation order, from offset 1 */
	int64_t count = 0;
	OK(ts_store_user_count(f->c, ACCT, &count, &f->e));
	assert_int_equal(count, 3);
	OK(ts_store_user_count(f->c, "acct-2", &count, &f->e));
	assert_int_equal(count, 0);

	const char **ids = NULL;
	OK(ts_store_users_existing(f->c, f->a, ACCT, "[\"u1\",\"zz\",\"u3\"]", &ids, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_users_existing(f->c, f->a, "acct-2", "[\"u1\"]", &ids, &n, &f->e));
	assert_int_equal(n, 0);

	OK(ts_store_user_delete(f->c, ACCT, "u3", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_delete(f->c, ACCT, "u3", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_delete(f->c, "acct-2", "u1", &f->e));
	OK(ts_store_user_count(f->c, ACCT, &count, &f->e));
	assert_int_equal(count, 2);
}

/* ---- SCIM groups ----------------------------------------------------------------------- */

static void test_scim_groups(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_user(f, "u1", "ann@example.com", 1000);
	add_user(f, "u2", "bob@example.com", 2000);
	struct ts_group_row g = {.group_id = "g1",
	                         .account_id = ACCT,
	                         .display_name = "Engineering",
	                         .external_id = "gx",
	                         .resource = "{}",
	                         .version = 1,
	                         .created_ms = 1000,
	                         .modified_ms = 1000};
	OK(ts_store_group_insert(f->c, &g, &f->e));
	struct ts_group_row g2 = g;
	g2.group_id = "g2";
	g2.display_name = "ENGINEERING";
	EXPECT(TS_ERR_CONFLICT, ts_store_group_insert(f->c, &g2, &f->e));
	g2.display_name = "Sales";
	g2.external_id = NULL;
	g2.created_ms = g2.modified_ms = 2000;
	OK(ts_store_group_insert(f->c, &g2, &f->e));

	struct ts_group_row got;
	OK(ts_store_group_get(f->c, f->a, ACCT, "g1", &got, &f->e));
	assert_string_equal(got.display_name, "Engineering");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_group_get(f->c, f->a, "other", "g1", &got, &f->e));
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_group_get_for_update(f->c, f->a, ACCT, "g1", &got, &f->e));
	got.display_name = "Eng";
	got.version = 2;
	got.modified_ms = 9000;
	OK(ts_store_group_update(f->c, &got, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_group_get(f->c, f->a, ACCT, "g1", &got, &f->e));
	assert_string_equal(got.display_name, "Eng");
	assert_int_equal(got.version, 2);

	OK(ts_store_group_members_add(f->c, "g1", "[\"u1\",\"u2\"]", &f->e));
	OK(ts_store_group_members_add(f->c, "g1", "[\"u1\"]", &f->e)); /* present: ignored */
	OK(ts_store_group_members_add(f->c, "g2", "[\"u1\"]", &f->e));
	struct ts_group_member *m = NULL;
	int n = 0;
	OK(ts_store_group_members(f->c, f->a, "g1", 10, &m, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_user_groups(f->c, f->a, "u1", &m, &n, &f->e));
	assert_int_equal(n, 2);
	struct ts_user_row *users = NULL;
	OK(ts_store_user_find(f->c, f->a, ACCT, TS_STORE_USER_IN_GROUP, "g1", 0, 0, 10, &users, &n,
	                      &f->e));
	assert_int_equal(n, 2);
	struct ts_group_row *gl = NULL;
	OK(ts_store_group_find(f->c, f->a, ACCT, TS_STORE_GROUP_WITH_MEMBER, "u2", 0, 0, 10, &gl,
	                       &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(gl[0].group_id, "g1");
	OK(ts_store_group_find(f->c, f->a, ACCT, TS_STORE_GROUP_BY_NAME, "sales", 0, 0, 10, &gl, &n,
	                       &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_group_find(f->c, f->a, ACCT, TS_STORE_GROUP_BY_EXTERNAL, "gx", 0, 0, 10, &gl,
	                       &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_group_find(f->c, f->a, ACCT, TS_STORE_GROUP_BY_ID, "g2", 0, 0, 10, &gl, &n,
	                       &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_group_find(f->c, f->a, ACCT, TS_STORE_GROUP_MODIFIED, NULL, 8000, 10000, 10,
	                       &gl, &n, &f->e));
	assert_int_equal(n, 1);

	OK(ts_store_group_members_remove(f->c, "g1", "[\"u2\",\"nobody\"]", &f->e));
	OK(ts_store_group_members(f->c, f->a, "g1", 10, &m, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(m[0].user_id, "u1");
	OK(ts_store_group_members_clear(f->c, "g1", &f->e));
	OK(ts_store_group_members(f->c, f->a, "g1", 10, &m, &n, &f->e));
	assert_int_equal(n, 0);

	OK(ts_store_group_list(f->c, f->a, ACCT, 0, 10, &gl, &n, &f->e));
	assert_int_equal(n, 2);
	int64_t count = 0;
	OK(ts_store_group_count(f->c, ACCT, &count, &f->e));
	assert_int_equal(count, 2);
	OK(ts_store_group_delete(f->c, ACCT, "g2", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_group_delete(f->c, ACCT, "g2", &f->e));
	OK(ts_store_user_groups(f->c, f->a, "u1", &m, &n, &f->e));
	assert_int_equal(n, 0); /* memberships went with the group */
}

/* ---- SCIM API keys --------------------------------------------------------------------- */

static void test_apikeys(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, "acct-2");
	int64_t n64 = -1;
	OK(ts_store_dir_api_key_count(f->c, ACCT, &n64, &f->e));
	assert_int_equal(n64, 0);
	const char *ids[] = {"k1", "k2", "k3"};
	for (int i = 0; i < 3; i++) {
		struct ts_apikey k = {.api_key_id = ids[i],
		                      .account_id = ACCT,
		                      .secret_hash = "00ff",
		                      .description = "d",
		                      .created_ms = 1000 + i};
		OK(ts_store_apikey_insert(f->c, &k, &f->e));
	}
	OK(ts_store_dir_api_key_count(f->c, ACCT, &n64, &f->e));
	assert_int_equal(n64, 3);
	struct ts_apikey got;
	OK(ts_store_apikey_get(f->c, f->a, "k2", &got, &f->e));
	assert_string_equal(got.account_id, ACCT);
	assert_string_equal(got.secret_hash, "00ff");
	assert_string_equal(got.account_settings, "{}");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_apikey_get(f->c, f->a, "nope", &got, &f->e));
	struct ts_apikey *list = NULL;
	int n = 0;
	OK(ts_store_apikey_list(f->c, f->a, ACCT, NULL, 2, &list, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_apikey_list(f->c, f->a, ACCT, list[1].api_key_id, 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].api_key_id, "k3");
	OK(ts_store_apikey_list(f->c, f->a, "acct-2", NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 0);
	int64_t g0 = 0, g1 = 0;
	OK(ts_store_auth_generation(f->c, &g0, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_apikey_delete(f->c, "acct-2", "k1", &f->e));
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_apikey_delete(f->c, ACCT, "k1", &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_auth_generation(f->c, &g1, &f->e));
	assert_true(g1 > g0);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_apikey_get(f->c, f->a, "k1", &got, &f->e));
}

/* ---- domains --------------------------------------------------------------------------- */

static struct ts_domain mkdomain(const char *account, const char *name, int64_t next)
{
	return (struct ts_domain){.account_id = account,
	                          .domain_name = name,
	                          .status = "PendingVerification",
	                          .token = "tok",
	                          .created_ms = 1000,
	                          .next_check_ms = next};
}

static void test_domains(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, "acct-2");
	struct ts_domain d = mkdomain(ACCT, "example.com", 5000);
	OK(ts_store_domain_insert(f->c, &d, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_domain_insert(f->c, &d, &f->e));
	struct ts_domain d2 = mkdomain(ACCT, "b.example", 3000);
	OK(ts_store_domain_insert(f->c, &d2, &f->e));
	struct ts_domain d3 = mkdomain("acct-2", "example.com", 4000);
	OK(ts_store_domain_insert(f->c, &d3, &f->e)); /* claimed by two, verified by one at most */

	struct ts_domain got;
	OK(ts_store_domain_get(f->c, f->a, ACCT, "example.com", &got, &f->e));
	assert_string_equal(got.status, "PendingVerification");
	assert_int_equal(got.next_check_ms, 5000);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_domain_get(f->c, f->a, ACCT, "x.io", &got, &f->e));
	struct ts_domain *list = NULL;
	int n = 0;
	OK(ts_store_domain_list(f->c, f->a, ACCT, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].domain_name, "b.example");
	OK(ts_store_domain_list(f->c, f->a, ACCT, "b.example", 10, &list, &n, &f->e));
	assert_int_equal(n, 1);

	OK(ts_store_domain_due(f->c, f->a, 4500, 10, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].domain_name, "b.example"); /* soonest first */
	int64_t next = 0;
	bool found = false;
	OK(ts_store_domain_next_due(f->c, &next, &found, &f->e));
	assert_true(found);
	assert_int_equal(next, 3000);

	/* a claim moves next_check only from what the claimer saw */
	bool won = false;
	OK(ts_store_domain_claim(f->c, ACCT, "b.example", 3000, 60000, &won, &f->e));
	assert_true(won);
	OK(ts_store_domain_claim(f->c, ACCT, "b.example", 3000, 70000, &won, &f->e));
	assert_false(won);

	const char *owner = "x";
	OK(ts_store_domain_verified_owner(f->c, f->a, "example.com", &owner, &f->e));
	assert_null(owner);
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_domain_get_for_update(f->c, f->a, ACCT, "example.com", &got, &f->e));
	got.status = "Verified";
	got.verified_ms = 7000;
	OK(ts_store_domain_update(f->c, &got, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_domain_verified_owner(f->c, f->a, "example.com", &owner, &f->e));
	assert_string_equal(owner, ACCT);
	const char **names = NULL;
	OK(ts_store_domain_verified_names(f->c, f->a, ACCT, &names, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "example.com");
	/* a second account verifying the same name conflicts (the partial unique index) */
	d3.status = "Verified";
	d3.verified_ms = 8000;
	EXPECT(TS_ERR_CONFLICT, ts_store_domain_update(f->c, &d3, &f->e));

	OK(ts_store_domain_delete(f->c, ACCT, "example.com", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_domain_get(f->c, f->a, ACCT, "example.com", &got, &f->e));
	OK(ts_store_domain_verified_owner(f->c, f->a, "example.com", &owner, &f->e));
	assert_null(owner);
}

/* ---- directory users, sessions, licence groups ----------------------------------------- */

static void add_dir_user(struct fx *f, const char *id, const char *name, const char *email)
{
	struct ts_user_row u = {.user_id = id,
	                        .account_id = ACCT,
	                        .user_name = name,
	                        .registration_status = "Unregistered",
	                        .invited_ms = 1000,
	                        .created_ms = 1000};
	OK(ts_store_dir_user_insert(f->c, &u, email, &f->e));
}

static void test_dir_users(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_dir_user(f, "d1", "ann@example.com", "ann@example.com");
	add_dir_user(f, "d2", "bob@corp.io", "Bob@Corp.io");
	struct ts_user_row dup = {.user_id = "d3",
	                          .account_id = ACCT,
	                          .user_name = "ANN@example.com",
	                          .registration_status = "Unregistered",
	                          .created_ms = 1};
	EXPECT(TS_ERR_CONFLICT, ts_store_dir_user_insert(f->c, &dup, NULL, &f->e));

	struct ts_user_row u;
	OK(ts_store_user_get(f->c, f->a, ACCT, "d1", &u, &f->e));
	assert_string_equal(u.registration_status, "Unregistered");
	assert_true(u.active);
	assert_false(u.suspended);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, "other", "d1", &u, &f->e));
	struct ts_user_row *list = NULL;
	int n = 0;
	OK(ts_store_dir_user_list(f->c, f->a, ACCT, NULL, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_dir_user_list(f->c, f->a, ACCT, NULL, "d1", 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_dir_user_list(f->c, f->a, ACCT, "bob@corp.io", NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].user_id, "d2");
	OK(ts_store_dir_user_match(f->c, f->a, ACCT, "bob@corp.io", 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	struct ts_user_email *emails = NULL;
	OK(ts_store_dir_user_emails(f->c, f->a, "d2", &emails, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(emails[0].value, "Bob@Corp.io");
	assert_true(emails[0].primary);
	const char **ids = NULL;
	bool *susp = NULL;
	OK(ts_store_dir_users_on_domain(f->c, f->a, ACCT, "corp.io", &ids, &susp, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "d2");
	assert_false(susp[0]);
	bool taken = false;
	OK(ts_store_dir_address_taken(f->c, ACCT, "bob@corp.io", &taken, &f->e));
	assert_true(taken);
	OK(ts_store_dir_address_taken(f->c, ACCT, "cy@corp.io", &taken, &f->e));
	assert_false(taken);

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_user_get_for_update(f->c, f->a, ACCT, "d2", &u, &f->e));
	OK(ts_store_dir_user_set_state(f->c, "d2", true, "Suspended", 2000, &f->e));
	OK(ts_store_dir_user_set_license(f->c, "d2", "Basic", 2000, &f->e));
	OK(ts_store_dir_user_set_pin(f->c, "d2", "0123456789", 2000, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_user_get(f->c, f->a, ACCT, "d2", &u, &f->e));
	assert_true(u.suspended);
	assert_string_equal(u.registration_status, "Suspended");
	assert_string_equal(u.license, "Basic");
	assert_string_equal(u.personal_pin, "0123456789");
	OK(ts_store_dir_pin_taken(f->c, "0123456789", &taken, &f->e));
	assert_true(taken);
	OK(ts_store_dir_pin_taken(f->c, "9999999999", &taken, &f->e));
	assert_false(taken);
	EXPECT(TS_ERR_CONFLICT, ts_store_dir_user_set_pin(f->c, "d1", "0123456789", 3000, &f->e));

	/* licence groups and the tiers of a user's groups */
	struct ts_group_row g = {.group_id = "g1",
	                         .account_id = ACCT,
	                         .display_name = "Engineering",
	                         .resource = "{}",
	                         .version = 1,
	                         .created_ms = 1,
	                         .modified_ms = 1};
	OK(ts_store_group_insert(f->c, &g, &f->e));
	OK(ts_store_group_members_add(f->c, "g1", "[\"d1\"]", &f->e));
	bool exists = false;
	OK(ts_store_dir_group_exists(f->c, ACCT, "Engineering", &exists, &f->e));
	assert_true(exists);
	OK(ts_store_dir_group_exists(f->c, ACCT, "engineering", &exists, &f->e));
	assert_false(exists); /* exact displayName */
	struct ts_license_group lg = {ACCT, "Engineering", "Pro", 10};
	OK(ts_store_license_group_upsert(f->c, &lg, &f->e));
	lg.license = "Basic";
	OK(ts_store_license_group_upsert(f->c, &lg, &f->e)); /* the second one changes it */
	struct ts_license_group lg2 = {ACCT, "Nobody", "Pro", 10};
	OK(ts_store_license_group_upsert(f->c, &lg2, &f->e));
	struct ts_license_group *lgs = NULL;
	OK(ts_store_license_group_list(f->c, f->a, ACCT, &lgs, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(lgs[0].group_name, "Engineering");
	assert_string_equal(lgs[0].license, "Basic");
	struct ts_dir_user_group *ug = NULL;
	OK(ts_store_dir_user_groups(f->c, f->a, "d1", &ug, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(ug[0].name, "Engineering");
	assert_string_equal(ug[0].license, "Basic");
	/* a user's groups by displayName on both stores, whatever the order of joining */
	static const char *const more[] = {"Zeta", "Alpha", "Mid"};
	for (int i = 0; i < 3; i++) {
		struct ts_group_row gx = g;
		gx.group_id = ts_arena_printf(f->a, "g%d", i + 2);
		gx.display_name = more[i];
		OK(ts_store_group_insert(f->c, &gx, &f->e));
		OK(ts_store_group_members_add(f->c, gx.group_id, "[\"d1\"]", &f->e));
	}
	OK(ts_store_dir_user_groups(f->c, f->a, "d1", &ug, &n, &f->e));
	assert_int_equal(n, 4);
	assert_string_equal(ug[0].name, "Alpha");
	assert_null(ug[0].license);
	assert_string_equal(ug[1].name, "Engineering");
	assert_string_equal(ug[1].license, "Basic");
	assert_string_equal(ug[1].group_id, "g1");
	assert_string_equal(ug[2].name, "Mid");
	assert_string_equal(ug[3].name, "Zeta");
	OK(ts_store_license_group_delete(f->c, ACCT, "Nobody", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_license_group_delete(f->c, ACCT, "Nobody", &f->e));

	/* sessions */
	struct ts_session s = {.session_id = "s1",
	                       .token_hash = "h1",
	                       .account_id = ACCT,
	                       .user_id = "d1",
	                       .kind = "browser",
	                       .created_ms = 1000,
	                       .expires_ms = 100000};
	OK(ts_store_session_insert(f->c, &s, &f->e));
	s.session_id = "s2";
	s.token_hash = "h2";
	s.kind = "cli";
	OK(ts_store_session_insert(f->c, &s, &f->e));
	struct ts_session got;
	OK(ts_store_session_by_hash(f->c, f->a, "h1", &got, &f->e));
	assert_string_equal(got.session_id, "s1");
	assert_int_equal(got.license_checked_ms, 1000);
	assert_int_equal(got.revoked_ms, 0);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_session_by_hash(f->c, f->a, "hx", &got, &f->e));
	OK(ts_store_session_set_license(f->c, "s1", "Pro", 2000, &f->e));
	OK(ts_store_session_by_hash(f->c, f->a, "h1", &got, &f->e));
	assert_string_equal(got.license, "Pro");
	assert_int_equal(got.license_checked_ms, 2000);
	int64_t live = 0, changed = 0;
	OK(ts_store_session_live_count(f->c, "d1", 5000, &live, &f->e));
	assert_int_equal(live, 2);
	OK(ts_store_session_live_count(f->c, "d1", 200000, &live, &f->e));
	assert_int_equal(live, 0); /* expired */
	OK(ts_store_session_revoke(f->c, "s1", 3000, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_session_revoke(f->c, "s1", 3001, &changed, &f->e));
	assert_int_equal(changed, 0);
	OK(ts_store_session_revoke_user(f->c, "d1", 4000, &changed, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_session_live_count(f->c, "d1", 5000, &live, &f->e));
	assert_int_equal(live, 0);

	OK(ts_store_dir_user_delete(f->c, "d1", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_session_by_hash(f->c, f->a, "h2", &got, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, ACCT, "d1", &u, &f->e));
}

/* ---- transactions: the helpers, the schema version ------------------------------------- */

static void test_tx_helpers(void **state)
{
	struct fx *f = *state;
	assert_false(ts_store_in_tx(f->c));
	assert_false(ts_store_in_tx(NULL));
	OK(ts_store_begin(f->c, false, &f->e));
	assert_true(ts_store_in_tx(f->c));
	int attempt = 0;
	/* answers, not conflicts: never run again, and the transaction is rolled back */
	assert_false(ts_store_tx_retry(f->c, TS_ERR_NOT_FOUND, &attempt));
	assert_false(ts_store_in_tx(f->c));
	assert_false(ts_store_tx_retry(f->c, TS_ERR_UNAVAILABLE, &attempt));
	assert_int_equal(attempt, 0);
	for (int i = 1; i < TS_STORE_TX_ATTEMPTS; i++)
		assert_true(ts_store_tx_retry(f->c, TS_ERR_RETRY, &attempt));
	assert_false(ts_store_tx_retry(f->c, TS_ERR_RETRY, &attempt));
	assert_true(ts_store_err_transient(TS_ERR_RETRY));
	assert_true(ts_store_err_transient(TS_ERR_UNAVAILABLE));
	assert_false(ts_store_err_transient(TS_ERR_STORE));
	assert_false(ts_store_err_transient(TS_ERR_CONFLICT));
	/* a failure of the store is counted for /metrics */
	uint64_t before = ts_store_errors();
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_begin(f->c, true, &f->e));
	ts_store_rollback(f->c);
	raw_exec(f->b, "DROP TABLE license_groups");
	struct ts_license_group *lgs = NULL;
	int n = 0;
	assert_int_not_equal(ts_store_license_group_list(f->c, f->a, ACCT, &lgs, &n, &f->e),
	                     TS_ERR_OK);
	assert_true(ts_store_errors() > before);
}

/* Only a missing schema table is "version 0"; any other failure is returned. */
static void test_schema_version_errors(void **state)
{
	struct fx *f = *state;
	int v = -1;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	raw_exec(f->b, "ALTER TABLE schema_version RENAME COLUMN version TO v");
	v = -1;
	assert_int_not_equal(ts_store_schema_version(f->c, &v, &f->e), TS_ERR_OK);
	assert_int_equal(v, 0);
	/* and so migrate refuses, rather than running every migration again */
	assert_int_not_equal(ts_store_migrate(f->c, &f->e), TS_ERR_OK);
	raw_exec(f->b, "ALTER TABLE schema_version RENAME COLUMN v TO version");
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
}

/* ---- two connections ------------------------------------------------------------------- */

struct worker {
	struct fx *f;
	int id;
	int won, lost, retried;
	ts_err failed;
	char why[TS_ERROR_MSG_MAX + 16];
	pthread_barrier_t *barrier;
};

typedef ts_err (*tx_body)(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                          struct ts_error *e);

struct runner {
	struct worker w;
	tx_body body;
	int rounds;
};

/* Runs body in a write transaction rounds times, with the retry loop callers use. */
static void *run_worker(void *arg)
{
	struct runner *r = arg;
	struct worker *w = &r->w;
	ts_store_conn_t *c = NULL;
	struct ts_error e = {0};
	if (ts_store_connect(w->f->s, &c, &e) != TS_ERR_OK) {
		w->failed = e.code;
		snprintf(w->why, sizeof w->why, "connect: %s", e.message);
		return NULL;
	}
	for (int round = 0; round < r->rounds && w->failed == TS_ERR_OK; round++) {
		int attempt = 0;
		ts_err rc;
		do {
			ts_arena_t *a = ts_arena_new();
			rc = ts_store_begin(c, true, &e);
			if (rc == TS_ERR_OK)
				rc = r->body(w, c, a, round, &e);
			if (rc == TS_ERR_OK)
				rc = ts_store_commit(c, &e);
			ts_arena_free(&a);
			if (rc == TS_ERR_RETRY)
				w->retried++;
		} while (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt));
		ts_store_rollback(c);
		if (rc == TS_ERR_PRECONDITION || rc == TS_ERR_CONFLICT) {
			w->lost++;
		} else if (rc != TS_ERR_OK) {
			w->failed = rc;
			snprintf(w->why, sizeof w->why, "%s", e.message);
		} else {
			w->won++;
		}
	}
	ts_store_disconnect(&c);
	return NULL;
}

static void run_workers(struct fx *f, int n, tx_body body, int rounds, struct runner *rs,
                        pthread_barrier_t *barrier)
{
	pthread_t t[THREADS];
	assert_true(n <= THREADS);
	for (int i = 0; i < n; i++) {
		rs[i] = (struct runner){
		        .w = {.f = f, .id = i, .barrier = barrier}, .body = body, .rounds = rounds};
		assert_int_equal(pthread_create(&t[i], NULL, run_worker, &rs[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++)
		if (rs[i].w.failed != TS_ERR_OK)
			fail_msg("%s: worker %d failed: %s: %s", f->b->name, i,
			         ts_err_name(rs[i].w.failed), rs[i].w.why);
}

/* Read the account's counter, add one, write the settings back (the settings merge's shape). */
static ts_err increment(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                        struct ts_error *e)
{
	(void)w;
	(void)round;
	struct ts_account acct;
	ts_err rc = ts_store_account_get_for_update(c, a, ACCT, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	long n = strtol(acct.settings + strlen("{\"n\":"), NULL, 10);
	acct.settings = ts_arena_printf(a, "{\"n\":%ld}", n + 1);
	return ts_store_account_update(c, &acct, e);
}

/* Lost update: THREADS connections read-modify-write one row; every increment is kept. */
static void test_concurrent_lost_update(void **state)
{
	struct fx *f = *state;
	struct ts_account a = mkacct(ACCT, "counter");
	a.settings = "{\"n\":0}";
	OK(ts_store_account_insert(f->c, &a, &f->e));
	struct runner rs[THREADS];
	run_workers(f, THREADS, increment, ROUNDS, rs, NULL);
	OK(ts_store_account_get(f->c, f->a, ACCT, &a, &f->e));
	char want[32];
	snprintf(want, sizeof want, "{\"n\":%d}", THREADS * ROUNDS);
	assert_string_equal(a.settings, want);
}

/* The SCIM PUT's shape: If-Match on the version read, then the next version. */
static ts_err put_if_match(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                           struct ts_error *e)
{
	(void)round;
	if (w->barrier != NULL)
		pthread_barrier_wait(w->barrier);
	struct ts_user_row u;
	ts_err rc = ts_store_user_get_for_update(c, a, ACCT, "u1", &u, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (u.version != 1) /* If-Match: W/"1" */
		return ts_error_set(e, TS_ERR_PRECONDITION, "test", "version %lld",
		                    (long long)u.version);
	u.version++;
	u.display_name = ts_arena_printf(a, "writer %d", w->id);
	return ts_store_user_update(c, &u, NULL, -1, e);
}

static void test_concurrent_if_match(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_user(f, "u1", "race@example.com", 1000);
	/* PostgreSQL: all read at once; SQLite's writer lock lets one in at a time */
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, THREADS);
	struct runner rs[THREADS];
	run_workers(f, THREADS, put_if_match, 1, rs, f->b->pg ? &barrier : NULL);
	pthread_barrier_destroy(&barrier);
	int won = 0, lost = 0;
	for (int i = 0; i < THREADS; i++) {
		won += rs[i].w.won;
		lost += rs[i].w.lost;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, THREADS - 1);
	struct ts_user_row u;
	OK(ts_store_user_get(f->c, f->a, ACCT, "u1", &u, &f->e));
	assert_int_equal(u.version, 2);
}

/* Every worker inserts the same userName / takes the same PIN / verifies the same domain. */
static ts_err insert_same_name(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                               struct ts_error *e)
{
	(void)round;
	if (w->barrier != NULL)
		pthread_barrier_wait(w->barrier);
	struct ts_user_row u = mkuser(ts_arena_printf(a, "w%d", w->id), "Same@Example.com");
	return ts_store_user_insert(c, &u, NULL, 0, e);
}

static ts_err take_same_pin(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                            struct ts_error *e)
{
	(void)round;
	if (w->barrier != NULL)
		pthread_barrier_wait(w->barrier);
	bool taken = false;
	ts_err rc = ts_store_dir_pin_taken(c, "5555555555", &taken, e);
	if (rc == TS_ERR_OK && taken)
		return ts_error_set(e, TS_ERR_CONFLICT, "test", "taken");
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_set_pin(c, ts_arena_printf(a, "p%d", w->id), "5555555555", 1,
		                               e);
	return rc;
}

static ts_err verify_same_domain(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                                 struct ts_error *e)
{
	(void)round;
	if (w->barrier != NULL)
		pthread_barrier_wait(w->barrier);
	struct ts_domain d;
	ts_err rc = ts_store_domain_get_for_update(c, a, ts_arena_printf(a, "acct-%d", w->id),
	                                           "same.example", &d, e);
	if (rc != TS_ERR_OK)
		return rc;
	d.status = "Verified";
	d.verified_ms = 9;
	return ts_store_domain_update(c, &d, e);
}

static void expect_one_winner(struct fx *f, tx_body body)
{
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, THREADS);
	struct runner rs[THREADS];
	run_workers(f, THREADS, body, 1, rs, f->b->pg ? &barrier : NULL);
	pthread_barrier_destroy(&barrier);
	int won = 0, lost = 0;
	for (int i = 0; i < THREADS; i++) {
		won += rs[i].w.won;
		lost += rs[i].w.lost;
	}
	if (won != 1 || lost != THREADS - 1)
		fail_msg("%s: %d won, %d lost (want 1 and %d)", f->b->name, won, lost, THREADS - 1);
}

static void test_concurrent_uniqueness(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	expect_one_winner(f, insert_same_name);
	int64_t n = 0;
	OK(ts_store_user_count(f->c, ACCT, &n, &f->e));
	assert_int_equal(n, 1);

	for (int i = 0; i < THREADS; i++) {
		char id[8], name[32];
		snprintf(id, sizeof id, "p%d", i);
		snprintf(name, sizeof name, "p%d@example.com", i);
		add_dir_user(f, id, name, NULL);
	}
	expect_one_winner(f, take_same_pin);

	for (int i = 0; i < THREADS; i++) {
		char acct[16];
		snprintf(acct, sizeof acct, "acct-%d", i);
		if (i != 1) /* ACCT is acct-1 */
			need_account(f, acct);
		struct ts_domain d = mkdomain(ts_arena_strdup(f->a, acct), "same.example", 1);
		OK(ts_store_domain_insert(f->c, &d, &f->e));
	}
	expect_one_winner(f, verify_same_domain);
	const char *owner = NULL;
	OK(ts_store_domain_verified_owner(f->c, f->a, "same.example", &owner, &f->e));
	assert_non_null(owner);
}

/* A session revoked on one connection is refused on another from its next transaction. */
static void test_concurrent_session_revoke(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_dir_user(f, "d1", "ann@example.com", NULL);
	struct ts_session s = {.session_id = "s1",
	                       .token_hash = "h1",
	                       .account_id = ACCT,
	                       .user_id = "d1",
	                       .kind = "browser",
	                       .created_ms = 1,
	                       .expires_ms = INT64_MAX / 2};
	OK(ts_store_session_insert(f->c, &s, &f->e));
	ts_store_conn_t *other = NULL;
	OK(ts_store_connect(f->s, &other, &f->e));
	struct ts_session got;
	OK(ts_store_begin(other, false, &f->e));
	OK(ts_store_session_by_hash(other, f->a, "h1", &got, &f->e));
	assert_int_equal(got.revoked_ms, 0);
	ts_store_rollback(other);
	int64_t changed = 0;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_session_revoke(f->c, "s1", 77, &changed, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(changed, 1);
	OK(ts_store_begin(other, false, &f->e));
	OK(ts_store_session_by_hash(other, f->a, "h1", &got, &f->e));
	ts_store_rollback(other);
	assert_int_equal(got.revoked_ms, 77);
	ts_store_disconnect(&other);
}

/*
 * One snapshot per read transaction: a count and a listing in one read
 * transaction agree though another connection inserts between them (on
 * PostgreSQL this needs REPEATABLE READ; at READ COMMITTED the page has the
 * new user and the count does not).
 */
static void test_read_snapshot(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_user(f, "u1", "a@example.com", 1000);
	ts_store_conn_t *other = NULL;
	OK(ts_store_connect(f->s, &other, &f->e));
	OK(ts_store_begin(f->c, false, &f->e));
	int64_t count = 0;
	OK(ts_store_user_count(f->c, ACCT, &count, &f->e));
	assert_int_equal(count, 1);
	OK(ts_store_begin(other, true, &f->e));
	struct ts_user_row u = mkuser("u2", "b@example.com");
	OK(ts_store_user_insert(other, &u, NULL, 0, &f->e));
	OK(ts_store_commit(other, &f->e));
	struct ts_user_row *list = NULL;
	int n = 0;
	OK(ts_store_user_list(f->c, f->a, ACCT, 0, 10, &list, &n, &f->e));
	assert_int_equal(n, count);
	ts_store_rollback(f->c);
	OK(ts_store_user_count(f->c, ACCT, &count, &f->e));
	assert_int_equal(count, 2); /* the next transaction sees it */
	/* a read transaction writes nothing (PostgreSQL: READ ONLY) */
	if (f->b->pg) {
		OK(ts_store_begin(f->c, false, &f->e));
		struct ts_user_row w = mkuser("u3", "c@example.com");
		assert_int_not_equal(ts_store_user_insert(f->c, &w, NULL, 0, &f->e), TS_ERR_OK);
		ts_store_rollback(f->c);
	}
	ts_store_disconnect(&other);
}

/*
 * Two transactions lock two rows in opposite orders: on PostgreSQL one of
 * them is chosen as the deadlock's victim (40P01, TS_ERR_RETRY) and runs
 * again; both increments are kept. SQLite's single writer cannot deadlock.
 */
static ts_err cross_lock(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                         struct ts_error *e)
{
	(void)round;
	const char *first = w->id == 0 ? "acct-a" : "acct-b";
	const char *second = w->id == 0 ? "acct-b" : "acct-a";
	struct ts_account x, y;
	ts_err rc = ts_store_account_get_for_update(c, a, first, &x, e);
	if (rc == TS_ERR_OK && w->barrier != NULL && w->retried == 0)
		pthread_barrier_wait(w->barrier); /* both hold their first row */
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, second, &y, e);
	if (rc == TS_ERR_OK) {
		x.name = ts_arena_printf(a, "%s+%d", x.name, w->id);
		rc = ts_store_account_update(c, &x, e);
	}
	return rc;
}

static void test_concurrent_deadlock_retried(void **state)
{
	struct fx *f = *state;
	need_account(f, "acct-a");
	need_account(f, "acct-b");
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, 2);
	struct runner rs[2];
	run_workers(f, 2, cross_lock, 1, rs, f->b->pg ? &barrier : NULL);
	pthread_barrier_destroy(&barrier);
	assert_int_equal(rs[0].w.won + rs[1].w.won, 2);
	if (f->b->pg)
		assert_int_equal(rs[0].w.retried + rs[1].w.retried, 1);
	struct ts_account x;
	OK(ts_store_account_get(f->c, f->a, "acct-a", &x, &f->e));
	assert_string_equal(x.name, "acct-a+0");
	OK(ts_store_account_get(f->c, f->a, "acct-b", &x, &f->e));
	assert_string_equal(x.name, "acct-b+1");
}

/*
 * A serialization failure (40001) is TS_ERR_RETRY and the transaction runs
 * again; past TS_STORE_TX_ATTEMPTS runs the caller gets it (a 503). Injected
 * with a trigger whose count survives the rollback (a sequence). SQLite's one
 * writer never fails so: nothing to inject there.
 */
static ts_err rename_acct(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                          struct ts_error *e)
{
	(void)round;
	struct ts_account x;
	ts_err rc = ts_store_account_get_for_update(c, a, ACCT, &x, e);
	if (rc == TS_ERR_OK) {
		x.name = ts_arena_printf(a, "renamed %d", w->id);
		rc = ts_store_account_update(c, &x, e);
	}
	return rc;
}

static void inject_serialization_failures(struct fx *f, int n)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "DROP TRIGGER IF EXISTS fail_accounts ON accounts; "
	         "DROP SEQUENCE IF EXISTS fail_seq; CREATE SEQUENCE fail_seq; "
	         "CREATE OR REPLACE FUNCTION fail_some() RETURNS trigger AS $$ BEGIN "
	         "IF nextval('fail_seq') <= %d THEN RAISE EXCEPTION 'injected' "
	         "USING ERRCODE = 'serialization_failure'; END IF; RETURN NEW; END $$ "
	         "LANGUAGE plpgsql; "
	         "CREATE TRIGGER fail_accounts BEFORE UPDATE ON accounts "
	         "FOR EACH ROW EXECUTE FUNCTION fail_some()",
	         n);
	raw_exec(f->b, sql);
}

static void test_serialization_failure_retried(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	if (!f->b->pg)
		return;
	inject_serialization_failures(f, TS_STORE_TX_ATTEMPTS - 1);
	struct runner rs[1];
	run_workers(f, 1, rename_acct, 1, rs, NULL);
	assert_int_equal(rs[0].w.won, 1);
	assert_int_equal(rs[0].w.retried, TS_STORE_TX_ATTEMPTS - 1);
	struct ts_account x;
	OK(ts_store_account_get(f->c, f->a, ACCT, &x, &f->e));
	assert_string_equal(x.name, "renamed 0");

	/* one failure more than the budget: the caller sees TS_ERR_RETRY (503) */
	inject_serialization_failures(f, TS_STORE_TX_ATTEMPTS);
	int attempt = 0, runs = 0;
	ts_err rc;
	do {
		runs++;
		OK(ts_store_begin(f->c, true, &f->e));
		struct worker w = {.f = f, .id = 1};
		rc = rename_acct(&w, f->c, f->a, 0, &f->e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(f->c, &f->e);
	} while (rc != TS_ERR_OK && ts_store_tx_retry(f->c, rc, &attempt));
	assert_int_equal(rc, TS_ERR_RETRY);
	assert_true(ts_store_err_transient(rc));
	assert_int_equal(runs, TS_STORE_TX_ATTEMPTS);
	assert_false(ts_store_in_tx(f->c));
	raw_exec(f->b, "DROP TRIGGER fail_accounts ON accounts");
}

/*
 * A connection lost inside a transaction (the server restarted, a proxy
 * dropped it): the statement fails with TS_ERR_RETRY, nothing of it is
 * stored, and the transaction run again reconnects first.
 */
static void test_connection_lost_retried(void **state)
{
	struct fx *f = *state;
	if (!f->b->pg)
		return;
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account a = mkacct("lost", "lost");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	/* this role's own sessions only: an autovacuum worker there is not ours to end */
	raw_exec(f->b, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	               "WHERE datname = current_database() AND pid <> pg_backend_pid() "
	               "AND usename = current_user");
	struct ts_account got;
	EXPECT(TS_ERR_RETRY, ts_store_account_get(f->c, f->a, "lost", &got, &f->e));
	int attempt = 0;
	assert_true(ts_store_tx_retry(f->c, TS_ERR_RETRY, &attempt));
	OK(ts_store_begin(f->c, true, &f->e)); /* reconnects */
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "lost", &got, &f->e));
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_account_get(f->c, f->a, "lost", &got, &f->e));
}

/*
 * A row held past the lock timeout (PostgreSQL lock_timeout, 55P03): the
 * waiter gets TS_ERR_UNAVAILABLE, a 503, and is not run again (it has waited
 * already). SQLite's writers in one process queue on a mutex instead; its
 * busy timeout bounds the wait for another process (the CLI).
 */
static void test_lock_timeout(void **state)
{
	struct fx *f = *state;
	if (!f->b->pg)
		return;
	need_account(f, ACCT);
	struct ts_store_options o = {.lock_timeout_ms = 200};
	ts_store_t *s2 = NULL;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_open(f->b->url, false, &o, &s2, &f->e));
	OK(ts_store_connect(s2, &c2, &f->e));
	struct ts_account x;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_get_for_update(f->c, f->a, ACCT, &x, &f->e));
	OK(ts_store_begin(c2, true, &f->e));
	int64_t t0 = ts_mono_ns();
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_account_get_for_update(c2, f->a, ACCT, &x, &f->e));
	assert_true(ts_mono_ns() - t0 < 5000000000LL);
	int attempt = 0;
	assert_false(ts_store_tx_retry(c2, TS_ERR_UNAVAILABLE, &attempt));
	ts_store_rollback(f->c);
	/* once the row is free the same read goes through */
	OK(ts_store_begin(c2, true, &f->e));
	OK(ts_store_account_get_for_update(c2, f->a, ACCT, &x, &f->e));
	ts_store_rollback(c2);
	ts_store_disconnect(&c2);
	ts_store_free(&s2);
}

/* A user's sessions revoked on one connection (LogoutUser, suspension). */
struct revoker {
	ts_store_conn_t *c;
	int64_t revoked;
	ts_err rc;
};

static void *revoke_user(void *arg)
{
	struct revoker *r = arg;
	struct ts_error e = {0};
	r->rc = ts_store_begin(r->c, true, &e);
	if (r->rc == TS_ERR_OK)
		r->rc = ts_store_session_revoke_user(r->c, "u-rev", 5000, &r->revoked, &e);
	if (r->rc == TS_ERR_OK)
		r->rc = ts_store_commit(r->c, &e);
	else
		ts_store_rollback(r->c);
	return NULL;
}

/*
 * A session being opened (a token grant, a sign-in) while the user's
 * sessions are revoked on another connection: the revocation waits for it
 * and revokes it too, so no session of the user outlives the revocation
 * (docs/oauth.md; at READ COMMITTED a waiting UPDATE would not see the new
 * row: store/sessions.c locks the user first). SQLite's one writer orders
 * the two anyway.
 */
static void test_revoke_waits_for_a_session_being_opened(void **state)
{
	struct fx *f = *state;
	if (!f->b->pg)
		return;
	need_account(f, ACCT);
	add_user(f, "u-rev", "rev@example.com", 1000);
	struct ts_session s = {.session_id = "s-rev",
	                       .token_hash = "h-rev",
	                       .account_id = ACCT,
	                       .user_id = "u-rev",
	                       .kind = "cli",
	                       .created_ms = 1000,
	                       .expires_ms = 100000};
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_session_insert(f->c, &s, &f->e));
	struct revoker r = {0};
	OK(ts_store_connect(f->s, &r.c, &f->e));
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, revoke_user, &r), 0);
	struct timespec pause = {0, 300 * 1000 * 1000}; /* the revocation is waiting by then */
	nanosleep(&pause, NULL);
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(pthread_join(t, NULL), 0);
	OK(r.rc);
	assert_int_equal(r.revoked, 1);
	struct ts_session got;
	OK(ts_store_session_by_hash(f->c, f->a, "h-rev", &got, &f->e));
	assert_int_equal(got.revoked_ms, 5000);
	ts_store_disconnect(&r.c);
}

/*
 * A member added while another transaction deletes that user: on PostgreSQL
 * the insert waits for the delete and then violates the foreign key (23503),
 * which is TS_ERR_RETRY; the run again reads the users afresh and adds none.
 * On SQLite the second write waits for the writer lock and reads afresh.
 */
struct deleter {
	struct fx *f;
	ts_err rc;
	pthread_barrier_t deleted; /* the delete is in, not committed */
};

static void *delete_slowly(void *arg)
{
	struct deleter *d = arg;
	ts_store_conn_t *c = NULL;
	struct ts_error e = {0};
	d->rc = ts_store_connect(d->f->s, &c, &e);
	if (d->rc == TS_ERR_OK)
		d->rc = ts_store_begin(c, true, &e);
	if (d->rc == TS_ERR_OK)
		d->rc = ts_store_user_delete(c, ACCT, "u1", &e);
	pthread_barrier_wait(&d->deleted);
	struct timespec pause = {0, 300 * 1000000L};
	nanosleep(&pause, NULL);
	if (d->rc == TS_ERR_OK)
		d->rc = ts_store_commit(c, &e);
	ts_store_disconnect(&c);
	return NULL;
}

static ts_err add_existing(struct worker *w, ts_store_conn_t *c, ts_arena_t *a, int round,
                           struct ts_error *e)
{
	(void)w;
	(void)round;
	const char **ids = NULL;
	int n = 0;
	ts_err rc = ts_store_users_existing(c, a, ACCT, "[\"u1\"]", &ids, &n, e);
	if (rc == TS_ERR_OK && n > 0)
		rc = ts_store_group_members_add(c, "g1", "[\"u1\"]", e);
	return rc;
}

static void test_concurrent_member_deleted(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	add_user(f, "u1", "gone@example.com", 1000);
	struct ts_group_row g = {.group_id = "g1",
	                         .account_id = ACCT,
	                         .display_name = "G",
	                         .resource = "{}",
	                         .version = 1,
	                         .created_ms = 1,
	                         .modified_ms = 1};
	OK(ts_store_group_insert(f->c, &g, &f->e));
	struct deleter d = {.f = f};
	pthread_barrier_init(&d.deleted, NULL, 2);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, delete_slowly, &d), 0);
	pthread_barrier_wait(&d.deleted);
	struct runner rs[1];
	run_workers(f, 1, add_existing, 1, rs, NULL);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&d.deleted);
	assert_int_equal(d.rc, TS_ERR_OK);
	assert_int_equal(rs[0].w.won, 1);
	if (f->b->pg)
		assert_int_equal(rs[0].w.retried, 1);
	struct ts_group_member *m = NULL;
	int n = -1;
	OK(ts_store_group_members(f->c, f->a, "g1", 10, &m, &n, &f->e));
	assert_int_equal(n, 0);
}

/*
 * An account deleted while a user is inserted into it, in either order: no user
 * is left without its account. On PostgreSQL users have no foreign key to
 * accounts (migration v11): the insert's account_ref and the delete's
 * ACCOUNT_HOLD take the same advisory lock instead.
 */
struct acct_racer {
	struct fx *f;
	bool delete_first; /* the delete is in (uncommitted) first, else the insert */
	ts_err rc;
	pthread_barrier_t in; /* the first transaction's write is in, not committed */
};

static ts_err insert_u9(ts_store_conn_t *c, struct ts_error *e)
{
	struct ts_user_row u = mkuser("u9", "late@example.com");
	struct ts_user_email em[] = {{"late@example.com", "work", true}};
	return ts_store_user_insert(c, &u, em, 1, e);
}

/* The first transaction: its write, the barrier, a pause, then COMMIT. */
static void *acct_first(void *arg)
{
	struct acct_racer *r = arg;
	ts_store_conn_t *c = NULL;
	struct ts_error e = {0};
	r->rc = ts_store_connect(r->f->s, &c, &e);
	if (r->rc == TS_ERR_OK)
		r->rc = ts_store_begin(c, true, &e);
	if (r->rc == TS_ERR_OK)
		r->rc = r->delete_first ? ts_store_account_delete(c, ACCT, &e) : insert_u9(c, &e);
	pthread_barrier_wait(&r->in);
	struct timespec pause = {0, 300 * 1000000L};
	nanosleep(&pause, NULL);
	if (r->rc == TS_ERR_OK)
		r->rc = ts_store_commit(c, &e);
	ts_store_rollback(c);
	ts_store_disconnect(&c);
	return NULL;
}

static void account_race(struct fx *f, bool delete_first)
{
	need_account(f, ACCT);
	add_user(f, "u1", "first@example.com", 1000);
	struct acct_racer r = {.f = f, .delete_first = delete_first};
	pthread_barrier_init(&r.in, NULL, 2);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, acct_first, &r), 0);
	pthread_barrier_wait(&r.in);
	ts_store_conn_t *c = NULL;
	OK(ts_store_connect(f->s, &c, &f->e));
	/* the second transaction waits for the first, then sees what it did */
	ts_err rc = ts_store_begin(c, true, &f->e);
	if (rc == TS_ERR_OK)
		rc = delete_first ? insert_u9(c, &f->e) : ts_store_account_delete(c, ACCT, &f->e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, &f->e);
	ts_store_rollback(c);
	ts_store_disconnect(&c);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&r.in);
	assert_int_equal(r.rc, TS_ERR_OK);
	/* the insert into a deleted account fails as the foreign key made it (retry, then gone) */
	if (delete_first)
		assert_int_not_equal(rc, TS_ERR_OK);
	else
		assert_int_equal(rc, TS_ERR_OK);
	struct ts_user_row u;
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, ACCT, "u9", &u, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_user_get(f->c, f->a, ACCT, "u1", &u, &f->e));
	const char **ids = NULL;
	int n = -1;
	OK(ts_store_users_existing(f->c, f->a, ACCT, "[\"u1\",\"u9\"]", &ids, &n, &f->e));
	assert_int_equal(n, 0);
	/* the users' addresses went with them: the address is free in a new account */
	need_account(f, ACCT);
	add_user(f, "u1", "first@example.com", 1000);
	OK(insert_u9(f->c, &f->e));
}

static void test_concurrent_account_deleted(void **state)
{
	account_race(*state, true);
}

static void test_concurrent_account_delete_waits(void **state)
{
	account_race(*state, false);
}

/* ---- the two groups -------------------------------------------------------------------- */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                                            \
	T(test_scim_users, b), T(test_scim_groups, b), T(test_apikeys, b), T(test_domains, b), \
	        T(test_dir_users, b), T(test_tx_helpers, b), T(test_schema_version_errors, b), \
	        T(test_concurrent_lost_update, b), T(test_concurrent_if_match, b),             \
	        T(test_concurrent_uniqueness, b), T(test_concurrent_session_revoke, b),        \
	        T(test_read_snapshot, b), T(test_concurrent_deadlock_retried, b),              \
	        T(test_serialization_failure_retried, b), T(test_connection_lost_retried, b),  \
	        T(test_lock_timeout, b), T(test_concurrent_member_deleted, b),                 \
	        T(test_revoke_waits_for_a_session_being_opened, b),                            \
	        T(test_concurrent_account_deleted, b), T(test_concurrent_account_delete_waits, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store directory contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
