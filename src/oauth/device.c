/*
 * The person's side of the device flow (RFC 8628 §3.3, SPEC §8): /device,
 * where someone signed in (the portal's session cookie) enters or confirms a
 * user code, sees which client asked and when (RFC 8628 §5.4: remote
 * phishing), and approves or denies it with a form carrying the anti-CSRF
 * field (http/csrf.h). Guessing is bounded twice (RFC 8628 §5.1): a code
 * dies after TS__OAUTH_CODE_WRONG_MAX wrong entries against it (an entry of
 * it by someone of another account), and an address that enters
 * DEVICE_ADDR_LOCK_AT codes that do not exist within DEVICE_ADDR_WINDOW_MS
 * may enter none for DEVICE_ADDR_LOCK_MS (the address is the trusted-proxy
 * client address, an IPv6 client by its /64: ts_login_client_key; lookups
 * by someone not signed in count and lock apart, ANON_KEY_PREFIX). Every
 * decision and every wrong entry is a SignIn audit event (protocol
 * "device"); never the device code, and the user code only by its first
 * half.
 */
#include <sodium.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "http/cookie.h"
#include "http/csrf.h"
#include "http/form.h"
#include "http/html.h"
#include "http/redirect.h"
#include "login/login.h"
#include "oauth/internal.h"
#include "portal/portal.h"

/* SPEC §8: ten wrong codes from one address within 15 minutes lock it for 15 minutes. */
#define DEVICE_ADDR_LOCK_AT 10
#define DEVICE_ADDR_WINDOW_MS (15LL * 60 * 1000)
#define DEVICE_ADDR_LOCK_MS (15LL * 60 * 1000)
/* The per-address bucket of anonymous lookups (not signed in): its key's prefix. */
#define ANON_KEY_PREFIX "anon:"
/* RFC 8628 §5.1: five wrong entries against one code kill it. */
#define DEVICE_CODE_WRONG_MAX 5

/* Audit checks (docs/oauth.md): why an entry was refused. */
#define CHECK_UNKNOWN "DeviceCodeUnknown"
#define CHECK_ACCOUNT "DeviceCodeAccount"
#define CHECK_LOCKED "DeviceAddressLocked"
#define CHECK_DECIDED "DeviceCodeDecided"
#define CHECK_DENIED "DeviceDenied"

/* What one /device request found, then did. */
struct visit {
	struct ts_login_ctx ctx;
	const struct ts_oauth_config *cfg;
	bool signed_in;
	struct ts_session_info who;
	const char *entered;                    /* the user_code as sent; may be NULL */
	char code[TS__OAUTH_USER_CODE_LEN + 1]; /* normalised; "" when not a code */
	const char *decision;                   /* POST: "approve" | "deny"; GET: NULL */
	/* results */
	bool locked, unknown, other_account, decided;
	struct ts_store_oauth_device flow;
};

