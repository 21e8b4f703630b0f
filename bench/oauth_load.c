/*
 * oauth_load: prepares the workloads of bench/oauth_bench.sh in a Tessera
 * store, through the store's own functions, so that every row is what the
 * endpoints write: an account and a licensed user (a Team account: the
 * licence set by hand), PENDING device flows (RFC 8628 §3.2: as POST
 * /oauth/device_authorization stores them), APPROVED flows (as POST /device
 * leaves them) and REFRESH refresh tokens, each with the CLI session it was
 * issued with (as the token endpoint leaves them). It writes the token
 * requests, one form body per line, for bench/saml_post.c:
 *
 *   oauth_load DB PENDING ROUNDS APPROVED REFRESH OUTDIR
 *
 *   OUTDIR/poll     PENDING x ROUNDS device-code polls, cycling through the flows
 *   OUTDIR/grant    APPROVED device-code grants, one per flow (each yields tokens once)
 *   OUTDIR/refresh  REFRESH refresh grants, one per token (each rotates once)
 *
 * It skips HTTP: that is what the benchmark measures, not what it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "store/store.h"

#define LOAD_TX_ROWS 5000
#define LOAD_MAX 10000000
#define LOAD_ACCOUNT "bench-oauth"
#define LOAD_USER "bench-oauth-user"
#define LOAD_RANDOM 43
#define LOAD_TTL_MS (3600LL * 1000) /* the flows outlive the run */
#define LOAD_GRANT "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"

static int fail(const char *what, const struct ts_error *e)
{
	fprintf(stderr, "oauth_load: %s: %s\n", what, e->message);
	return 1;
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		perror(path);
	return f;
}

/*
 * A device flow (status pending, or approved by the user in a browser session
 * of its own, as each person approves in their own browser: a grant checks
 * and locks that session); its device code into code.
 */
static ts_err flow(ts_store_conn_t *c, ts_arena_t *a, const char *status, int64_t now, char *code,
                   struct ts_error *e)
{
	ts_random_token(code, LOAD_RANDOM);
	code[LOAD_RANDOM] = '\0';
	char hash[TS_SHA256_HEX_LEN + 1], user_code[9];
	ts_sha256_hex(code, LOAD_RANDOM, hash);
	ts_random_token(user_code, 8); /* unique enough: no one types these */
	user_code[8] = '\0';
	struct ts_store_oauth_device d = {.device_hash = hash,
	                                  .user_code = user_code,
	                                  .account_id = LOAD_ACCOUNT,
	                                  .client_id = "tessera-cli",
	                                  .client_info = "oauth_load",
	                                  .created_ms = now,
	                                  .expires_ms = now + LOAD_TTL_MS,
	                                  .interval_s = 1};
	ts_err rc = ts_store_oauth_device_insert(c, &d, e);
	int64_t changed = 0;
	const char *browser_token = NULL;
	struct ts_session browser;
	if (rc == TS_ERR_OK && strcmp(status, "approved") == 0)
		rc = ts_directory_session_create(c, a, LOAD_ACCOUNT, LOAD_USER, TS_SESSION_BROWSER,
		                                 LOAD_TTL_MS, TS_LICENSE_PRO, "oauth_load",
		                                 &browser_token, &browser, e);
	if (rc == TS_ERR_OK && strcmp(status, "approved") == 0)
		rc = ts_store_oauth_device_decide(c, user_code, status, LOAD_USER,
		                                  browser.session_id, now, &changed, e);
	return rc;
}

