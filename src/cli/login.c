/*
 * tessera login --start-url URL [--profile NAME] [--target ID|NAME]
 *               [--permission-set ID|NAME] [--no-browser]
 * tessera credentials [--profile NAME]
 *
 * The command line's sign-in, as `aws configure sso` does it for AWS
 * (SPEC §8, docs/cli-login.md): the start URL {base}/start/{AccountId} names
 * the server and the account; the server's authorization server metadata
 * (RFC 8414) names its endpoints; the device authorization grant (RFC 8628)
 * gives a user code the person confirms in a browser signed in at the
 * account's identity source, while this command polls the token endpoint;
 * /api/v1/me then lists the targets and permission sets the person may use,
 * one is chosen, and the profile and its tokens are written (cli/profile.h).
 * `credentials` turns a profile into short-lived credentials through
 * POST /api/v1/me/credentials, renewing the access token with the refresh
 * token once when it has expired or is refused, and prints them in the
 * shape a credential_process hook reads.
 *
 * Every call goes through the outbound client (http/client.h): https, or
 * http only to a loopback host; a POST or a call carrying a token never
 * follows a redirect. Tokens are never printed; everything the server says
 * that reaches the terminal goes through ts_cli_text.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/profile.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "http/client.h"
#include "http/url.h"

#define CLIENT_ID "tessera-cli" /* SPEC §8: the CLI is this public client */
#define START_PATH "/start/"
#define METADATA_PATH "/.well-known/oauth-authorization-server" /* RFC 8414 §3 */
#define ME_PATH "/api/v1/me"
#define CREDENTIALS_PATH "/api/v1/me/credentials"
#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code" /* RFC 8628 §3.4 */
#define GRANT_REFRESH "refresh_token"                               /* RFC 6749 §6 */
#define ACCOUNT_ID_MAX 128
#define DEVICE_CODE_MAX 1024
#define USER_CODE_MAX 64
#define INTERVAL_DEFAULT_S 5 /* RFC 8628 §3.2: "If no value is provided, clients MUST use 5" */
#define SLOW_DOWN_S 5        /* RFC 8628 §3.5: slow_down adds 5 seconds to the interval */
#define DEVICE_EXPIRY_MAX_S 86400 /* a code that claims to live longer is not believed */
#define TOKEN_EXPIRY_MAX_S (366 * 86400)
/*
 * An access token this close to its end is renewed before use, not after a
 * 401: credentials never outlive the session that asked for them
 * (docs/portal.md), so an access token in its last minutes would give
 * credentials of minutes. 15 minutes is the shortest SessionDuration.
 */
#define EXPIRY_MARGIN_MS (15 * 60 * TS_MS_PER_S)
#define CHOICES_MAX 1000 /* targets, or permission sets of one target */
#define CHOICE_LINE_MAX 32
#define AUTH_HEADER "Authorization: Bearer "
#define CREDENTIALS_VERSION 1 /* the credential_process shape's Version */

/* The server a start URL names. */
struct server {
	const char *base;                             /* origin: "https://id.example.com" */
	const char *account_id;                       /* of the start URL */
	const char *start_url;                        /* base + /start/ + account */
	const char *token_endpoint, *device_endpoint; /* RFC 8414, filled by discover() */
};

/* One call's answer: status, and the body when it is JSON (else NULL). */
struct answer {
	long status;
	json_t *json;
};

/* ---- calls ---- */

/*
 * An answer that asks to come back later: 429 (RFC 6585 §4), 502, 503 and 504
 * (RFC 9110 §15.6): a poll waits longer and goes on, as after a lost connection.
 */
