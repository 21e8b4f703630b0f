/*
 * The store contract suite, access after sign-in (store/access.h), on
 * SQLite and on PostgreSQL: targets and permission sets (names unique in an
 * account, another tenant's ids not found, paging), assignments (references
 * checked inside the account, one per principal and pair), entitlements
 * through a user's own and group assignments (each pair once, in name order,
 * gone with the group membership), the cascades (a target or permission set
 * deleted with its assignments, a user, a group or an account taking
 * theirs), and two connections racing to make the same assignment
 * (docs/access.md).
 */
#include "store_helpers.h"

#include "store/access.h"

#define ACCT "acct-1"
#define OTHER "acct-2"
#define NOW 1700000000000

static void need_group(struct fx *f, const char *acct, const char *id, const char *members_json)
{
	struct ts_group_row g = {.group_id = id,
	                         .account_id = acct,
	                         .display_name = id,
	                         .resource = "{}",
	                         .version = 1,
	                         .created_ms = NOW,
	                         .modified_ms = NOW};
	OK(ts_store_group_insert(f->c, &g, &f->e));
	if (members_json != NULL)
		OK(ts_store_group_members_add(f->c, id, members_json, &f->e));
}

static void need_target(struct fx *f, const char *acct, const char *id, const char *name)
{
	struct ts_target t = {id,  acct, name, "AwsAccount", "https://console.example.com/",
	                      NOW, NOW};
	OK(ts_store_target_insert(f->c, &t, &f->e));
}

static void need_pset(struct fx *f, const char *acct, const char *id, const char *name)
{
	struct ts_permission_set p = {id,   acct, name, "[{\"Version\":\"2012-10-17\"}]",
	                              3600, NOW,  NOW};
	OK(ts_store_permission_set_insert(f->c, &p, &f->e));
}

static struct ts_assignment mkassign(const char *id, const char *type, const char *principal,
                                     const char *target, const char *pset)
{
	return (struct ts_assignment){id, ACCT, type, principal, target, pset, NOW};
}

/* ---- targets and permission sets ----------------------------------------------------------- */

static void test_targets(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	need_target(f, ACCT, "t1", "Production");
	need_target(f, OTHER, "t9", "Production"); /* a name is unique in its account only */
	struct ts_target dup = {"t2", ACCT, "Production", "App", "https://x.example/", NOW, NOW};
	EXPECT(TS_ERR_CONFLICT, ts_store_target_insert(f->c, &dup, &f->e));
	dup.name = "Staging";
	OK(ts_store_target_insert(f->c, &dup, &f->e));

	struct ts_target got;
	OK(ts_store_target_get(f->c, f->a, ACCT, "t1", &got, &f->e));
	assert_string_equal(got.name, "Production");
	assert_string_equal(got.kind, "AwsAccount");
	assert_string_equal(got.url, "https://console.example.com/");
	assert_int_equal(got.created_ms, NOW);
	/* another tenant's target is not found through this account */
	EXPECT(TS_ERR_NOT_FOUND, ts_store_target_get(f->c, f->a, ACCT, "t9", &got, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_target_get(f->c, f->a, OTHER, "t1", &got, &f->e));

	struct ts_target up = {"t1", ACCT, "Prod", "AwsAccount", "https://p.example/", 0, NOW + 5};
	OK(ts_store_target_update(f->c, &up, &f->e));
	OK(ts_store_target_get(f->c, f->a, ACCT, "t1", &got, &f->e));
	assert_string_equal(got.name, "Prod");
	assert_string_equal(got.url, "https://p.example/");
	assert_int_equal(got.created_ms, NOW);
	assert_int_equal(got.modified_ms, NOW + 5);
	up.name = "Staging";
	EXPECT(TS_ERR_CONFLICT, ts_store_target_update(f->c, &up, &f->e));
	up.account_id = OTHER;
	up.name = "Other";
	EXPECT(TS_ERR_NOT_FOUND, ts_store_target_update(f->c, &up, &f->e));

	/* pages by id, the account's only */
	struct ts_target *list = NULL;
	int n = 0;
	OK(ts_store_target_list(f->c, f->a, ACCT, NULL, 1, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].target_id, "t1");
	OK(ts_store_target_list(f->c, f->a, ACCT, list[0].target_id, 1, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].target_id, "t2");
	OK(ts_store_target_list(f->c, f->a, ACCT, "t2", 10, &list, &n, &f->e));
	assert_int_equal(n, 0);

	EXPECT(TS_ERR_NOT_FOUND, ts_store_target_delete(f->c, ACCT, "t9", NULL, &f->e));
	int64_t gone = -1;
	OK(ts_store_target_delete(f->c, ACCT, "t2", &gone, &f->e));
	assert_int_equal(gone, 0);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_target_get(f->c, f->a, ACCT, "t2", &got, &f->e));
}

