/*
 * The discovery endpoints (RFC 7644 §4, RFC 7643 §5-7): what this service
 * provider supports, its resource types, and the schemas with their
 * attribute characteristics. Enum values are camelCase and null properties
 * are left out (item 48).
 */
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "scim/internal.h"

struct attr {
	const char *name;
	const char *type;
	bool multi, required, case_exact;
	const char *mutability; /* readWrite, readOnly, immutable, writeOnly */
	const char *returned;   /* default, always, never, request */
	const char *uniqueness; /* none, server */
	const struct attr *subs;
};

#define A(n, t, m, r, c, mu, re, u)            \
	{                                      \
		n, t, m, r, c, mu, re, u, NULL \
	}
#define SUBS_END                                                        \
	{                                                               \
		NULL, NULL, false, false, false, NULL, NULL, NULL, NULL \
	}

static const struct attr name_subs[] = {
        A("formatted", "string", false, false, false, "readWrite", "default", "none"),
        A("familyName", "string", false, false, false, "readWrite", "default", "none"),
        A("givenName", "string", false, false, false, "readWrite", "default", "none"),
        A("middleName", "string", false, false, false, "readWrite", "default", "none"),
        A("honorificPrefix", "string", false, false, false, "readWrite", "default", "none"),
        A("honorificSuffix", "string", false, false, false, "readWrite", "default", "none"),
        SUBS_END};
static const struct attr multi_subs[] = {
        A("value", "string", false, false, false, "readWrite", "default", "none"),
        A("display", "string", false, false, false, "readWrite", "default", "none"),
        A("type", "string", false, false, false, "readWrite", "default", "none"),
        A("primary", "boolean", false, false, false, "readWrite", "default", "none"), SUBS_END};
static const struct attr address_subs[] = {
        A("formatted", "string", false, false, false, "readWrite", "default", "none"),
        A("streetAddress", "string", false, false, false, "readWrite", "default", "none"),
        A("locality", "string", false, false, false, "readWrite", "default", "none"),
        A("region", "string", false, false, false, "readWrite", "default", "none"),
        A("postalCode", "string", false, false, false, "readWrite", "default", "none"),
        A("country", "string", false, false, false, "readWrite", "default", "none"),
        A("type", "string", false, false, false, "readWrite", "default", "none"),
        A("primary", "boolean", false, false, false, "readWrite", "default", "none"),
        SUBS_END};
static const struct attr ref_subs[] = {
        A("value", "string", false, false, true, "readOnly", "default", "none"),
        A("$ref", "reference", false, false, true, "readOnly", "default", "none"),
        A("display", "string", false, false, false, "readOnly", "default", "none"),
        A("type", "string", false, false, false, "readOnly", "default", "none"), SUBS_END};
static const struct attr member_subs[] = {
        A("value", "string", false, false, true, "immutable", "default", "none"),
        A("$ref", "reference", false, false, true, "immutable", "default", "none"),
        A("display", "string", false, false, false, "readOnly", "default", "none"),
        A("type", "string", false, false, false, "immutable", "default", "none"), SUBS_END};
static const struct attr manager_subs[] = {
        A("value", "string", false, false, true, "readWrite", "default", "none"),
        A("$ref", "reference", false, false, true, "readWrite", "default", "none"),
        A("displayName", "string", false, false, false, "readOnly", "default", "none"), SUBS_END};

#define C(n, m, subs)                                                               \
	{                                                                           \
		n, "complex", m, false, false, "readWrite", "default", "none", subs \
	}