static bool busy(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

static ts_err call(ts_arena_t *a, const char *method, const char *url, const char *body,
                   const char *content_type, const char *bearer, struct answer *out,
                   struct ts_error *e)
{
	*out = (struct answer){0};
	const char *headers[2] = {NULL, NULL};
	if (bearer != NULL)
		headers[0] = ts_arena_concat(a, AUTH_HEADER, bearer, NULL);
	struct ts_http_client_request r = {
	        .method = method,
	        .url = url,
	        .body = body,
	        .body_len = body ? strlen(body) : 0,
	        .content_type = content_type,
	        .headers = bearer ? headers : NULL,
	};
	struct ts_http_client_opts o = {.accept = "application/json"};
	struct ts_http_client_response res;
	ts_err rc = ts_http_client_do(a, &r, &o, &res, e);
	if (rc != TS_ERR_OK)
		return rc;
	out->status = res.status;
	json_t *j = NULL;
	if (res.len > 0 && ts_json_parse(res.body, res.len, NULL, a, &j, NULL) == TS_ERR_OK)
		out->json = j;
	return TS_ERR_OK;
}

/* "k1=v1&k2=v2..." (form-urlencoded, RFC 6749 appendix B) from NULL-ended name, value pairs. */
static const char *form(ts_arena_t *a, ...) __attribute__((sentinel));
static const char *form(ts_arena_t *a, ...)
{
	va_list ap;
	va_start(ap, a);
	const char *out = "";
	for (const char *k = va_arg(ap, const char *); k != NULL; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		out = ts_arena_concat(a, out, out[0] ? "&" : "", k, "=",
		                      ts_http_client_form_encode(a, v, strlen(v)), NULL);
	}
	va_end(ap);
	return out;
}

/* What a refusal said, for a message: the OAuth error (RFC 6749 §5.2) or the API's Message. */
static const char *said(ts_arena_t *a, const struct answer *ans)
{
	const char *err = ts_json_str(ans->json, "error");
	const char *desc = ts_json_str(ans->json, "error_description");
	const char *msg = ts_json_str(ans->json, "Message");
	if (err != NULL)
		return ts_arena_printf(a, "%s%s%s (HTTP %ld)", err, desc ? ": " : "",
		                       desc ? desc : "", ans->status);
	if (msg != NULL)
		return ts_arena_printf(a, "%s (HTTP %ld)", msg, ans->status);
	return ts_arena_printf(a, "HTTP %ld", ans->status);
}

/* An integer member; def when absent; false when present but not a positive integer <= max. */
static bool int_member(const json_t *j, const char *key, json_int_t def, json_int_t max,
                       json_int_t *out)
{
	const json_t *v = json_object_get(j, key);
	if (v == NULL) {
		*out = def;
		return def > 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > max)
		return false;
	*out = json_integer_value(v);
	return true;
}

/* A string member of at most max bytes, non-empty; NULL otherwise. */
static const char *str_member(const json_t *j, const char *key, size_t max)
{
	const char *s = ts_json_str(j, key);
	return s != NULL && s[0] != '\0' && strlen(s) <= max ? s : NULL;
}

/* ---- the server ---- */

static bool account_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * SPEC §8: the start URL is {base}/start/{AccountId}; one trailing '/' is
 * forgiven, nothing else may follow (no query, no fragment). The base is the
 * URL's origin as http/url.h writes it, so that it compares with the issuer.
 */
static ts_err start_url_parse(ts_arena_t *a, const char *url, struct server *s, struct ts_error *e)
{
	*s = (struct server){0};
	ts_err rc = ts_http_client_url_check(url, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *auth = strstr(url, "://");
	const char *path = auth ? strchr(auth + 3, '/') : NULL;
	if (path == NULL || strncmp(path, START_PATH, strlen(START_PATH)) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the start URL must look like https://HOST/start/ACCOUNT_ID");
	s->base = ts_http_origin_normalize(a, url, (size_t)(path - url));
	const char *id = path + strlen(START_PATH);
	size_t n = 0;
	while (account_char(id[n]))
		n++;
	if (s->base == NULL || n == 0 || n > ACCOUNT_ID_MAX ||
	    !(id[n] == '\0' || (id[n] == '/' && id[n + 1] == '\0')))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the start URL must look like https://HOST/start/ACCOUNT_ID");
	s->account_id = ts_arena_strndup(a, id, n);
	s->start_url = ts_arena_concat(a, s->base, START_PATH, s->account_id, NULL);
	return TS_ERR_OK;
}

/* url, when it is a URL of the server itself (base followed by a path); NULL otherwise. */
static const char *own_url(const struct server *s, const char *url)
{
	size_t n = strlen(s->base);
	if (url == NULL || strncmp(url, s->base, n) != 0 || url[n] != '/' ||
	    ts_http_client_url_check(url, NULL) != TS_ERR_OK)
		return NULL;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == TS_ASCII_DEL)
			return NULL;
	return url;
}

/*
 * RFC 8414 §3: the authorization server's metadata. §3.3: the issuer must
 * be the one the start URL named (the base), or the document is refused.
 * The endpoints must be on that origin too: tokens are sent to them.
 */
static ts_err discover(ts_arena_t *a, struct server *s, struct ts_error *e)
{
	struct answer ans;
	ts_err rc = call(a, "GET", ts_arena_concat(a, s->base, METADATA_PATH, NULL), NULL, NULL,
	                 NULL, &ans, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ans.status != 200 || !json_is_object(ans.json))
		return TS_FAIL(e, TS_ERR_UNAVAILABLE, "%s does not publish its metadata: %s",
		               s->base, said(a, &ans));
	const char *issuer = ts_json_str(ans.json, "issuer");
	if (issuer == NULL || strcmp(issuer, s->base) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the server's issuer is not %s (RFC 8414 §3.3): refused", s->base);
	s->device_endpoint = own_url(s, ts_json_str(ans.json, "device_authorization_endpoint"));
	s->token_endpoint = own_url(s, ts_json_str(ans.json, "token_endpoint"));
	if (s->device_endpoint == NULL || s->token_endpoint == NULL)
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "the server's metadata lacks a device authorization or token endpoint "
		        "of its own origin");
	return TS_ERR_OK;
}

/* ---- tokens ---- */

/* RFC 6749 §5.1: a token answer into t (keep_refresh: kept when the answer has none). */
static ts_err tokens_from(const struct answer *ans, const char *keep_refresh,
                          struct ts_cli_tokens *t, struct ts_error *e)
{
	const char *access = str_member(ans->json, "access_token", TS_HTTP_CLIENT_HEADER_MAX / 2);
	const char *type = ts_json_str(ans->json, "token_type");
	const char *refresh = str_member(ans->json, "refresh_token", TS_HTTP_CLIENT_HEADER_MAX / 2);
	json_int_t life = 0;
	/* RFC 6750 §1: "Bearer", its case not significant (RFC 6749 §5.1) */
	if (access == NULL || type == NULL || strcasecmp(type, "Bearer") != 0 ||
	    !int_member(ans->json, "expires_in", 0, TOKEN_EXPIRY_MAX_S, &life))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the token answer lacks a bearer access_token or its expires_in");
	*t = (struct ts_cli_tokens){
	        .access_token = access,
	        .refresh_token = refresh ? refresh : keep_refresh,
	        .expires_ms = ts_now_ms() + (int64_t)life * TS_MS_PER_S,
	};
	return TS_ERR_OK;
}

static void sleep_s(json_int_t s)
{
	struct timespec ts = {.tv_sec = (time_t)s}, rem;
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

/* Reaps the browser opener when it has ended (it is never waited for). */
static void reap(pid_t *browser)
{
	if (*browser > 0 && waitpid(*browser, NULL, WNOHANG) != 0)
		*browser = 0;
}

/*
 * A browser only where a person sits at a display (X11 or Wayland), never
 * through a shell: xdg-open gets the URL as its one argument, with no
 * terminal of ours (its output would mix with our prompt).
 */
static pid_t open_browser(const char *url)
{
	const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	if ((x == NULL || x[0] == '\0') && (w == NULL || w[0] == '\0'))
		return 0;
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return 0;
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"xdg-open", (char *)url, NULL};
	pid_t pid = 0;
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0)
		pid = 0;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/*
 * RFC 8628 §3.1-§3.5: the device authorization request, the code shown, and
 * the polls until the person approves, denies, or the code expires.
 */
static ts_err device_flow(ts_arena_t *a, const struct server *s, bool no_browser,
                          struct ts_cli_tokens *t, struct ts_error *e)
{
	struct answer ans;
	ts_err rc = call(a, "POST", s->device_endpoint,
	                 form(a, "client_id", CLIENT_ID, "start_url", s->start_url, NULL), NULL,
	                 NULL, &ans, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ans.status != 200 || !json_is_object(ans.json))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the device authorization was refused: %s",
		               said(a, &ans));
	/* RFC 8628 §3.2 */
	const char *device_code = str_member(ans.json, "device_code", DEVICE_CODE_MAX);
	const char *user_code = str_member(ans.json, "user_code", USER_CODE_MAX);
	const char *uri = own_url(s, ts_json_str(ans.json, "verification_uri"));
	const char *complete = own_url(s, ts_json_str(ans.json, "verification_uri_complete"));
	json_int_t expires_in = 0, interval = 0;
	if (device_code == NULL || user_code == NULL || uri == NULL ||
	    !int_member(ans.json, "expires_in", 0, DEVICE_EXPIRY_MAX_S, &expires_in) ||
	    !int_member(ans.json, "interval", INTERVAL_DEFAULT_S, DEVICE_EXPIRY_MAX_S, &interval))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the device authorization answer lacks device_code, user_code, "
		               "verification_uri of the server, expires_in or a valid interval");
	pid_t browser = no_browser ? 0 : open_browser(complete ? complete : uri);
	if (browser > 0)
		fputs("Attempting to automatically open the sign-in page in your default browser.\n"
		      "If the browser does not open or you wish to use a different device to "
		      "authorize this request, open the following URL:\n\n",
		      stderr);
	else
		fputs("Open the following URL in a browser, on this or any other device:\n\n",
		      stderr);
	fprintf(stderr, "%s\n\nThen enter the code:\n\n%s\n", ts_cli_text(a, uri),
	        ts_cli_text(a, user_code));
	if (complete != NULL)
		fprintf(stderr, "\nOr open this URL, which carries the code:\n\n%s\n",
		        ts_cli_text(a, complete));
	fputs("\nWaiting for the approval...\n", stderr);
	fflush(stderr);

	int64_t deadline = ts_mono_ns() + (int64_t)expires_in * TS_NS_PER_S;
	const char *body = form(a, "grant_type", GRANT_DEVICE, "device_code", device_code,
	                        "client_id", CLIENT_ID, NULL);
	for (;;) {
		/* RFC 8628 §3.5: no poll after the code has expired */
		if (ts_mono_ns() + (int64_t)interval * TS_NS_PER_S >= deadline) {
			rc = TS_FAIL(
			        e, TS_ERR_OAUTH_EXPIRED_TOKEN,
			        "the code expired before it was approved: run tessera login again");
			break;
		}
		sleep_s(interval);
		reap(&browser);
		struct ts_error ce = {0};
		rc = call(a, "POST", s->token_endpoint, body, NULL, NULL, &ans, &ce);
		if (rc == TS_ERR_UNAVAILABLE) {
			/* RFC 8628 §3.5: a connection timeout calls for exponential backoff */
			fprintf(stderr, "tessera: %s; trying again\n", ts_cli_text(a, ce.message));
			interval *= 2;
			continue;
		}
		if (rc != TS_ERR_OK) {
			*e = ce;
			break;
		}
		if (busy(ans.status)) { /* a node restarting, a database failing over: later */
			fprintf(stderr, "tessera: the server answered %ld; trying again\n",
			        (long)ans.status);
			interval *= 2;
			continue;
		}
		if (ans.status == 200) {
			rc = tokens_from(&ans, NULL, t, e);
			break;
		}
		const char *err = ts_json_str(ans.json, "error");
		if (err != NULL && strcmp(err, "authorization_pending") == 0)
			continue;
		if (err != NULL && strcmp(err, "slow_down") == 0) {
			interval += SLOW_DOWN_S; /* for the rest of this flow */
			continue;
		}
		if (err != NULL && strcmp(err, "access_denied") == 0)
			rc = TS_FAIL(e, TS_ERR_OAUTH_ACCESS_DENIED,
			             "the request was denied in the browser: nothing was saved");
		else if (err != NULL && strcmp(err, "expired_token") == 0)
			rc = TS_FAIL(
			        e, TS_ERR_OAUTH_EXPIRED_TOKEN,
			        "the code expired before it was approved: run tessera login again");
		else
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the token endpoint refused: %s",
			             said(a, &ans));
		break;
	}
	reap(&browser);
	return rc;
}