static void test_permission_sets(void **state)
{
	struct fx *f = *state;
	need_account(f, ACCT);
	need_account(f, OTHER);
	need_pset(f, ACCT, "p1", "Admin");
	need_pset(f, OTHER, "p9", "Admin");
	struct ts_permission_set dup = {"p2", ACCT, "Admin", "[]", 900, NOW, NOW};
	EXPECT(TS_ERR_CONFLICT, ts_store_permission_set_insert(f->c, &dup, &f->e));
	struct ts_permission_set got;
	OK(ts_store_permission_set_get(f->c, f->a, ACCT, "p1", &got, &f->e));
	assert_string_equal(got.name, "Admin");
	assert_string_equal(got.policies_json, "[{\"Version\":\"2012-10-17\"}]");
	assert_int_equal(got.session_duration_s, 3600);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_permission_set_get(f->c, f->a, ACCT, "p9", &got, &f->e));
	struct ts_permission_set up = {"p1", ACCT, "ReadOnly", "[]", 7200, 0, NOW + 1};
	OK(ts_store_permission_set_update(f->c, &up, &f->e));
	OK(ts_store_permission_set_get(f->c, f->a, ACCT, "p1", &got, &f->e));
	assert_string_equal(got.name, "ReadOnly");
	assert_string_equal(got.policies_json, "[]");
	assert_int_equal(got.session_duration_s, 7200);
	assert_int_equal(got.created_ms, NOW);
	/* the schema refuses a duration that is not positive, whatever the caller checked */
	up.session_duration_s = 0;
	assert_int_not_equal(ts_store_permission_set_update(f->c, &up, &f->e), TS_ERR_OK);
	struct ts_permission_set *list = NULL;
	int n = 0;
	OK(ts_store_permission_set_list(f->c, f->a, ACCT, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].permission_set_id, "p1");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_permission_set_delete(f->c, ACCT, "p9", NULL, &f->e));
	OK(ts_store_permission_set_delete(f->c, ACCT, "p1", NULL, &f->e));
	OK(ts_store_permission_set_list(f->c, f->a, ACCT, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 0);
}

/* ---- assignments --------------------------------------------------------------------------- */

/* Two accounts with a user, a group, a target and a permission set each. */
static void two_tenants(struct fx *f)
{
	need_account(f, ACCT);
	need_account(f, OTHER);
	need_user(f, ACCT, "u1", "u1", NOW);
	need_user(f, ACCT, "u2", "u2", NOW);
	need_user(f, OTHER, "u9", "u9", NOW);
	need_group(f, ACCT, "g1", "[\"u1\"]");
	need_group(f, OTHER, "g9", "[\"u9\"]");
	need_target(f, ACCT, "t1", "Beta");
	need_target(f, ACCT, "t2", "Alpha");
	need_target(f, OTHER, "t9", "Other");
	need_pset(f, ACCT, "p1", "ReadOnly");
	need_pset(f, ACCT, "p2", "Admin");
	need_pset(f, OTHER, "p9", "Other");
}