ts_err ts__oauth_decision_request(const struct ts_http_form *f, struct ts__oauth_decision *out,
                                  struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	const char *code = NULL, *decision = NULL;
	if (ts_http_form_one(f, "user_code", &code, e) != TS_ERR_OK ||
	    ts_http_form_one(f, "decision", &decision, e) != TS_ERR_OK ||
	    ts_http_form_opt(f, TS_HTTP_CSRF_FIELD, &out->csrf, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "user_code and decision are required once, the anti-CSRF field at "
		               "most once");
	if (strcmp(decision, "approve") != 0 && strcmp(decision, "deny") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "decision is approve or deny");
	out->approve = strcmp(decision, "approve") == 0;
	(void)ts__oauth_user_code_normalise(code,
	                                    out->code); /* "" when not a code: a wrong entry */
	return TS_ERR_OK;
}

/* The person's browser session (cookie only: a CLI token approves nothing). */
static void who(struct visit *v)
{
	struct ts_http_req *req = v->ctx.req;
	struct ts_error e = {0};
	struct ts_http_cookies jar;
	const char *token = NULL;
	if (ts_http_cookies_from_req(req, &jar, &e) != TS_ERR_OK ||
	    ts_http_cookie_get(
	            &jar, ts_http_cookie_name(req->arena, &v->ctx.base, TS_PORTAL_SESSION_COOKIE),
	            &token, &e) != TS_ERR_OK ||
	    token == NULL)
		return;
	v->signed_in = ts_directory_session_validate(v->ctx.conn, req->arena, token, v->ctx.now_ms,
	                                             &v->who, &e) == TS_ERR_OK &&
	               strcmp(v->who.session.kind, "browser") == 0;
}

static bool begin(struct ts_http_req *req, struct ts_http_res *res, struct visit *v)
{
	memset(v, 0, sizeof *v);
	v->cfg = ts__oauth_config(req);
	bool usable = v->cfg != NULL && v->cfg->base_url_given && v->cfg->master_key != NULL;
	if (!ts_login_begin(req, res, TS_SESSION_ORIGIN_DEVICE, usable ? v->cfg->base_url : NULL,
	                    usable, &v->ctx))
		return false;
	/* every entry may write (a counter, an audit event): the sign-in limit applies */
	if (!ts_login_admit(&v->ctx, v->cfg->throttle))
		return false;
	who(v);
	if (v->signed_in)
		v->ctx.account_id = v->who.session.account_id;
	return true;
}

/* The user code's first half, for the audit trail: enough to match a report, not to use. */
static const char *code_hint(ts_arena_t *a, const char *code)
{
	return code[0] != '\0' ? ts_arena_printf(a, "%.4s-****", code) : NULL;
}

/*
 * The entry's checks in the open write transaction: the address's lock, the
 * code's existence and life, its account, then (POST) the decision. Sets
 * o->check on a refusal and counts the wrong entries.
 */
static ts_err entry_step(struct ts_login_ctx *ctx, void *arg, struct ts_login_outcome *o,
                         struct ts_error *e)
{
	struct visit *v = arg;
	ts_arena_t *a = ctx->req->arena;
	/*
	 * Lookups by someone not signed in count in a bucket of their own, which
	 * locks only such lookups: cross-site <img> loads of /device?user_code=junk
	 * from an office's shared address must not lock code entry for the people
	 * signed in behind it (docs/oauth.md).
	 */
	const char *key = ts_login_client_key(a, ctx->req->peer);
	if (!v->signed_in)
		key = ts_arena_printf(a, "%s%s", ANON_KEY_PREFIX, key);
	struct ts_store_oauth_failures f;
	ts_err rc = ts_store_oauth_failures_get(ctx->conn, key, &f, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (f.locked_until_ms > ctx->now_ms) {
		v->locked = true;
		o->check = CHECK_LOCKED;
		o->reason = "too many wrong user codes from this address";
		return TS_ERR_OK;
	}
	bool found = false;
	if (v->code[0] != '\0')
		rc = ts_store_oauth_device_by_code(ctx->conn, a, v->code, &v->flow, &found, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* a dead code (expired, killed by wrong entries) is as good as none to a guesser */
	bool live = found && v->flow.expires_ms > ctx->now_ms &&
	            (strcmp(v->flow.status, TS_STORE_OAUTH_PENDING) == 0 ||
	             v->flow.wrong_entries < DEVICE_CODE_WRONG_MAX);
	if (!live) {
		v->unknown = true;
		o->check = CHECK_UNKNOWN;
		o->reason = "the user code matches no live device sign-in";
		return ts_store_oauth_failures_add(ctx->conn, key, ctx->now_ms, DEVICE_ADDR_LOCK_AT,
		                                   DEVICE_ADDR_WINDOW_MS, DEVICE_ADDR_LOCK_MS, &f,
		                                   e);
	}
	if (!v->signed_in) {
		ctx->account_id = v->flow.account_id;
		return TS_ERR_OK; /* the caller sends the person to sign in first */
	}
	if (strcmp(v->flow.account_id, v->who.session.account_id) != 0) {
		v->other_account = true;
		o->check = CHECK_ACCOUNT;
		o->reason = "the user code belongs to another account";
		int64_t wrong = 0;
		rc = ts_store_oauth_device_wrong(ctx->conn, v->code, DEVICE_CODE_WRONG_MAX, &wrong,
		                                 e);
		if (rc == TS_ERR_OK)
			rc = ts_store_oauth_failures_add(ctx->conn, key, ctx->now_ms,
			                                 DEVICE_ADDR_LOCK_AT, DEVICE_ADDR_WINDOW_MS,
			                                 DEVICE_ADDR_LOCK_MS, &f, e);
		return rc;
	}
	if (strcmp(v->flow.status, TS_STORE_OAUTH_PENDING) != 0) {
		v->decided = true; /* approved or denied once only */
		o->check = v->decision != NULL ? CHECK_DECIDED : NULL;
		o->reason = "the device sign-in was decided already";
		return TS_ERR_OK;
	}
	if (v->decision == NULL)
		return TS_ERR_OK;
	bool approve = strcmp(v->decision, "approve") == 0;
	int64_t changed = 0;
	rc = ts_store_oauth_device_decide(
	        ctx->conn, v->code, approve ? TS_STORE_OAUTH_APPROVED : TS_STORE_OAUTH_DENIED,
	        v->who.user.user_id, v->who.session.session_id, ctx->now_ms, &changed, e);
	if (rc == TS_ERR_OK && changed != 1) {
		v->decided = true;
		o->check = CHECK_DECIDED;
		o->reason = "the device sign-in was decided already";
	} else if (rc == TS_ERR_OK && !approve) {
		o->check = CHECK_DENIED;
		o->reason = "the person denied the device sign-in";
	}
	return rc;
}

/* entry_step afresh; the visit is recorded when something was decided or refused. */
static ts_err entry_run(struct ts_login_ctx *ctx, void *arg, struct ts_login_outcome *o,
                        struct ts_error *e)
{
	struct visit *v = arg;
	v->locked = v->unknown = v->other_account = v->decided = false;
	ts_err rc = entry_step(ctx, v, o, e);
	o->unrecorded = o->check == NULL && v->decision == NULL;
	if (rc == TS_ERR_OK && !o->unrecorded)
		ts_json_set_str(o->params, "ClientId", v->flow.client_id);
	return rc;
}

/* entry_run and its record in one write transaction, retried as a whole (ts_login_transact). */
static bool transact(struct visit *v, struct ts_login_outcome *o)
{
	ts_arena_t *a = v->ctx.req->arena;
	*o = (struct ts_login_outcome){.identity = v->signed_in ? v->who.user.user_name : NULL,
	                               .user_id = v->signed_in ? v->who.user.user_id : NULL,
	                               .params = ts_json_own(a, json_object())};
	ts_json_set_str(o->params, "UserCodeHint", code_hint(a, v->code));
	ts_json_set_str(o->params, "Decision", v->decision);
	return ts_login_transact(&v->ctx, entry_run, v, o);
}

static void page(struct visit *v, int status, const char *title, const char *text)
{
	ts_login_page(v->ctx.req, v->ctx.res, status, title, text);
}

/* The form that asks for a code (GET, so that it lands on the confirmation). */
static void entry_page(struct visit *v, int status, const char *note)
{
	struct ts_http_html h;
	ts_http_html_init(&h, v->ctx.req->arena);
	ts_http_html_page_begin(&h, "Sign in a device");
	ts_http_html_lit(&h, "<h1>Sign in a device</h1>");
	if (note != NULL) {
		ts_http_html_lit(&h, "<p class=\"error\">");
		ts_http_html_text(&h, note);
		ts_http_html_lit(&h, "</p>");
	}
	ts_http_html_lit(&h, "<p>Signed in as <strong>");
	ts_http_html_text(&h, v->who.user.user_name);
	ts_http_html_lit(&h, "</strong>. Enter the code your command line shows.</p>"
	                     "<form method=\"get\" action=\"/device\"><label>Code "
	                     "<input name=\"user_code\" autocomplete=\"off\" "
	                     "autocapitalize=\"characters\" maxlength=\"16\" "
	                     "placeholder=\"XXXX-XXXX\" required></label> "
	                     "<button type=\"submit\">Continue</button></form>");
	ts_http_html_page_end(&h);
	ts_http_res_html(v->ctx.req, v->ctx.res, status, &h);
}

/* RFC 8628 §5.4: who asked and when, then an explicit choice. */
static void confirm_page(struct visit *v)
{
	struct ts_http_req *req = v->ctx.req;
	unsigned char key[TS_HTTP_CSRF_KEY_LEN];
	ts_http_csrf_key(v->cfg->master_key, key);
	const char *csrf = ts_http_csrf_token(req->arena, key, v->who.session.session_id);
	sodium_memzero(key, sizeof key);
	char asked[TS_ISO8601_LEN + 1], ends[TS_ISO8601_LEN + 1];
	ts_time_iso(v->flow.created_ms, asked);
	ts_time_iso(v->flow.expires_ms, ends);
	struct ts_http_html h;
	ts_http_html_init(&h, req->arena);
	ts_http_html_page_begin(&h, "Approve a device sign-in");
	ts_http_html_lit(&h, "<h1>Approve a device sign-in?</h1><p>A device asks to sign in as "
	                     "<strong>");
	ts_http_html_text(&h, v->who.user.user_name);
	ts_http_html_lit(&h, "</strong> to <strong>");
	ts_http_html_text(&h, v->who.account.name);
	ts_http_html_lit(&h, "</strong>. Approve only if you started it yourself, just now.</p>"
	                     "<dl><dt>Code</dt><dd>");
	ts_http_html_text(&h, ts__oauth_user_code_display(req->arena, v->code));
	ts_http_html_lit(&h, "</dd><dt>Client</dt><dd>");
	ts_http_html_text(&h, v->flow.client_id);
	ts_http_html_lit(&h, "</dd><dt>Asked by</dt><dd>");
	ts_http_html_text(&h, v->flow.client_info);
	ts_http_html_lit(&h, "</dd><dt>Asked at</dt><dd>");
	ts_http_html_text(&h, asked);
	ts_http_html_lit(&h, "</dd><dt>Code expires</dt><dd>");
	ts_http_html_text(&h, ends);
	ts_http_html_lit(&h, "</dd></dl><form method=\"post\" action=\"/device\">"
	                     "<input type=\"hidden\" name=\"user_code\"");
	ts_http_html_attr(&h, "value", ts__oauth_user_code_display(req->arena, v->code));
	ts_http_html_lit(&h, "><input type=\"hidden\" name=\"" TS_HTTP_CSRF_FIELD "\"");
	ts_http_html_attr(&h, "value", csrf);
	ts_http_html_lit(&h, "><button type=\"submit\" name=\"decision\" value=\"approve\">Approve"
	                     "</button> <button type=\"submit\" name=\"decision\" value=\"deny\">"
	                     "Deny</button></form>");
	ts_http_html_page_end(&h);
	ts_http_res_html(req, v->ctx.res, 200, &h);
}

/* The answer to a refused entry (the same words whatever the code's fault, but the lock). */
static bool refused(struct visit *v)
{
	if (v->locked) {
		page(v, 429, "Too many wrong codes",
		     "Too many wrong codes came from your network. Try again in 15 minutes.");
		ts_http_res_header(v->ctx.res, "retry-after",
		                   ts_arena_printf(v->ctx.req->arena, "%lld",
		                                   (long long)(DEVICE_ADDR_LOCK_MS / 1000)));
		return true;
	}
	if (v->unknown || v->other_account) {
		if (v->signed_in)
			entry_page(v, 400, "That code is not valid, or it has expired.");
		else
			page(v, 400, "Code not valid",
			     "That code is not valid, or it has expired.");
		return true;
	}
	if (v->decided) {
		page(v, 409, "Already decided",
		     "This device sign-in was approved or denied already. Start a new one from "
		     "your command line.");
		return true;
	}
	return false;
}

/* RFC 3986 §2.1, §2.3: s percent-encoded but its unreserved characters, in arena a. */
static const char *pct_encode(ts_arena_t *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = ts_arena_alloc(a, 3 * strlen(s) + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Not signed in: to the account's start URL, and back here after (SPEC §8, contract). */
static void to_start(struct visit *v)
{
	struct ts_http_req *req = v->ctx.req;
	const char *back = ts_arena_printf(req->arena, "/device?user_code=%s",
	                                   ts__oauth_user_code_display(req->arena, v->code));
	const char *loc = ts_arena_printf(req->arena, "%s/start/%s?next=%s", v->ctx.base.origin,
	                                  v->flow.account_id, pct_encode(req->arena, back));
	ts_http_page_headers(req->arena, v->ctx.res, NULL);
	ts_http_res_set(v->ctx.res, 303, NULL, "", 0);
	ts_http_res_header(v->ctx.res, "location", loc);
}

void ts__oauth_device_page(struct ts_http_req *req, struct ts_http_res *res)
{
	struct visit v;
	if (!begin(req, res, &v))
		return;
	v.entered = ts_http_query(req, "user_code");
	if (v.entered == NULL || v.entered[0] == '\0') {
		if (v.signed_in)
			entry_page(&v, 200, NULL);
		else
			page(&v, 401, "Sign in first",
			     "Sign in through your organization's start URL first, then open this "
			     "page again with the code your command line shows.");
		return;
	}
	(void)ts__oauth_user_code_normalise(v.entered, v.code);
	struct ts_login_outcome o;
	if (!transact(&v, &o) || refused(&v))
		return;
	if (!v.signed_in)
		to_start(&v);
	else
		confirm_page(&v);
}

void ts__oauth_device_post(struct ts_http_req *req, struct ts_http_res *res)
{
	struct visit v;
	if (!begin(req, res, &v))
		return;
	if (!v.signed_in) {
		page(&v, 401, "Sign in first",
		     "Your sign-in has ended. Sign in through your organization's start URL, then "
		     "enter the code again.");
		return;
	}
	struct ts_http_form f;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS__OAUTH_FORM_LIMITS;
	struct ts__oauth_decision d;
	if (ts_http_form_from_req(req, &lim, &f, &e) != TS_ERR_OK ||
	    ts__oauth_decision_request(&f, &d, &e) != TS_ERR_OK) {
		page(&v, 400, "Not understood",
		     "The form was not understood. Enter the code again.");
		return;
	}
	v.decision = d.approve ? "approve" : "deny";
	memcpy(v.code, d.code, sizeof v.code);
	unsigned char key[TS_HTTP_CSRF_KEY_LEN];
	ts_http_csrf_key(v.cfg->master_key, key);
	ts_err rc = ts_http_csrf_check(req, &v.ctx.base, key, v.who.session.session_id, d.csrf, &e);
	sodium_memzero(key, sizeof key);
	if (rc != TS_ERR_OK) {
		page(&v, 403, "Not allowed",
		     "This form did not come from this page. Enter the code again.");
		return;
	}
	struct ts_login_outcome o;
	if (!transact(&v, &o) || refused(&v))
		return;
	bool approve = d.approve;
	page(&v, 200, approve ? "Device signed in" : "Device sign-in denied",
	     approve ? "Your command line is signed in. You can close this page."
	             : "The device was not signed in. You can close this page.");
}