/* ---- choosing ---- */

/* What a choice is among: targets, or the permission sets of one. */
struct kind {
	const char *what;   /* "target" */
	const char *flag;   /* "--target" */
	const char *id_key; /* "TargetId" */
};

static const struct kind target_kind = {"target", "--target", "TargetId"};
static const struct kind pset_kind = {"permission set", "--permission-set", "PermissionSetId"};

static const char *id_of(const struct kind *k, const json_t *item)
{
	return ts_json_str(item, k->id_key);
}

static const char *name_of(const json_t *item)
{
	const char *n = ts_json_str(item, "Name");
	return n ? n : "";
}

/* A number 1..n read from stdin; 0 at its end. */
static size_t read_choice(const struct kind *k, size_t n)
{
	char line[CHOICE_LINE_MAX];
	for (;;) {
		fprintf(stderr, "Choose a %s [1-%zu]: ", k->what, n);
		fflush(stderr);
		if (fgets(line, sizeof line, stdin) == NULL)
			return 0;
		char *end = NULL;
		errno = 0;
		unsigned long v = strtoul(line, &end, 10);
		while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
			end++;
		if (errno == 0 && end != line && end && *end == '\0' && v >= 1 && v <= n)
			return (size_t)v;
		if (strchr(line, '\n') == NULL) {
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				continue; /* the rest of an overlong line */
		}
		fprintf(stderr, "Please answer with a number from 1 to %zu.\n", n);
	}
}