static void test_assignment_references(void **state)
{
	struct fx *f = *state;
	two_tenants(f);
	struct ts_assignment as = mkassign("a1", "USER", "u1", "t1", "p1");
	OK(ts_store_assignment_insert(f->c, &as, &f->e));
	/* the same principal and pair again, under another id */
	as.assignment_id = "a2";
	EXPECT(TS_ERR_CONFLICT, ts_store_assignment_insert(f->c, &as, &f->e));
	/* another tenant's target, permission set, user or group: not found */
	struct ts_assignment bad[] = {
	        mkassign("b1", "USER", "u1", "t9", "p1"),
	        mkassign("b2", "USER", "u1", "t1", "p9"),
	        mkassign("b3", "USER", "u9", "t1", "p1"),
	        mkassign("b4", "GROUP", "g9", "t1", "p1"),
	        mkassign("b5", "GROUP", "u1", "t1", "p1"), /* a user named as a group */
	        mkassign("b6", "USER", "g1", "t1", "p1"),  /* and a group as a user */
	        mkassign("b7", "USER", "nobody", "t1", "p1"),
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++)
		EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_insert(f->c, &bad[i], &f->e));
	struct ts_assignment role = mkassign("b8", "ROLE", "u1", "t1", "p1");
	EXPECT(TS_ERR_BAD_REQUEST, ts_store_assignment_insert(f->c, &role, &f->e));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 1);

	struct ts_assignment got;
	OK(ts_store_assignment_get(f->c, f->a, ACCT, "a1", &got, &f->e));
	assert_string_equal(got.principal_type, "USER");
	assert_string_equal(got.principal_id, "u1");
	assert_string_equal(got.target_id, "t1");
	assert_string_equal(got.permission_set_id, "p1");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_get(f->c, f->a, OTHER, "a1", &got, &f->e));

	struct ts_assignment g = mkassign("a3", "GROUP", "g1", "t2", "p2");
	OK(ts_store_assignment_insert(f->c, &g, &f->e));
	struct ts_assignment *list = NULL;
	int n = 0;
	OK(ts_store_assignment_list(f->c, f->a, ACCT, NULL, NULL, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 2);
	OK(ts_store_assignment_list(f->c, f->a, ACCT, "t2", NULL, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].assignment_id, "a3");
	OK(ts_store_assignment_list(f->c, f->a, ACCT, NULL, "u1", NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].assignment_id, "a1");
	OK(ts_store_assignment_list(f->c, f->a, ACCT, NULL, NULL, "a1", 10, &list, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_assignment_list(f->c, f->a, OTHER, NULL, NULL, NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 0);

	/* an update moves it, with the insert's checks; the id and creation stay */
	struct ts_assignment mv = mkassign("a1", "GROUP", "g1", "t1", "p2");
	OK(ts_store_assignment_update(f->c, &mv, &f->e));
	OK(ts_store_assignment_get(f->c, f->a, ACCT, "a1", &got, &f->e));
	assert_string_equal(got.principal_type, "GROUP");
	assert_string_equal(got.principal_id, "g1");
	assert_string_equal(got.permission_set_id, "p2");
	assert_int_equal(got.created_ms, NOW);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments WHERE assignment_id = "
	                               "'a1' AND group_id = 'g1' AND user_id IS NULL"),
	                 1);
	mv.target_id = "t2"; /* onto a3's principal and pair */
	EXPECT(TS_ERR_CONFLICT, ts_store_assignment_update(f->c, &mv, &f->e));
	mv.target_id = "t9";
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_update(f->c, &mv, &f->e));
	mv = mkassign("a1", "USER", "u9", "t1", "p1");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_update(f->c, &mv, &f->e));
	mv = mkassign("zz", "USER", "u1", "t1", "p1");
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_update(f->c, &mv, &f->e));
	mv = mkassign("a1", "USER", "u1", "t1", "p1");
	mv.account_id = OTHER;
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_update(f->c, &mv, &f->e));
	mv.account_id = ACCT;
	OK(ts_store_assignment_update(f->c, &mv, &f->e)); /* back as it was */

	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_delete(f->c, OTHER, "a1", &f->e));
	OK(ts_store_assignment_delete(f->c, ACCT, "a1", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_assignment_delete(f->c, ACCT, "a1", &f->e));
}

/* ---- entitlements -------------------------------------------------------------------------- */

