/*
 * The admin API's shape of a claimed domain (docs/product.md §2; Amazon Chime guide, "Claim a
 * Domain"), and the audit event of a status the domain verifier decided.
 */
#include <string.h>

#include "audit/event.h"
#include "admin/render.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "directory/domain.h"

json_t *ts_admin_domain_json(const struct ts_domain *d)
{
	char name[TS_DOMAIN_RECORD_NAME_MAX];
	ts_directory_domain_record_name(d->domain_name, name);
	json_t *j = json_pack("{s:o, s:o, s:{s:s, s:o, s:o}}", "DomainName",
	                      ts_json_text(d->domain_name), "DomainStatus", ts_json_text(d->status),
	                      "VerificationRecord", "Type", "TXT", "Name", ts_json_text(name),
	                      "Value", ts_json_text(d->token));
	if (d->verified_ms != 0) {
		char t[32];
		ts_time_iso(d->verified_ms, t);
		json_object_set_new(j, "VerifiedTimestamp", json_string(t));
	}
	if (d->last_error != NULL && strcmp(d->status, TS_DOMAIN_VERIFIED) != 0)
		/* quotes what a DNS server answered: not necessarily UTF-8 */
		json_object_set_new(j, "LastCheckError", ts_json_text(d->last_error));
	return j;
}

ts_err ts_admin_domain_verdict_audit(ts_store_conn_t *c, ts_arena_t *a, const struct ts_domain *d,
                                     struct ts_error *e)
{
	json_t *params = ts_json_own(a, json_pack("{s:s, s:s}", "AccountId", d->account_id,
	                                          "DomainName", d->domain_name));
	json_t *resp = ts_json_own(a, json_pack("{s:o}", "Domain", ts_admin_domain_json(d)));
	struct ts_audit_entry entry = {
	        .who = {.type = "Service", .principal_id = "domain-verifier"},
	        .event_source = TS_AUDIT_SOURCE_ADMIN,
	        .event_name = "UpdateDomainStatus",
	        .account_id = d->account_id,
	        .request_parameters = params,
	        .response_elements = resp,
	};
	return ts_audit_append(c, a, &entry, e);
}
