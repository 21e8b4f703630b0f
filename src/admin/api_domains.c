/*
 * Admin API: claimed domains (docs/product.md §1, §2; the Amazon Chime
 * administration guide, "Claim a Domain"). Checks
 * over DNS run on the verifier's thread, never here: AddDomain and
 * ?operation=verify make a check due and wake the verifier.
 */
#include <string.h>

#include "admin/internal.h"
#include "admin/render.h"
#include "core/json.h"
#include "directory/domain.h"
#include "directory/verifier.h"

static void kick(struct ts__admin_call *call)
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	if (cfg != NULL)
		ts_directory_verifier_kick(cfg->verifier);
}

static const char *domain_param(struct ts__admin_call *call)
{
	return call->req->params[1];
}

static ts_err add_domain(struct ts__admin_call *call, struct ts_error *e)
{
	const char *name = NULL;
	struct ts_domain d;
	ts_err rc = ts__admin_body_str(call, "DomainName", true, &name, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the Chime guide's AddDomain event names the domain among the request parameters */
	json_object_set_new(call->params, "DomainName", json_string(name));
	rc = ts_directory_domain_add(call->conn, call->a, call->account_id, name, &d, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response = json_pack("{s:o}", "Domain", ts_admin_domain_json(&d));
	call->status = 201;
	kick(call);
	return TS_ERR_OK;
}

static ts_err list_domains(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0;
	const char *after = NULL;
	struct ts_account acct;
	ts_err rc = ts__admin_paging(call, TS__ADMIN_PAGE_DEFAULT, TS__ADMIN_PAGE_MAX, &limit,
	                             &after, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get(call->conn, call->a, call->account_id, &acct, e);
	struct ts_domain *list = NULL;
	int n = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_list(call->conn, call->a, call->account_id, after, limit,
		                          &list, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_domain_json(&list[i]));
	call->response = json_pack("{s:o}", "Domains", arr);
	if (n == limit)
		json_object_set_new(
		        call->response, "NextToken",
		        json_string(ts__admin_next_token(call, list[n - 1].domain_name)));
	return TS_ERR_OK;
}

static ts_err get_domain(struct ts__admin_call *call, struct ts_error *e)
{
	char norm[TS_DOMAIN_NAME_MAX + 1];
	struct ts_domain d;
	ts_err rc = ts_directory_domain_check(domain_param(call), norm, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_get(call->conn, call->a, call->account_id, norm, &d, e);
	if (rc == TS_ERR_OK)
		call->response = json_pack("{s:o}", "Domain", ts_admin_domain_json(&d));
	return rc;
}

static ts_err verify_domain(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_domain d;
	ts_err rc = ts_directory_domain_recheck(call->conn, call->a, call->account_id,
	                                        domain_param(call), &d, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response = json_pack("{s:o}", "Domain", ts_admin_domain_json(&d));
	call->status = 202; /* the check runs on the verifier's thread, in a moment */
	kick(call);
	return TS_ERR_OK;
}

static ts_err delete_domain(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_domain_removal r;
	ts_err rc = ts_directory_domain_remove(call->conn, call->a, call->account_id,
	                                       domain_param(call), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->audit_response = ts_json_own(
	        call->a, json_pack("{s:i, s:i, s:i, s:i}", "UsersSignedOut", r.signed_out,
	                           "UsersDeleted", r.deleted, "UsersReleased", r.released,
	                           "UsersKeptSuspended", r.kept_suspended));
	call->status = 204;
	return TS_ERR_OK;
}

const struct ts__admin_op ts__admin_add_domain = {
        "tessera:AddDomain", "AddDomain", TS__RES_ACCOUNT, false, true, add_domain};
const struct ts__admin_op ts__admin_list_domains = {
        "tessera:ListDomains", "ListDomains", TS__RES_ACCOUNT, true, false, list_domains};
const struct ts__admin_op ts__admin_get_domain = {
        "tessera:GetDomain", "GetDomain", TS__RES_ACCOUNT, true, false, get_domain};
const struct ts__admin_op ts__admin_delete_domain = {
        "tessera:DeleteDomain", "DeleteDomain", TS__RES_ACCOUNT, false, false, delete_domain};
/* re-checking a claim is part of claiming it: the AddDomain permission */
const struct ts__admin_op ts__admin_verify_domain = {
        "tessera:AddDomain", "VerifyDomain", TS__RES_ACCOUNT, false, false, verify_domain};

const struct ts__admin_choice ts__admin_domain_post[] = {
        {"verify", &ts__admin_verify_domain},
        {NULL, NULL},
};
