/*
 * POST /saml/{AccountId}/acs: the Assertion Consumer Service (SAML Profiles
 * §4.1.4, HTTP-POST binding, Bindings §3.5). In order:
 *   1. the form (http/form.h: 256 KiB at most, one SAMLResponse);
 *   2. the response against the account's trust (response.h: every check
 *      of the XML, the signatures and the conditions), CPU only;
 *   3. an SP-initiated response that came without the browser's binding
 *      cookie gets the resubmit page (below), nothing consumed;
 *   4. one write transaction: the request it answers is taken (single use,
 *      this browser's: the cookie's hash compared in constant time) or,
 *      when unsolicited, the account must allow IdP-initiated sign-in; the
 *      assertion ID enters the replay cache until its NotOnOrAfter plus the
 *      skew, so that a replay is refused on every node; the directory
 *      decides (docs/product.md §4); when allowed the user is registered
 *      and a session opened; the audit event and the sign-in attempt are
 *      written. A refusal commits too (the request and the assertion stay
 *      used) but opens nothing;
 *   5. the answer: the session cookie and a 303 to RelayState (same-origin
 *      path or allow-listed origin, else /portal), the role chooser when
 *      the assertion offers several AWS roles, or the one refusal page.
 *
 * The resubmit page. The IdP's POST is cross-site: over http the binding
 * cookie is SameSite=Lax (browsers refuse None without Secure) and does not
 * come along. The page posts the same fields back to this URL from this
 * origin, plus resubmitted=1, so the cookie comes with the second POST.
 * Its script is a file of this origin (CSP script-src 'self'), with a
 * button for browsers without script. A resubmitted POST without the cookie
 * is refused (RequestUnknown), so the page cannot loop.
 */
#include <sodium.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "directory/signin_decide.h"
#include "directory/user.h"
#include "http/form.h"
#include "http/html.h"
#include "http/redirect.h"
#include "portal/portal.h"
#include "saml/web.h"
#include "saml/xml.h"
#include "store/saml.h"

/* The form fields of the POST binding (SAML Bindings §3.5.4) and of the resubmit page. */
#define F_RESPONSE "SAMLResponse"
#define F_RELAY "RelayState"
#define F_RESUBMITTED "resubmitted"

/* What the ACS learnt, across the passes of its transaction. */
struct acs {
	struct ts__saml_ctx *ctx;
	const struct ts__saml_trust *t;
	const struct ts_saml_assertion *as;
	const char *binding_hash; /* of the cookie; NULL without one */
	const char *form_relay;
	const char *roles_json; /* the AWS role pairs offered, for the session; NULL: none */
	/* the transaction's results */
	const char *relay; /* the RelayState to follow (the stored request's, else the form's) */
	struct ts_login_session session; /* when allowed */
};

static void resubmit_page(struct ts__saml_ctx *ctx, const struct ts__saml_trust *t,
                          const char *response, const char *relay)
{
	struct ts_http_req *req = ctx->login.req;
	struct ts_http_html h;
	ts_http_html_init(&h, req->arena);
	ts_http_html_page_begin(&h, "Signing in");
	ts_http_html_lit(&h, "<h1>Signing in</h1><form id=\"resubmit\" method=\"post\"");
	ts_http_html_url_attr(&h, "action",
	                      ts_arena_printf(req->arena, "/saml/%s/acs", ctx->login.account_id),
	                      NULL, 0);
	ts_http_html_lit(&h, "><input type=\"hidden\" name=\"" F_RESPONSE "\"");
	ts_http_html_attr(&h, "value", response);
	ts_http_html_lit(&h, ">");
	if (relay != NULL) {
		ts_http_html_lit(&h, "<input type=\"hidden\" name=\"" F_RELAY "\"");
		ts_http_html_attr(&h, "value", relay);
		ts_http_html_lit(&h, ">");
	}
	ts_http_html_lit(&h, "<input type=\"hidden\" name=\"" F_RESUBMITTED "\" value=\"1\">"
	                     "<noscript><button>Continue</button></noscript></form>"
	                     "<script src=\"" TS_SAML_RESUBMIT_JS "\"></script>");
	ts_http_html_page_end(&h);
	/* the ACS may answer the resubmitted form with a 303 to an allow-listed origin */
	ts_http_res_html_script(req, ctx->login.res, 200, &h, t->relay_allow, t->n_relay_allow);
}