/*
 * Picks one of list (a JSON array of objects with k->id_key and Name): the
 * flag's value (an ID, else a unique name); else prefer (the profile's
 * earlier choice) when it is still offered; else the only one, saying so as
 * the AWS CLI does; else the person's answer on a terminal.
 */
static ts_err choose(ts_arena_t *a, const struct kind *k, const char *want, const char *prefer,
                     const json_t *list, const json_t **out, struct ts_error *e)
{
	size_t n = json_array_size(list);
	if (n == 0)
		return TS_FAIL(
		        e, TS_ERR_NOT_FOUND,
		        "no %s is available to you: ask your administrator for an assignment",
		        k->what);
	if (want != NULL) {
		const json_t *by_name = NULL;
		size_t names = 0;
		for (size_t i = 0; i < n; i++) {
			const json_t *it = json_array_get(list, i);
			if (strcmp(id_of(k, it), want) == 0) {
				*out = it;
				return TS_ERR_OK;
			}
			if (strcmp(name_of(it), want) == 0)
				by_name = it, names++;
		}
		if (names > 1)
			return TS_FAIL(e, TS_ERR_CONFLICT,
			               "several %ss are named %s: pass %s with the ID", k->what,
			               want, k->flag);
		if (names == 0)
			return TS_FAIL(e, TS_ERR_NOT_FOUND, "no %s %s is available to you", k->what,
			               want);
		*out = by_name;
		return TS_ERR_OK;
	}
	for (size_t i = 0; prefer != NULL && i < n; i++)
		if (strcmp(id_of(k, json_array_get(list, i)), prefer) == 0) {
			*out = json_array_get(list, i);
			fprintf(stderr, "Using the %s of the profile: %s (%s)\n", k->what,
			        ts_cli_text(a, name_of(*out)), ts_cli_text(a, id_of(k, *out)));
			return TS_ERR_OK;
		}
	if (n == 1) {
		*out = json_array_get(list, 0);
		fprintf(stderr, "The only %s available to you is: %s (%s)\nUsing the %s \"%s\"\n",
		        k->what, ts_cli_text(a, name_of(*out)), ts_cli_text(a, id_of(k, *out)),
		        k->what, ts_cli_text(a, name_of(*out)));
		return TS_ERR_OK;
	}
	if (!isatty(STDIN_FILENO))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%zu %ss are available to you and there is no terminal to ask on: "
		               "pass %s ID|NAME",
		               n, k->what, k->flag);
	fprintf(stderr, "There are %zu %ss available to you:\n", n, k->what);
	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(list, i);
		fprintf(stderr, "  %zu) %s (%s)\n", i + 1, ts_cli_text(a, name_of(it)),
		        ts_cli_text(a, id_of(k, it)));
	}
	size_t c = read_choice(k, n);
	if (c == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "no %s chosen: pass %s ID|NAME", k->what,
		               k->flag);
	*out = json_array_get(list, c - 1);
	return TS_ERR_OK;
}