static const struct attr user_attrs[] = {
        A("userName", "string", false, true, false, "readWrite", "default", "server"),
        C("name", false, name_subs),
        A("displayName", "string", false, false, false, "readWrite", "default", "none"),
        A("nickName", "string", false, false, false, "readWrite", "default", "none"),
        A("profileUrl", "reference", false, false, false, "readWrite", "default", "none"),
        A("title", "string", false, false, false, "readWrite", "default", "none"),
        A("userType", "string", false, false, false, "readWrite", "default", "none"),
        A("preferredLanguage", "string", false, false, false, "readWrite", "default", "none"),
        A("locale", "string", false, false, false, "readWrite", "default", "none"),
        A("timezone", "string", false, false, false, "readWrite", "default", "none"),
        A("active", "boolean", false, false, false, "readWrite", "default", "none"),
        A("password", "string", false, false, false, "writeOnly", "never", "none"),
        C("emails", true, multi_subs),
        C("phoneNumbers", true, multi_subs),
        C("ims", true, multi_subs),
        C("photos", true, multi_subs),
        C("addresses", true, address_subs),
        {"groups", "complex", true, false, false, "readOnly", "default", "none", ref_subs},
        C("entitlements", true, multi_subs),
        C("roles", true, multi_subs),
        C("x509Certificates", true, multi_subs),
        SUBS_END};
static const struct attr enterprise_attrs[] = {
        A("employeeNumber", "string", false, false, false, "readWrite", "default", "none"),
        A("costCenter", "string", false, false, false, "readWrite", "default", "none"),
        A("organization", "string", false, false, false, "readWrite", "default", "none"),
        A("division", "string", false, false, false, "readWrite", "default", "none"),
        A("department", "string", false, false, false, "readWrite", "default", "none"),
        C("manager", false, manager_subs),
        SUBS_END};
static const struct attr group_attrs[] = {
        A("displayName", "string", false, true, false, "readWrite", "default", "server"),
        C("members", true, member_subs), SUBS_END};

static json_t *attrs_json(const struct attr *list)
{
	json_t *arr = json_array();
	for (const struct attr *a = list; a->name; a++) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:s, s:s, s:s}", "name",
		                      a->name, "type", a->type, "multiValued", a->multi,
		                      "description", a->name, "required", a->required, "caseExact",
		                      a->case_exact, "mutability", a->mutability, "returned",
		                      a->returned, "uniqueness", a->uniqueness);
		if (a->subs != NULL)
			json_object_set_new(o, "subAttributes", attrs_json(a->subs));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *schema(struct ts__scim_call *call, const char *id, const char *name,
                      const struct attr *attrs)
{
	return json_pack("{s:[s], s:s, s:s, s:s, s:o, s:{s:s, s:s}}", "schemas",
	                 "urn:ietf:params:scim:schemas:core:2.0:Schema", "id", id, "name", name,
	                 "description", name, "attributes", attrs_json(attrs), "meta",
	                 "resourceType", "Schema", "location",
	                 ts_arena_printf(call->a, "%s/Schemas/%s", call->base, id));
}

static json_t *all_schemas(struct ts__scim_call *call)
{
	return json_pack(
	        "[o, o, o]", schema(call, TS_SCIM_SCHEMA_USER, "User", user_attrs),
	        schema(call, TS_SCIM_SCHEMA_ENTERPRISE, "EnterpriseUser", enterprise_attrs),
	        schema(call, TS_SCIM_SCHEMA_GROUP, "Group", group_attrs));
}

static json_t *resource_type(struct ts__scim_call *call, bool user)
{
	json_t *o = json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "schemas",
	                      "urn:ietf:params:scim:schemas:core:2.0:ResourceType", "id",
	                      user ? "User" : "Group", "name", user ? "User" : "Group", "endpoint",
	                      user ? "/Users" : "/Groups", "description", user ? "User" : "Group",
	                      "schema", user ? TS_SCIM_SCHEMA_USER : TS_SCIM_SCHEMA_GROUP, "meta",
	                      "resourceType", "ResourceType", "location",
	                      ts_arena_printf(call->a, "%s/ResourceTypes/%s", call->base,
	                                      user ? "User" : "Group"));
	json_object_set_new(o, "schemaExtensions",
	                    user ? json_pack("[{s:s, s:b}]", "schema", TS_SCIM_SCHEMA_ENTERPRISE,
	                                     "required", false)
	                         : json_array());
	return o;
}