static ts_err refresh(ts_store_conn_t *c, ts_arena_t *a, int64_t now, long i, char *token,
                      struct ts_error *e)
{
	const char *access = NULL;
	struct ts_session s;
	struct ts_session_origin o = {.origin = TS_SESSION_ORIGIN_DEVICE};
	ts_err rc = ts_directory_session_create_from(c, a, LOAD_ACCOUNT, LOAD_USER, TS_SESSION_CLI,
	                                             LOAD_TTL_MS, TS_LICENSE_PRO, "tessera-cli", &o,
	                                             &access, &s, e);
	if (rc != TS_ERR_OK)
		return rc;
	memcpy(token, "tsr_", 4);
	ts_random_token(token + 4, LOAD_RANDOM);
	token[4 + LOAD_RANDOM] = '\0';
	char hash[TS_SHA256_HEX_LEN + 1], family[32];
	ts_sha256_hex(token, strlen(token), hash);
	snprintf(family, sizeof family, "bench-family-%ld", i);
	struct ts_store_oauth_refresh r = {.token_hash = hash,
	                                   .family_id = family,
	                                   .account_id = LOAD_ACCOUNT,
	                                   .user_id = LOAD_USER,
	                                   .client_id = "tessera-cli",
	                                   .session_id = s.session_id,
	                                   .created_ms = now,
	                                   .expires_ms = now + LOAD_TTL_MS};
	return ts_store_oauth_refresh_insert(c, &r, e);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: oauth_load DB PENDING ROUNDS APPROVED REFRESH OUTDIR\n");
		return 2;
	}
	long pending = strtol(argv[2], NULL, 10), rounds = strtol(argv[3], NULL, 10),
	     approved = strtol(argv[4], NULL, 10), nrefresh = strtol(argv[5], NULL, 10);
	if (pending < 1 || rounds < 1 || approved < 0 || nrefresh < 0 || pending > LOAD_MAX ||
	    approved > LOAD_MAX || nrefresh > LOAD_MAX || rounds > 1000) {
		fprintf(stderr, "oauth_load: counts out of range\n");
		return 2;
	}
	struct ts_error e = {0};
	ts_store_t *s = NULL;
	ts_store_conn_t *c = NULL;
	ts_arena_t *a = ts_arena_new();
	char(*codes)[LOAD_RANDOM + 1] = ts_calloc((size_t)pending, sizeof *codes);
	FILE *poll = open_out(argv[6], "poll"), *grant = open_out(argv[6], "grant"),
	     *ref = open_out(argv[6], "refresh");
	int status = 1;
	if (poll == NULL || grant == NULL || ref == NULL)
		goto done;
	struct ts_store_options so = {.durability = TS_DURABILITY_NORMAL};
	if (ts_store_open(argv[1], false, &so, &s, &e) != TS_ERR_OK ||
	    ts_store_connect(s, &c, &e) != TS_ERR_OK) {
		status = fail(argv[1], &e);
		goto done;
	}
	int64_t now = ts_now_ms(), t0 = ts_mono_ns();
	struct ts_account acct = {.account_id = LOAD_ACCOUNT,
	                          .name = "bench-oauth",
	                          .account_type = "Team",
	                          .status = "Active",
	                          .created_ms = now,
	                          .settings = "{}"};
	struct ts_user_row u = {.user_id = LOAD_USER,
	                        .account_id = LOAD_ACCOUNT,
	                        .user_name = "bench@oauth.example",
	                        .active = true,
	                        .license = "Pro",
	                        .resource = "{}",
	                        .version = 1,
	                        .created_ms = now,
	                        .modified_ms = now};
	if (ts_store_begin(c, true, &e) != TS_ERR_OK ||
	    ts_store_account_insert(c, &acct, &e) != TS_ERR_OK ||
	    ts_store_user_insert(c, &u, NULL, 0, &e) != TS_ERR_OK) {
		status = fail("account and user", &e);
		goto done;
	}
	long total = pending + approved + nrefresh;
	for (long i = 0; i < total; i++) {
		if (i > 0 && i % LOAD_TX_ROWS == 0) {
			ts_arena_free(&a);
			a = ts_arena_new();
			if (ts_store_commit(c, &e) != TS_ERR_OK ||
			    ts_store_begin(c, true, &e) != TS_ERR_OK) {
				status = fail("commit", &e);
				goto done;
			}
		}
		char code[LOAD_RANDOM + 8];
		ts_err rc;
		if (i < pending) {
			rc = flow(c, a, "pending", now, codes[i], &e);
		} else if (i < pending + approved) {
			rc = flow(c, a, "approved", now, code, &e);
			fprintf(grant, "grant_type=%s&device_code=%s&client_id=tessera-cli\n",
			        LOAD_GRANT, code);
		} else {
			rc = refresh(c, a, now, i, code, &e);
			fprintf(ref,
			        "grant_type=refresh_token&refresh_token=%s&client_id=tessera-cli\n",
			        code);
		}
		if (rc != TS_ERR_OK) {
			ts_store_rollback(c);
			status = fail("insert", &e);
			goto done;
		}
	}
	if (ts_store_commit(c, &e) != TS_ERR_OK) {
		status = fail("commit", &e);
		goto done;
	}
	for (long r = 0; r < rounds; r++)
		for (long i = 0; i < pending; i++)
			fprintf(poll, "grant_type=%s&device_code=%s&client_id=tessera-cli\n",
			        LOAD_GRANT, codes[i]);
	fprintf(stderr, "oauth_load: %ld pending, %ld approved, %ld refresh tokens in %.1f s\n",
	        pending, approved, nrefresh, (double)(ts_mono_ns() - t0) / 1e9);
	status = 0;
done:
	ts_arena_free(&a);
	if (poll != NULL)
		fclose(poll);
	if (grant != NULL)
		fclose(grant);
	if (ref != NULL)
		fclose(ref);
	ts_store_disconnect(&c);
	ts_store_free(&s);
	ts_free(codes);
	return status;
}