/*
 * What the session stores of the roles must fit its limits (directory/session.h); checked
 * before the transaction, so that a refusal changes nothing. NULL when it fits, else why.
 */
static const char *roles_check(const struct ts_saml_assertion *as)
{
	if (as->n_roles > TS_SESSION_ROLES_MAX)
		return "more AWS roles than a session holds";
	for (size_t i = 0; i < as->n_roles; i++)
		if (strlen(as->roles[i].role_arn) > TS_SESSION_ARN_MAX ||
		    strlen(as->roles[i].provider_arn) > TS_SESSION_ARN_MAX)
			return "an AWS role ARN longer than IAM allows";
	/* STS AssumeRoleWithSAML: RoleSessionName is 2 to 64 characters */
	if (as->role_session_name != NULL &&
	    strlen(as->role_session_name) > TS_SESSION_ROLE_SESSION_NAME_MAX)
		return "RoleSessionName longer than STS allows";
	return NULL;
}

/* The role pairs offered, as the session keeps them: [{"RoleArn","ProviderArn"}]. */
static const char *roles_json(ts_arena_t *a, const struct ts_saml_assertion *as)
{
	if (as->n_roles == 0)
		return NULL;
	json_t *arr = ts_json_own(a, json_array());
	for (size_t i = 0; i < as->n_roles; i++) {
		json_t *o = json_object();
		ts_json_set_str(o, "RoleArn", as->roles[i].role_arn);
		ts_json_set_str(o, "ProviderArn", as->roles[i].provider_arn);
		json_array_append_new(arr, o);
	}
	return ts_json_dump(a, arr, NULL);
}

/*
 * The NameID a refused response claims, unverified: only so that its sign-in
 * attempt is found under that identity (the sign-in check shows an
 * administrator why a real attempt failed, an IdP still signing with SHA-1
 * say). NULL when it cannot be read (not base64, not XML, encrypted). Never
 * used to sign anyone in. The hardened parse of saml/xml.h, on refusals only.
 */
static const char *claimed_name_id(ts_arena_t *a, const char *b64, size_t len)
{
	unsigned char *bin = ts_arena_alloc(a, TS_SAML_RESPONSE_MAX);
	size_t n = 0;
	if (sodium_base642bin(bin, TS_SAML_RESPONSE_MAX, b64, len, " \t\r\n", &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return NULL;
	xmlDocPtr doc = NULL;
	struct ts_error e = {0};
	if (ts_saml_xml_parse(a, (const char *)bin, n, TS_SAML_RESPONSE_MAX, &doc, &e) != TS_ERR_OK)
		return NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!ts_saml_xml_is(root, TS_SAML_NS_PROTOCOL, "Response"))
		return NULL;
	xmlNodePtr node = ts_saml_xml_child(root, TS_SAML_NS_ASSERTION, "Assertion");
	if (node != NULL)
		node = ts_saml_xml_child(node, TS_SAML_NS_ASSERTION, "Subject");
	if (node != NULL)
		node = ts_saml_xml_child(node, TS_SAML_NS_ASSERTION, "NameID");
	return node != NULL ? ts_saml_xml_text(a, node) : NULL;
}

/* Step 4 (see the top of the file), in the open write transaction; o->check says a refusal. */
static ts_err decide(struct ts_login_ctx *lc, void *arg, struct ts_login_outcome *o,
                     struct ts_error *e)
{
	struct acs *x = arg;
	const struct ts_saml_assertion *as = x->as;
	ts_arena_t *a = lc->req->arena;
	x->relay = x->form_relay;
	x->session = (struct ts_login_session){0};
	ts_err rc;
	if (as->in_response_to != NULL) {
		/* SAML Profiles §4.1.4.3: InResponseTo names a request this SP issued, to this
		 * browser, not yet answered (federation-security.md §1, "InResponseTo") */
		struct ts_store_saml_request sr;
		bool found = false;
		rc = ts_store_saml_request_take(lc->conn, a, lc->account_id, as->in_response_to,
		                                lc->now_ms, &sr, &found, e);
		if (rc != TS_ERR_OK)
			return rc;
		if (!found || !ts_login_same_hash(sr.browser_hash, x->binding_hash)) {
			o->check = "RequestUnknown";
			o->reason = !found ? "no live request has this ID (never issued, used or "
			                     "expired)"
			                   : "the request was issued to another browser";
			return TS_ERR_OK;
		}
		if (sr.relay_state != NULL)
			x->relay =
			        sr.relay_state; /* what this SP was asked for, not what came back */
	} else if (!x->t->allow_idp_initiated) {
		o->check = "Unsolicited";
		o->reason = "IdP-initiated sign-in is not allowed for this account";
		return TS_ERR_OK;
	}
	/* SAML Profiles §4.1.4.5: a bearer assertion is used once; kept until it expires */
	int64_t skew = x->ctx->cfg->skew_ms > 0 ? x->ctx->cfg->skew_ms : TS_SAML_SKEW_DEFAULT_MS;
	bool fresh = false;
	rc = ts_store_saml_replay_record(lc->conn, lc->account_id, as->assertion_id,
	                                 as->not_on_or_after_ms + skew, lc->now_ms, &fresh, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!fresh) {
		o->check = "Replay";
		o->reason = "this assertion was consumed already";
		return TS_ERR_OK;
	}
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_SAML,
	                                 .identity = as->name_id,
	                                 .issuer = as->issuer,
	                                 .subject = as->name_id,
	                                 .roles = as->roles,
	                                 .n_roles = as->n_roles,
	                                 .role_session_name = as->role_session_name};
	/* one role is taken without asking; several wait for the chooser (role.c) */
	struct ts_session_origin origin = {
	        .roles_json = x->roles_json,
	        .role_arn = as->n_roles == 1 ? as->roles[0].role_arn : NULL,
	        .provider_arn = as->n_roles == 1 ? as->roles[0].provider_arn : NULL,
	        .role_session_name = as->role_session_name};
	return ts_login_decide(lc, &in, &origin, o, &x->session, e);
}