static void test_entitlements(void **state)
{
	struct fx *f = *state;
	two_tenants(f);
	struct ts_entitlement *list = NULL;
	size_t n = 99;
	OK(ts_store_access_entitlements(f->c, f->a, ACCT, "u1", &list, &n, &f->e));
	assert_int_equal(n, 0);
	/* u1 holds (Beta, ReadOnly) itself and through g1, (Alpha, Admin) through g1 only */
	struct ts_assignment as[] = {
	        mkassign("a1", "USER", "u1", "t1", "p1"),
	        mkassign("a2", "GROUP", "g1", "t1", "p1"),
	        mkassign("a3", "GROUP", "g1", "t2", "p2"),
	        mkassign("a4", "USER", "u2", "t2", "p1"),
	};
	for (size_t i = 0; i < N_ITEMS(as); i++)
		OK(ts_store_assignment_insert(f->c, &as[i], &f->e));
	OK(ts_store_access_entitlements(f->c, f->a, ACCT, "u1", &list, &n, &f->e));
	assert_int_equal(n, 2); /* the pair held twice is there once */
	assert_string_equal(list[0].target.name, "Alpha");
	assert_string_equal(list[0].permission_set.name, "Admin");
	assert_string_equal(list[0].target.url, "https://console.example.com/");
	assert_int_equal(list[0].permission_set.session_duration_s, 3600);
	assert_string_equal(list[1].target.name, "Beta");
	assert_string_equal(list[1].permission_set.name, "ReadOnly");
	assert_string_equal(list[1].permission_set.policies_json, "[{\"Version\":\"2012-10-17\"}]");
	/* ordered by target name, then permission set name */
	struct ts_assignment more = mkassign("a5", "USER", "u1", "t2", "p1");
	OK(ts_store_assignment_insert(f->c, &more, &f->e));
	OK(ts_store_access_entitlements(f->c, f->a, ACCT, "u1", &list, &n, &f->e));
	assert_int_equal(n, 3);
	assert_string_equal(list[0].target.target_id, "t2");
	assert_string_equal(list[0].permission_set.permission_set_id, "p2");
	assert_string_equal(list[1].target.target_id, "t2");
	assert_string_equal(list[1].permission_set.permission_set_id, "p1");
	assert_string_equal(list[2].target.target_id, "t1");

	struct ts_entitlement one;
	OK(ts_store_access_entitled(f->c, f->a, ACCT, "u1", "t2", "p2", &one, &f->e));
	assert_string_equal(one.target.name, "Alpha");
	assert_string_equal(one.permission_set.name, "Admin");
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_store_access_entitled(f->c, f->a, ACCT, "u2", "t2", "p2", &one, &f->e));
	/* through another account: nothing */
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_store_access_entitled(f->c, f->a, OTHER, "u1", "t2", "p2", &one, &f->e));
	OK(ts_store_access_entitlements(f->c, f->a, OTHER, "u1", &list, &n, &f->e));
	assert_int_equal(n, 0);

	/* both inside a caller's read transaction, as the portal and the token endpoint read */
	OK(ts_store_begin(f->c, false, &f->e));
	OK(ts_store_access_entitlements(f->c, f->a, ACCT, "u1", &list, &n, &f->e));
	assert_int_equal(n, 3);
	OK(ts_store_access_entitled(f->c, f->a, ACCT, "u1", "t1", "p1", &one, &f->e));
	ts_store_rollback(f->c);

	/* out of the group: what came through it only is gone at once */
	OK(ts_store_group_members_remove(f->c, "g1", "[\"u1\"]", &f->e));
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_store_access_entitled(f->c, f->a, ACCT, "u1", "t2", "p2", &one, &f->e));
	OK(ts_store_access_entitled(f->c, f->a, ACCT, "u1", "t1", "p1", &one, &f->e));
	OK(ts_store_access_entitlements(f->c, f->a, ACCT, "u1", &list, &n, &f->e));
	assert_int_equal(n, 2);
	/* an assignment removed: gone too */
	OK(ts_store_assignment_delete(f->c, ACCT, "a1", &f->e));
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_store_access_entitled(f->c, f->a, ACCT, "u1", "t1", "p1", &one, &f->e));
}

/* ---- cascades ------------------------------------------------------------------------------ */