/* list, when it is an array of at most CHOICES_MAX objects each with a string id_key. */
static bool list_ok(const struct kind *k, const json_t *list)
{
	if (!json_is_array(list) || json_array_size(list) > CHOICES_MAX)
		return false;
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *id = id_of(k, json_array_get(list, i));
		if (id == NULL || id[0] == '\0')
			return false;
	}
	return true;
}

/*
 * SPEC §8: GET /api/v1/me with the access token lists "Targets" (in "Me",
 * or beside it), each with its "PermissionSets". The account must be the
 * start URL's.
 */
static ts_err my_targets(ts_arena_t *a, const struct server *s, const char *access,
                         const json_t **targets, struct ts_error *e)
{
	struct answer ans;
	ts_err rc = call(a, "GET", ts_arena_concat(a, s->base, ME_PATH, NULL), NULL, NULL, access,
	                 &ans, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ans.status != 200 || !json_is_object(ans.json))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s refused: %s", ME_PATH, said(a, &ans));
	const json_t *me = json_object_get(ans.json, "Me");
	if (!json_is_object(me))
		me = ans.json;
	const char *account = ts_json_str(me, "AccountId");
	if (account != NULL && strcmp(account, s->account_id) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the server signed you in to another account than the start URL's");
	const json_t *list = json_object_get(me, "Targets");
	if (list == NULL)
		list = json_object_get(ans.json, "Targets");
	if (!list_ok(&target_kind, list))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has no valid Targets list", ME_PATH);
	*targets = list;
	return TS_ERR_OK;
}

/* ---- login ---- */

enum { L_START_URL, L_PROFILE, L_TARGET, L_PSET, L_NO_BROWSER, L__COUNT };
static const struct ts_config_option login_opts[L__COUNT] = {
        [L_START_URL] = {"start-url", NULL, false,
                         "https://HOST/start/ACCOUNT_ID (default: the profile's)"},
        [L_PROFILE] = {"profile", TS_CLI_PROFILE_DEFAULT, false, "the profile to write"},
        [L_TARGET] = {"target", NULL, false, "the target's ID or name (else chosen)"},
        [L_PSET] = {"permission-set", NULL, false, "the permission set's ID or name (else chosen)"},
        [L_NO_BROWSER] = {"no-browser", NULL, true, "never open a browser"},
};

static int login(ts_arena_t *a, const char **v)
{
	struct ts_error e = {0};
	const char *name = v[L_PROFILE];
	if (!ts_cli_profile_name_ok(name))
		return ts_cli_fail("login: --profile: 1 to %d letters, digits, '.', '_' or '-', "
		                   "starting with a letter or digit",
		                   TS_CLI_PROFILE_NAME_MAX);
	const char *dir = NULL;
	if (ts_cli_profile_dir(a, &dir, &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	/* an earlier profile of that name: its start URL and choices are the defaults */
	struct ts_cli_profile old;
	ts_err rc = ts_cli_profile_load(a, dir, name, &old, &e);
	if (rc != TS_ERR_OK && rc != TS_ERR_NOT_FOUND)
		return ts_cli_fail("login: %s", e.message);
	const char *start = v[L_START_URL] ? v[L_START_URL] : old.start_url;
	if (start == NULL)
		return ts_cli_fail("login: --start-url is required (profile %s has none)", name);
	bool same = old.start_url != NULL && strcmp(old.start_url, start) == 0;
	struct server s;
	if (start_url_parse(a, start, &s, &e) != TS_ERR_OK || discover(a, &s, &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	struct ts_cli_tokens t;
	if (device_flow(a, &s, v[L_NO_BROWSER] != NULL, &t, &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	fputs("Signed in.\n", stderr);
	const json_t *targets = NULL, *target = NULL, *pset = NULL;
	if (my_targets(a, &s, t.access_token, &targets, &e) != TS_ERR_OK ||
	    choose(a, &target_kind, v[L_TARGET], same ? old.target_id : NULL, targets, &target,
	           &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	const json_t *psets = json_object_get(target, "PermissionSets");
	if (!list_ok(&pset_kind, psets))
		return ts_cli_fail("login: the target has no valid PermissionSets list");
	if (choose(a, &pset_kind, v[L_PSET], same ? old.permission_set_id : NULL, psets, &pset,
	           &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	struct ts_cli_profile p = {
	        .name = name,
	        .start_url = s.start_url,
	        .account_id = s.account_id,
	        .target_id = id_of(&target_kind, target),
	        .permission_set_id = id_of(&pset_kind, pset),
	};
	/* the tokens first: a profile on disk always has tokens beside it */
	if (ts_cli_tokens_save(a, dir, name, &t, &e) != TS_ERR_OK ||
	    ts_cli_profile_save(a, dir, &p, &e) != TS_ERR_OK)
		return ts_cli_fail("login: %s", e.message);
	fprintf(stderr,
	        "Profile %s written to %s/%s.\n"
	        "To use this profile, specify the profile name using --profile, as shown:\n\n"
	        "tessera credentials --profile %s\n",
	        name, ts_cli_text(a, dir), TS_CLI_PROFILE_CONFIG_NAME, name);
	return 0;
}

int ts_cli_login(int argc, char **argv)
{
	ts_arena_t *a = ts_arena_new();
	const char *v[L__COUNT];
	int status = 2;
	if (ts_cli_flags("login", login_opts, L__COUNT, argc, argv, a, v))
		status = login(a, v);
	ts_arena_free(&a);
	return status;
}

/* ---- credentials ---- */

enum { C_PROFILE, C__COUNT };
static const struct ts_config_option cred_opts[C__COUNT] = {
        [C_PROFILE] = {"profile", TS_CLI_PROFILE_DEFAULT, false, "the profile (tessera login)"},
};

/*
 * RFC 6749 §6: a new access token from the refresh token, saved at once
 * (the server rotates the refresh token: the old one is spent).
 * TS_ERR_UNAUTHORIZED when the server will not renew it.
 */
static ts_err renew(ts_arena_t *a, struct server *s, const char *dir, const char *name,
                    struct ts_cli_tokens *t, struct ts_error *e)
{
	if (t->refresh_token == NULL)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "there is no refresh token");
	ts_err rc = s->token_endpoint ? TS_ERR_OK : discover(a, s, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct answer ans;
	rc = call(a, "POST", s->token_endpoint,
	          form(a, "grant_type", GRANT_REFRESH, "refresh_token", t->refresh_token,
	               "client_id", CLIENT_ID, NULL),
	          NULL, NULL, &ans, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ans.status == 400 || ans.status == 401)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "the server will not renew it: %s",
		               said(a, &ans));
	if (ans.status != 200)
		return TS_FAIL(e, TS_ERR_UNAVAILABLE, "the token endpoint failed: %s",
		               said(a, &ans));
	struct ts_cli_tokens fresh;
	rc = tokens_from(&ans, t->refresh_token, &fresh, e);
	if (rc == TS_ERR_OK)
		rc = ts_cli_tokens_save(a, dir, name, &fresh, e);
	if (rc == TS_ERR_OK)
		*t = fresh;
	return rc;
}

/*
 * renew, one process of the profile at a time (ts_cli_tokens_lock): under
 * the lock the tokens are read again, and when another process renewed them
 * meanwhile its tokens are taken instead of spending the refresh token again.
 */
static ts_err refresh(ts_arena_t *a, struct server *s, const char *dir, const char *name,
                      struct ts_cli_tokens *t, struct ts_error *e)
{
	int lock = -1;
	ts_err rc = ts_cli_tokens_lock(a, dir, name, &lock, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_cli_tokens now;
	rc = ts_cli_tokens_load(a, dir, name, &now, e);
	if (rc == TS_ERR_OK && now.refresh_token != NULL && t->refresh_token != NULL &&
	    strcmp(now.refresh_token, t->refresh_token) != 0 &&
	    now.expires_ms > ts_now_ms() + EXPIRY_MARGIN_MS)
		*t = now; /* renewed by another process a moment ago */
	else if (rc == TS_ERR_OK)
		rc = renew(a, s, dir, name, t, e);
	ts_cli_tokens_unlock(lock);
	return rc;
}

static int credentials(ts_arena_t *a, const char *name)
{
	struct ts_error e = {0};
	if (!ts_cli_profile_name_ok(name))
		return ts_cli_fail("credentials: --profile is not a valid profile name");
	const char *dir = NULL;
	struct ts_cli_profile p;
	if (ts_cli_profile_dir(a, &dir, &e) != TS_ERR_OK)
		return ts_cli_fail("credentials: %s", e.message);
	ts_err rc = ts_cli_profile_load(a, dir, name, &p, &e);
	if (rc == TS_ERR_NOT_FOUND)
		return ts_cli_fail("credentials: no profile %s: run: tessera login --profile %s "
		                   "--start-url URL",
		                   name, name);
	if (rc != TS_ERR_OK)
		return ts_cli_fail("credentials: %s", e.message);
	struct server s;
	if (p.start_url == NULL || p.target_id == NULL || p.permission_set_id == NULL)
		return ts_cli_fail("credentials: profile %s lacks start_url, target_id or "
		                   "permission_set_id: run: tessera login --profile %s",
		                   name, name);
	if (start_url_parse(a, p.start_url, &s, &e) != TS_ERR_OK)
		return ts_cli_fail("credentials: profile %s: %s", name, e.message);
	struct ts_cli_tokens t;
	rc = ts_cli_tokens_load(a, dir, name, &t, &e);
	if (rc == TS_ERR_NOT_FOUND)
		return ts_cli_fail("credentials: profile %s is not signed in: run: tessera login "
		                   "--profile %s",
		                   name, name);
	if (rc != TS_ERR_OK)
		return ts_cli_fail("credentials: %s", e.message);
	json_t *req = ts_json_own(a, json_object());
	ts_json_set_str(req, "TargetId", p.target_id);
	ts_json_set_str(req, "PermissionSetId", p.permission_set_id);
	const char *body = ts_json_dump(a, req, NULL);
	const char *url = ts_arena_concat(a, s.base, CREDENTIALS_PATH, NULL);
	/* an access token about to end is renewed first; one refused is renewed once */
	bool renewed = false;
	if (t.expires_ms <= ts_now_ms() + EXPIRY_MARGIN_MS) {
		rc = refresh(a, &s, dir, name, &t, &e);
		renewed = true;
	}
	struct answer ans = {0};
	if (rc == TS_ERR_OK)
		rc = call(a, "POST", url, body, "application/json", t.access_token, &ans, &e);
	if (rc == TS_ERR_OK && ans.status == 401 && !renewed) {
		rc = refresh(a, &s, dir, name, &t, &e);
		if (rc == TS_ERR_OK)
			rc = call(a, "POST", url, body, "application/json", t.access_token, &ans,
			          &e);
	}
	if (rc == TS_ERR_UNAUTHORIZED || (rc == TS_ERR_OK && ans.status == 401))
		return ts_cli_fail("credentials: the sign-in of profile %s has ended (%s): run: "
		                   "tessera login --profile %s",
		                   name, rc == TS_ERR_OK ? said(a, &ans) : e.message, name);
	if (rc != TS_ERR_OK)
		return ts_cli_fail("credentials: %s", e.message);
	if (ans.status == 403)
		return ts_cli_fail("credentials: profile %s may no longer use its target and "
		                   "permission set (%s): run: tessera login --profile %s to choose "
		                   "again",
		                   name, said(a, &ans), name);
	const json_t *cr = json_object_get(ans.json, "Credentials");
	const char *token = ts_json_str(cr, "Token");
	const char *expiration = ts_json_str(cr, "Expiration");
	int64_t exp_ms = 0;
	if (ans.status != 200 || token == NULL || expiration == NULL ||
	    !ts_time_parse(expiration, &exp_ms))
		return ts_cli_fail("credentials: %s", ans.status != 200
		                                              ? said(a, &ans)
		                                              : "the answer lacks Credentials");
	char iso[TS_ISO8601_LEN + 1];
	ts_time_iso(exp_ms, iso);
	ts_cli_print_json(json_pack(
	        "{s:i, s:s, s:s, s:o, s:o, s:o}", "Version", CREDENTIALS_VERSION, "Token", token,
	        "Expiration", iso, "AccountId",
	        ts_json_text(p.account_id ? p.account_id : s.account_id), "TargetId",
	        ts_json_text(p.target_id), "PermissionSetId", ts_json_text(p.permission_set_id)));
	return 0;
}

int ts_cli_credentials(int argc, char **argv)
{
	ts_arena_t *a = ts_arena_new();
	const char *v[C__COUNT];
	int status = 2;
	if (ts_cli_flags("credentials", cred_opts, C__COUNT, argc, argv, a, v))
		status = credentials(a, v[C_PROFILE]);
	ts_arena_free(&a);
	return status;
}