/* Steps 4 and 5: the transaction (retried as a whole), then the answer. */
static void finish(struct acs *x, const struct ts__saml_outcome *base)
{
	struct ts__saml_ctx *ctx = x->ctx;
	struct ts_login_outcome o = ts__saml_login_outcome(ctx, base);
	if (!ts_login_transact(&ctx->login, decide, x, &o))
		return;
	if (o.check != NULL) {
		ts_login_page_refused(ctx->login.req, ctx->login.res);
		return;
	}
	const char *target = ts__saml_relay_target(ctx->login.req->arena, x->relay,
	                                           x->t->relay_allow, x->t->n_relay_allow);
	if (x->as->n_roles > 1) {
		struct ts_error e = {0};
		ts_err rc = ts_login_cookie_set(&ctx->login, x->session.token, &e);
		if (rc != TS_ERR_OK) {
			ts_login_page_failed(ctx->login.req, ctx->login.res, rc, &e);
			return;
		}
		ts__saml_chooser(ctx, x->session.session_id, x->as->roles, x->as->n_roles, target);
		return;
	}
	ts_login_land(&ctx->login, x->session.token, target, x->t->relay_allow,
	              x->t->n_relay_allow);
}

void ts__saml_acs_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__saml_ctx ctx;
	if (!ts__saml_begin(req, res, &ctx) || !ts_login_admit(&ctx.login, ctx.cfg->throttle))
		return;
	struct acs x = {.ctx = &ctx};
	struct ts__saml_outcome o;
	struct ts_error e = {0};
	struct ts_http_form form;
	/* values may hold CR and LF: base64 wrapped in lines (as some IdPs send it), and a
	 * RelayState with a line break, which lands on /portal rather than being refused */
	struct ts_http_form_limits lim = TS_HTTP_FORM_LIMITS_DEFAULT;
	lim.multiline = true;
	ts_err rc = ts_http_form_from_req(req, &lim, &form, &e);
	if (rc == TS_ERR_TOO_LARGE) {
		ts_login_page(req, res, ts_err_status(TS_ERR_TOO_LARGE), "Sign-in failed",
		              "The sign-in message is too large.");
		return;
	}
	const char *response = NULL;
	if (rc == TS_ERR_OK)
		rc = ts_http_form_one(&form, F_RESPONSE, &response, &e);
	const char *resubmitted = NULL;
	if (rc == TS_ERR_OK)
		rc = ts_http_form_opt(&form, F_RELAY, &x.form_relay, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_form_opt(&form, F_RESUBMITTED, &resubmitted, &e);
	if (rc != TS_ERR_OK) {
		o = (struct ts__saml_outcome){.check = "Encoding", .reason = e.message};
		ts__saml_refuse(&ctx, &o);
		return;
	}
	rc = ts__saml_trust(&ctx, &x.t, &e);
	if (rc != TS_ERR_OK) {
		ts_login_page_failed(req, res, rc, &e);
		return;
	}
	if (x.t == NULL) {
		o = (struct ts__saml_outcome){.check = "NotConfigured",
		                              .reason = "the account has no SAML identity source"};
		ts__saml_refuse(&ctx, &o);
		return;
	}
	if (x.t->valid_until_ms != 0 && ctx.login.now_ms >= x.t->valid_until_ms) {
		/* SAML Metadata §2.3.2: past validUntil the IdP's keys are no longer to be trusted
		 */
		o = (struct ts__saml_outcome){.check = "MetadataExpired",
		                              .reason = "the IdP metadata's validUntil has passed",
		                              .idp_entity_id = x.t->idp_entity_id};
		ts__saml_refuse(&ctx, &o);
		return;
	}
	struct ts_saml_verify_config vc = {.sp_entity_id = x.t->sp_entity_id,
	                                   .acs_url = x.t->acs_url,
	                                   .idp_entity_id = x.t->idp_entity_id,
	                                   .idp_certs_pem = x.t->idp_certs,
	                                   .n_idp_certs = x.t->n_idp_certs,
	                                   .sp_keys_pem = x.t->sp_keys,
	                                   .n_sp_keys = x.t->n_sp_keys,
	                                   .allow_sha1 = x.t->allow_sha1,
	                                   .now_ms = ctx.login.now_ms,
	                                   .skew_ms = ctx.cfg->skew_ms};
	struct ts_saml_assertion as;
	enum ts_saml_check failed = TS_SAML_CHECK_NONE;
	rc = ts_saml_response_verify(req->arena, response, strlen(response), &vc, &as, &failed, &e);
	if (rc == TS_ERR_UNAUTHORIZED) {
		o = (struct ts__saml_outcome){
		        .check = ts_saml_check_name(failed),
		        .reason = e.message,
		        .idp_entity_id = x.t->idp_entity_id,
		        .name_id = claimed_name_id(req->arena, response, strlen(response))};
		ts__saml_refuse(&ctx, &o);
		return;
	}
	if (rc != TS_ERR_OK) {
		ts_login_page_failed(req, res, rc, &e);
		return;
	}
	x.as = &as;
	/* the replay cache keeps IDs of at most TS_STORE_SAML_ID_MAX bytes: a longer one could
	 * not be kept from a second use, so it is refused by that check */
	const char *why = strlen(as.assertion_id) > TS_STORE_SAML_ID_MAX
	                          ? "an assertion ID longer than the replay cache keeps"
	                          : NULL;
	const char *check = "Replay";
	if (why == NULL) {
		why = roles_check(&as);
		check = ts_saml_check_name(TS_SAML_CHECK_ATTRIBUTE);
	}
	if (why != NULL) {
		o = (struct ts__saml_outcome){.check = check,
		                              .reason = why,
		                              .idp_entity_id = as.issuer,
		                              .name_id = as.name_id,
		                              .assertion_id = as.assertion_id,
		                              .in_response_to = as.in_response_to};
		ts__saml_refuse(&ctx, &o);
		return;
	}
	x.roles_json = roles_json(req->arena, &as);
	x.binding_hash = ts_login_cookie_hash(&ctx.login, TS_SAML_BINDING_COOKIE);
	bool resubmit = resubmitted != NULL && strcmp(resubmitted, "1") == 0;
	if (as.in_response_to != NULL && x.binding_hash == NULL && !resubmit) {
		resubmit_page(&ctx, x.t, response, x.form_relay);
		return;
	}
	ts_store_write_soon(ctx.login.conn, true); /* lets the transaction join a group commit */
	o = (struct ts__saml_outcome){.idp_entity_id = as.issuer,
	                              .name_id = as.name_id,
	                              .assertion_id = as.assertion_id,
	                              .in_response_to = as.in_response_to};
	finish(&x, &o);
}
