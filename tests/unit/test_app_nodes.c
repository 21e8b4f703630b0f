/*
 * Unit tests of the node heartbeat (store/nodes.h, app/nodes.h) on a SQLite
 * store in a temp directory: who counts as live, forgetting silent nodes, a
 * clean leave, and the heartbeat thread feeding the SCIM throttle's share.
 * The store side runs on both backends in the contract suite (test_store.c)
 * and on PostgreSQL with two nodes in tests/integration/test_cluster.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/nodes.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "core/throttle.h"
#include "store/store.h"

#define PATH_MAX_LEN 256
#define WAIT_STEP_US 10000
#define WAIT_STEPS 300 /* 3 s */
#define T0_MS 1700000000000LL
#define RATE 100

struct fx {
	char dir[PATH_MAX_LEN / 2];
	char db[PATH_MAX_LEN];
	ts_store_t *s;
	ts_store_conn_t *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct ts_error e = {0};
	snprintf(f->dir, sizeof f->dir, "/tmp/ts-unit-nodes-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof f->db, "%s/store.db", f->dir);
	if (ts_store_open(f->db, true, NULL, &f->s, &e) != TS_ERR_OK ||
	    ts_store_connect(f->s, &f->c, &e) != TS_ERR_OK ||
	    ts_store_migrate(f->c, &e) != TS_ERR_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX_LEN + 16];
	ts_store_disconnect(&f->c);
	ts_store_free(&f->s);
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(path, sizeof path, "%s%s", f->db, suffix[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t beat(struct fx *f, const char *id, int64_t now, int64_t since)
{
	struct ts_error e = {0};
	int64_t live = -1;
	assert_int_equal(ts_store_node_beat(f->c, id, now, since, &live, &e), TS_ERR_OK);
	assert_false(ts_store_in_tx(f->c));
	return live;
}

static void test_live_count(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	assert_int_equal(beat(f, "a", T0_MS, T0_MS - 6000), 1);
	assert_int_equal(beat(f, "b", T0_MS + 1000, T0_MS + 1000 - 6000), 2);
	/* a beats again: still two rows, not three */
	assert_int_equal(beat(f, "a", T0_MS + 2000, T0_MS + 2000 - 6000), 2);
	/* b silent past the window: a counts alone */
	assert_int_equal(beat(f, "a", T0_MS + 8000, T0_MS + 8000 - 6000), 1);
	/* b comes back */
	assert_int_equal(beat(f, "b", T0_MS + 9000, T0_MS + 9000 - 6000), 2);
	/* a clean leave */
	assert_int_equal(ts_store_node_leave(f->c, "b", &e), TS_ERR_OK);
	assert_int_equal(beat(f, "a", T0_MS + 9500, T0_MS + 9500 - 6000), 1);
	/* rows silent for TS_STORE_NODE_FORGET_MS are deleted, not only left out */
	assert_int_equal(beat(f, "c", T0_MS + 9600, T0_MS), 2);
	int64_t later = T0_MS + 9600 + TS_STORE_NODE_FORGET_MS + 1;
	assert_int_equal(beat(f, "d", later, 0), 1); /* "since 0" would count every row kept */
}

static void test_heartbeat_thread_shares_the_limit(void **state)
{
	struct fx *f = *state;
	struct ts_app app = {0};
	app.store = f->s;
	app.scim_throttle = ts_throttle_new(RATE, RATE, TS_THROTTLE_SLOTS);
	/* another node, alive now */
	int64_t now = ts_now_ms();
	assert_int_equal(beat(f, "peer", now, now - TS_APP_NODE_LIVE_MS), 1);
	app.nodes = ts_app_nodes_start(&app);
	int i = 0;
	while (ts_throttle_nodes(app.scim_throttle) != 2 && i++ < WAIT_STEPS)
		usleep(WAIT_STEP_US);
	assert_int_equal(ts_throttle_nodes(app.scim_throttle), 2);
	assert_int_equal(ts_app_nodes_live(app.nodes), 2);
	/* the thread's node is in the store, and leaves it when stopped */
	now = ts_now_ms();
	assert_int_equal(beat(f, "peer", now, now - TS_APP_NODE_LIVE_MS), 2);
	ts_app_nodes_stop(&app.nodes);
	assert_null(app.nodes);
	now = ts_now_ms();
	assert_int_equal(beat(f, "peer", now, now - TS_APP_NODE_LIVE_MS), 1);
	assert_int_equal(ts_app_nodes_live(NULL), 1);
	ts_app_nodes_stop(&app.nodes); /* NULL is fine */
	ts_throttle_free(&app.scim_throttle);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_live_count, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_heartbeat_thread_shares_the_limit, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
