/* The modules the server runs, the master key file, the application's metrics. */
#include "app/app.h"
#include "app/nodes.h"
#include "app/saml.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/health.h"
#include "core/log.h"

int ts_app_modules(struct ts_app *app, struct ts_http_module out[TS_APP_MODULES_MAX])
{
	struct ts_admin_config *admin = NULL;
	struct ts_scim_config *scim = NULL;
	struct ts_saml_config *saml = NULL;
	struct ts_portal_config *portal = NULL;
	struct ts_oidc_config *oidc = NULL;
	struct ts_oauth_config *oauth = NULL;
	if (app != NULL) {
		app->admin = (struct ts_admin_config){.master_key = app->master_key,
		                                      .verifier = app->verifier,
		                                      .base_url = app->base_url,
		                                      .saml_changed = ts_app_saml_kick,
		                                      .saml_changed_arg = app->saml};
		app->scim = (struct ts_scim_config){.base_url = app->base_url,
		                                    .throttle = app->scim_throttle};
		app->saml_web = (struct ts_saml_config){
		        .base_url = app->base_url_given ? app->base_url : NULL,
		        .master_key = app->master_key,
		        .throttle = app->signin_throttle};
		app->oidc_web = (struct ts_oidc_config){
		        .base_url = app->base_url_given ? app->base_url : NULL,
		        .master_key = app->master_key,
		        .throttle = app->signin_throttle};
		app->portal = (struct ts_portal_config){.base_url = app->base_url,
		                                        .master_key = app->master_key};
		app->oauth = (struct ts_oauth_config){.base_url = app->base_url,
		                                      .base_url_given = app->base_url_given,
		                                      .master_key = app->master_key,
		                                      .device_ttl_s = app->device_ttl_s,
		                                      .interval_s = app->device_interval_s,
		                                      .refresh_ttl_s = app->refresh_ttl_s,
		                                      .throttle = app->signin_throttle};
		oauth = &app->oauth;
		admin = &app->admin;
		scim = &app->scim;
		saml = &app->saml_web;
		portal = &app->portal;
		oidc = &app->oidc_web;
	}
	int n = 0;
	out[n++] = ts_app_health_module();
	out[n++] = ts_admin_module(admin);
	out[n++] = ts_scim_module(scim);
	out[n++] = ts_saml_module(saml);
	out[n++] = ts_oidc_module(oidc);
	out[n++] = ts_portal_module(portal);
	out[n++] = ts_oauth_module(oauth);
	return n;
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
	                       "tessera_nodes_live %d\n%s",
	                       (unsigned long long)ts_store_errors(),
	                       ts_app_nodes_live(a != NULL ? a->nodes : NULL),
	                       ts_app_saml_metrics(a != NULL ? a->saml : NULL, arena));
}