static void test_cascades(void **state)
{
	struct fx *f = *state;
	two_tenants(f);
	need_group(f, ACCT, "g2", "[\"u2\"]");
	struct ts_assignment as[] = {
	        mkassign("a1", "USER", "u1", "t1", "p1"), mkassign("a2", "GROUP", "g1", "t1", "p2"),
	        mkassign("a3", "USER", "u2", "t2", "p1"), mkassign("a4", "GROUP", "g2", "t2", "p2"),
	        mkassign("a5", "USER", "u1", "t2", "p2"),
	};
	for (size_t i = 0; i < N_ITEMS(as); i++)
		OK(ts_store_assignment_insert(f->c, &as[i], &f->e));
	struct ts_assignment o = {"a9", OTHER, "USER", "u9", "t9", "p9", NOW};
	OK(ts_store_assignment_insert(f->c, &o, &f->e));

	/* a target's delete takes its assignments, in one transaction */
	int64_t gone = 0;
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_target_delete(f->c, ACCT, "t1", &gone, &f->e));
	ts_store_rollback(f->c); /* and a rollback keeps them all */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 6);
	OK(ts_store_target_delete(f->c, ACCT, "t1", &gone, &f->e));
	assert_int_equal(gone, 2);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments WHERE target_id = 't1'"),
	                 0);
	/* a permission set's */
	OK(ts_store_permission_set_delete(f->c, ACCT, "p1", &gone, &f->e));
	assert_int_equal(gone, 1); /* a3 */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 3);
	/* a group's (SCIM DELETE) and a user's */
	OK(ts_store_group_delete(f->c, ACCT, "g2", &f->e));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments WHERE group_id = 'g2'"),
	                 0);
	OK(ts_store_user_delete(f->c, ACCT, "u1", &f->e));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments WHERE user_id = 'u1'"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 1); /* a9 */
	/* an account's, with everything it had */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_delete(f->c, OTHER, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM targets WHERE account_id = 'acct-2'"),
	                 0);
	assert_int_equal(
	        count_rows(f, "SELECT count(*) FROM permission_sets WHERE account_id = 'acct-2'"),
	        0);
}

/* ---- two connections ----------------------------------------------------------------------- */

static ts_err insert_assignment(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                                struct ts_error *e)
{
	(void)a;
	(void)hit;
	return ts_store_assignment_insert(c, arg, e);
}

/* Racers, each on its own connection, making the same assignment (under ids of their own). */
static void test_same_assignment_concurrently(void **state)
{
	struct fx *f = *state;
	two_tenants(f);
	enum { RACERS = 4 };
	struct fx_racer r[RACERS];
	struct ts_assignment as[RACERS];
	char ids[RACERS][16];
	for (int i = 0; i < RACERS; i++) {
		snprintf(ids[i], sizeof ids[i], "r%d", i);
		as[i] = mkassign(ids[i], "GROUP", "g1", "t1", "p1");
		r[i] = (struct fx_racer){.step = insert_assignment, .arg = &as[i], .write = true};
	}
	fx_race(f, r, RACERS);
	fx_race_check(f, r, RACERS, TS_ERR_CONFLICT);
	assert_int_equal(fx_race_count(r, RACERS, TS_ERR_OK, false), 1);
	assert_int_equal(fx_race_count(r, RACERS, TS_ERR_CONFLICT, false), RACERS - 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 1);
}

static ts_err delete_target(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                            struct ts_error *e)
{
	(void)a;
	(void)hit;
	return ts_store_target_delete(c, ACCT, arg, NULL, e);
}

/* A target deleted while another connection assigns it: either the assignment was made
 * first and went with the target, or it was refused; never one left without its target. */
static void test_delete_while_assigning(void **state)
{
	struct fx *f = *state;
	two_tenants(f);
	enum { ROUNDS = 10 };
	for (int i = 0; i < ROUNDS; i++) {
		char tid[16], name[16], aid[40];
		snprintf(tid, sizeof tid, "race-%d", i);
		snprintf(name, sizeof name, "Race %d", i);
		snprintf(aid, sizeof aid, "as-%s", tid);
		need_target(f, ACCT, tid, name);
		struct ts_assignment as = mkassign(aid, "USER", "u1", tid, "p1");
		struct fx_racer r[2] = {{.step = insert_assignment, .arg = &as, .write = true},
		                        {.step = delete_target, .arg = tid, .write = true}};
		fx_race(f, r, 2);
		assert_int_equal(r[1].rc, TS_ERR_OK);
		assert_true(r[0].rc == TS_ERR_OK || r[0].rc == TS_ERR_NOT_FOUND);
	}
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM assignments a WHERE NOT EXISTS "
	                               "(SELECT 1 FROM targets t WHERE t.target_id = a.target_id)"),
	                 0);
}

/* ---- the two groups ------------------------------------------------------------------------ */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                                       \
	T(test_targets, b), T(test_permission_sets, b), T(test_assignment_references, b), \
	        T(test_entitlements, b), T(test_cascades, b),                             \
	        T(test_same_assignment_concurrently, b), T(test_delete_while_assigning, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store access contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
