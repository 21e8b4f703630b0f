/* Worker contexts, the route table, the master key file. */
#include "app/app.h"
#include "app/nodes.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/api.h"
#include "admin/keys.h"
#include "app/health.h"
#include "core/alloc.h"
#include "core/log.h"
#include "scim/apikey.h"
#include "scim/scim.h"

ts_err ts_app_worker_init(void *app, void **out, struct ts_error *e)
{
	struct ts_app *a = app;
	struct ts_app_worker *w = ts_calloc(1, sizeof *w);
	w->keys = ts_admin_key_cache_new();
	w->scim_keys = ts_scim_key_cache_new();
	*out = w;
	/* a store that is down now may be up later: ts_app_conn retries */
	return ts_store_connect(a->store, &w->conn, e);
}

void ts_app_worker_fini(void *app, void *worker)
{
	(void)app;
	struct ts_app_worker *w = worker;
	if (w == NULL)
		return;
	ts_store_disconnect(&w->conn);
	ts_admin_key_cache_free(&w->keys);
	ts_scim_key_cache_free(&w->scim_keys);
	ts_free(w);
}

ts_err ts_app_conn(struct ts_http_req *req, ts_store_conn_t **conn, struct ts_error *e)
{
	struct ts_app_worker *w = req->worker;
	struct ts_app *a = req->app;
	*conn = NULL;
	if (w == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "store used from an inline handler");
	if (w->conn == NULL) {
		ts_err rc = ts_store_connect(a->store, &w->conn, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	*conn = w->conn;
	return TS_ERR_OK;
}

const struct ts_http_route *ts_app_routes(int *n)
{
	static struct ts_http_route *table;
	static int count;
	if (table == NULL) {
		int na = 0, nh = 0, ns = 0;
		const struct ts_http_route *admin = ts_admin_api_routes(&na);
		const struct ts_http_route *health = ts_app_health_routes(&nh);
		const struct ts_http_route *scim = ts_scim_routes(&ns);
		table = ts_calloc((size_t)(na + nh + ns), sizeof *table);
		memcpy(table, health, sizeof *table * (size_t)nh);
		memcpy(table + nh, admin, sizeof *table * (size_t)na);
		memcpy(table + nh + na, scim, sizeof *table * (size_t)ns);
		count = na + nh + ns;
	}
	*n = count;
	return table;
}

const struct ts_http_surface *ts_app_surfaces(int *n)
{
	static const struct ts_http_surface surfaces[] = {
	        {"/scim/v2", ts_scim_error},
	};
	*n = (int)(sizeof surfaces / sizeof surfaces[0]);
	return surfaces;
}

ts_err ts_app_master_key_load(const char *path, bool create, unsigned char key[TS_MASTER_KEY_LEN],
                              bool *created, struct ts_error *e)
{
	*created = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return TS_FAIL(e, TS_ERR_IO, "cannot create master key file %s: %s", path,
			               strerror(errno));
		randombytes_buf(key, TS_MASTER_KEY_LEN);
		ssize_t w = write(fd, key, TS_MASTER_KEY_LEN);
		int synced = fsync(fd);
		close(fd);
		if (w != TS_MASTER_KEY_LEN || synced != 0) {
			unlink(path);
			return TS_FAIL(e, TS_ERR_IO, "cannot write master key file %s", path);
		}
		*created = true;
		return TS_ERR_OK;
	}
	if (fd < 0)
		return TS_FAIL(e, TS_ERR_IO, "cannot read master key file %s: %s", path,
		               strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size != TS_MASTER_KEY_LEN) {
		close(fd);
		return TS_FAIL(e, TS_ERR_IO, "master key file %s must hold exactly %d bytes", path,
		               TS_MASTER_KEY_LEN);
	}
	if ((st.st_mode & 077) != 0)
		ts_log(TS_LOG_WARN, "master key file is readable by others",
		       json_pack("{s:s}", "path", path));
	ssize_t r = read(fd, key, TS_MASTER_KEY_LEN);
	close(fd);
	if (r != TS_MASTER_KEY_LEN)
		return TS_FAIL(e, TS_ERR_IO, "cannot read master key file %s", path);
	return TS_ERR_OK;
}

const char *ts_app_metrics(void *app, ts_arena_t *arena)
{
	struct ts_app *a = app;
	return ts_arena_printf(arena,
	                       "# HELP tessera_store_errors_total Store operations that failed.\n"
	                       "# TYPE tessera_store_errors_total counter\n"
	                       "tessera_store_errors_total %llu\n"
	                       "# HELP tessera_nodes_live Nodes sharing the SCIM rate limit.\n"
	                       "# TYPE tessera_nodes_live gauge\n"
	                       "tessera_nodes_live %d\n",
	                       (unsigned long long)ts_store_errors(),
	                       ts_app_nodes_live(a != NULL ? a->nodes : NULL));
}
