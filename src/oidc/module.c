/*
 * The OIDC module (oidc.h): its routes, the request context and the
 * protocol's part of a sign-in's record (the audit event's parameters,
 * docs/oidc.md "Sign-in"); the record itself, the decision and the pages are
 * the shared sign-in layer's (login/login.h), the per-worker trust cache is
 * trust.c's.
 */
#include <string.h>

#include "core/json.h"
#include "directory/session.h"
#include "oidc/web.h"
#include "store/signins.h"

bool ts__oidc_begin(struct ts_http_req *req, struct ts_http_res *res, struct ts__oidc_ctx *ctx)
{
	ctx->cfg = ts_http_config(req, &ts__oidc_slot);
	bool usable = ctx->cfg != NULL && ctx->cfg->master_key != NULL;
	if (!ts_login_begin(req, res, TS_SESSION_ORIGIN_OIDC, usable ? ctx->cfg->base_url : NULL,
	                    usable, &ctx->login))
		return false;
	ctx->login.account_id = req->nparams > 0 ? req->params[0] : NULL;
	return true;
}

/* A claimed value as long as a sign-in attempt keeps it. */
static const char *cap(ts_arena_t *a, const char *s)
{
	return s != NULL ? ts_login_utf8_prefix(a, s, TS_STORE_SIGNIN_IDENTITY_MAX) : NULL;
}

struct ts_login_outcome ts__oidc_login_outcome(struct ts__oidc_ctx *ctx,
                                               const struct ts__oidc_outcome *o)
{
	ts_arena_t *a = ctx->login.req->arena;
	/* docs/oidc.md: the issuer, the subject and the identity, claimed or verified; never
	 * the code, a token or the client secret */
	json_t *params = ts_json_own(a, json_object());
	ts_json_set_str(params, "Issuer", cap(a, o->issuer));
	ts_json_set_str(params, "Subject", cap(a, o->subject));
	ts_json_set_str(params, "Identity", cap(a, o->identity));
	if (o->provider_error != NULL)
		ts_json_set_str(params, "ProviderError", o->provider_error);
	return (struct ts_login_outcome){.check = o->check,
	                                 .reason = o->reason,
	                                 .identity = o->identity,
	                                 .user_id = o->user_id,
	                                 .params = params};
}

void ts__oidc_refuse(struct ts__oidc_ctx *ctx, const struct ts__oidc_outcome *o)
{
	struct ts_login_outcome lo = ts__oidc_login_outcome(ctx, o);
	ts_login_refuse(&ctx->login, &lo);
}

#define ROUTE(m, path, fn)                                \
	{                                                 \
		m, "/auth" path, fn, 0, NULL, "oidc:" #fn \
	}
static const struct ts_http_route routes[] = {
        ROUTE("GET", "/oidc/callback", ts__oidc_callback_handle),
        ROUTE("GET", "/{}/oidc", ts__oidc_start_handle),
};

/* every /auth path answers its errors (no route, 413) as a page, not JSON */
static const struct ts_http_surface surface = {"/auth", ts_login_surface_error, NULL};

struct ts_http_module ts_oidc_module(struct ts_oidc_config *cfg)
{
	return (struct ts_http_module){.name = "oidc",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &ts__oidc_slot,
	                               .config = cfg};
}