static json_t *list_of(json_t *items)
{
	json_int_t n = (json_int_t)json_array_size(items);
	return json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", TS__SCIM_LIST_SCHEMA,
	                 "totalResults", n, "startIndex", (json_int_t)1, "itemsPerPage", n,
	                 "Resources", items);
}

/* RFC 7644 §4: a filter on the discovery endpoints is refused with 403 (item 91). */
static ts_err no_filter(struct ts__scim_call *call, struct ts_error *e)
{
	if (ts_http_query(call->req, "filter") != NULL)
		return ts__scim_err(call, e, TS_ERR_FORBIDDEN, NULL,
		                    "filtering is not supported on discovery endpoints");
	return TS_ERR_OK;
}

static ts_err spc(struct ts__scim_call *call, struct ts_error *e)
{
	ts_err rc = no_filter(call, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_int_t max = call->strict ? TS__SCIM_STRICT_COUNT_MAX : TS__SCIM_COUNT_MAX;
	call->response = json_pack(
	        "{s:[s], s:s, s:{s:b}, s:{s:b, s:i, s:i}, s:{s:b, s:I}, s:{s:b}, s:{s:b}, s:{s:b},"
	        " s:[{s:s, s:s, s:s, s:b}], s:{s:s, s:s}}",
	        "schemas", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
	        "documentationUri", "https://tessera.invalid/docs/scim", "patch", "supported", 1,
	        "bulk", "supported", 0, "maxOperations", 0, "maxPayloadSize", 0, "filter",
	        "supported", 1, "maxResults", max, "changePassword", "supported", 0, "sort",
	        "supported", 0, "etag", "supported", call->strict ? 0 : 1, "authenticationSchemes",
	        "type", "oauthbearertoken", "name", "OAuth Bearer Token", "description",
	        "the account's SCIM API key as a bearer token", "primary", 1, "meta",
	        "resourceType", "ServiceProviderConfig", "location",
	        ts_arena_printf(call->a, "%s/ServiceProviderConfig", call->base));
	return TS_ERR_OK;
}

static ts_err resource_types(struct ts__scim_call *call, struct ts_error *e)
{
	ts_err rc = no_filter(call, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response =
	        list_of(json_pack("[o, o]", resource_type(call, true), resource_type(call, false)));
	return TS_ERR_OK;
}

static ts_err one_resource_type(struct ts__scim_call *call, struct ts_error *e)
{
	const char *id = call->req->params[0];
	if (strcmp(id, "User") == 0 || strcmp(id, "Group") == 0) {
		call->response = resource_type(call, strcmp(id, "User") == 0);
		return TS_ERR_OK;
	}
	return ts__scim_err(call, e, TS_ERR_NOT_FOUND, NULL, "no resource type %s", id);
}

static ts_err schemas(struct ts__scim_call *call, struct ts_error *e)
{
	ts_err rc = no_filter(call, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response = list_of(all_schemas(call));
	return TS_ERR_OK;
}

static ts_err one_schema(struct ts__scim_call *call, struct ts_error *e)
{
	json_t *all = all_schemas(call);
	size_t i;
	json_t *s;
	json_array_foreach(all, i, s)
	{
		if (strcasecmp(ts_json_str(s, "id"), call->req->params[0]) == 0) {
			call->response = json_incref(s);
			json_decref(all);
			return TS_ERR_OK;
		}
	}
	json_decref(all);
	return ts__scim_err(call, e, TS_ERR_NOT_FOUND, NULL, "no schema %s", call->req->params[0]);
}

const struct ts__scim_op ts__scim_service_provider_config = {"GetServiceProviderConfig", false,
                                                             false, spc, NULL};
const struct ts__scim_op ts__scim_resource_types = {"ListResourceTypes", false, false,
                                                    resource_types, NULL};
const struct ts__scim_op ts__scim_resource_type = {"GetResourceType", false, false,
                                                   one_resource_type, NULL};
const struct ts__scim_op ts__scim_schemas = {"ListSchemas", false, false, schemas, NULL};
const struct ts__scim_op ts__scim_schema = {"GetSchema", false, false, one_schema, NULL};
