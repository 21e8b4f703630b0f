/*
 * Unit tests of the SCIM resource mapping (src/scim/user.c, and the
 * attributes / excludedAttributes and ETag helpers of src/scim/api.c),
 * without a store: a struct ts__scim_call is built by hand on an arena.
 *
 * What user.c promises: userName a non-empty string, kept verbatim; id,
 * meta, groups and password never stored; Entra's string booleans, null
 * members and enterprise URN typo (items 28, 30) repaired; emails copied
 * to the index rows (value, type, primary); unknown attributes kept; every
 * wrong type 400 invalidValue; the aws-strict shape checks (items 55, 56);
 * and a rendering with schemas, id, meta (resourceType, created,
 * lastModified, location, version = ETag) where the row's columns win.
 * JSON is written with ' for " to keep the cases readable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "scim/internal.h"
#include "scim/patch.h"
#include "scim/patch.h"

#define BASE "https://id.example.com/scim/v2"
#define ACCOUNT "0190a1b2-0000-7000-8000-000000000001"
#define ENT TS_SCIM_SCHEMA_ENTERPRISE
#define ENT_TYPO "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"

/* 2024-05-01T10:00:00.123Z and a day later */
#define CREATED_MS 1714557600123LL
#define MODIFIED_MS (CREATED_MS + 86400000LL)

static struct ts__scim_call new_call(ts_arena_t *a, bool strict)
{
	return (struct ts__scim_call){
	        .a = a, .account_id = ACCOUNT, .strict = strict, .base = BASE, .status = 200};
}

/* text with ' for ", parsed as a request body is (the dispatcher's caps) */
static json_t *J(ts_arena_t *a, const char *text)
{
	char *s = ts_arena_strdup(a, text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_t *doc = NULL;
	struct ts_error e = {0};
	if (ts_json_parse(s, strlen(s), NULL, a, &doc, &e) != TS_ERR_OK)
		fail_msg("bad test JSON %s: %s", s, e.message);
	return doc;
}

/* text with ' for ", as a stored resource */
static char *quotes_of(ts_arena_t *a, const char *text)
{
	char *s = ts_arena_strdup(a, text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static void assert_json_equal(const json_t *got, const json_t *want)
{
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
		print_error("got  %s\nwant %s\n", g ? g : "NULL", w ? w : "NULL");
		fail();
	}
}

/* ---- users: client document -> row ------------------------------------------ */

struct user_out {
	ts_err rc;
	struct ts_user_row row;
	struct ts_user_email *emails;
	int nemails;
	json_t *resource; /* row.resource parsed back */
	const char *scim_type;
	struct ts_error e;
};

static struct user_out user_from(ts_arena_t *a, bool strict, const char *text)
{
	struct user_out o = {0};
	struct ts__scim_call call = new_call(a, strict);
	o.rc = ts__scim_user_from_doc(&call, J(a, text), &o.row, &o.emails, &o.nemails, &o.e);
	o.scim_type = call.scim_type;
	if (o.rc == TS_ERR_OK) {
		o.resource = ts_json_own(a, json_loads(o.row.resource, 0, NULL));
		assert_true(json_is_object(o.resource));
	}
	return o;
}

static void test_user_okta_create(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* what Okta POSTs to /Users (its SCIM 2.0 test suite's body) */
	struct user_out o = user_from(
	        a, false,
	        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
	        "'userName':'Ann.Lee@example.com','name':{'givenName':'Ann','familyName':'Lee'},"
	        "'emails':[{'primary':true,'value':'ann.lee@example.com','type':'work'}],"
	        "'displayName':'Ann Lee','locale':'en-US','externalId':'00u1abcd',"
	        "'groups':[],'password':'1mz050nq','active':true}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_string_equal(o.row.account_id, ACCOUNT);
	assert_string_equal(o.row.user_name, "Ann.Lee@example.com"); /* as sent: no case folding */
	assert_string_equal(o.row.external_id, "00u1abcd");
	assert_string_equal(o.row.display_name, "Ann Lee");
	assert_true(o.row.active);
	assert_null(o.row.user_id); /* the endpoint assigns it */
	assert_int_equal(o.nemails, 1);
	assert_string_equal(o.emails[0].value, "ann.lee@example.com");
	assert_string_equal(o.emails[0].type, "work");
	assert_true(o.emails[0].primary);
	/* the stored resource: what was sent, minus what the server owns and the password */
	assert_json_equal(o.resource,
	                  J(a, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
	                       "'userName':'Ann.Lee@example.com',"
	                       "'name':{'givenName':'Ann','familyName':'Lee'},"
	                       "'emails':[{'primary':true,'value':'ann.lee@example.com',"
	                       "'type':'work'}],'displayName':'Ann Lee','locale':'en-US',"
	                       "'externalId':'00u1abcd','active':true}"));
	ts_arena_free(&a);
}

static void test_user_entra_create(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* Entra ID: string booleans, nulls, the enterprise URN without its colon (items 28, 30) */
	struct user_out o = user_from(
	        a, false,
	        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT_TYPO "'],"
	        "'externalId':'8a1c','userName':'bo@contoso.com','active':'False',"
	        "'addresses':null,'displayName':'Bo',"
	        "'emails':[{'primary':'True','type':'work','value':'bo@contoso.com'},"
	        "{'primary':'false','type':'home','value':'bo@home.example'}],"
	        "'" ENT_TYPO "':{'employeeNumber':'701','department':'R&D','manager':null}}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_false(o.row.active);
	assert_null(ts_scim_json_get(o.resource, "addresses", NULL));
	assert_null(ts_scim_json_get(o.resource, ENT_TYPO, NULL));
	assert_json_equal(json_object_get(o.resource, ENT),
	                  J(a, "{'employeeNumber':'701','department':'R&D'}"));
	assert_json_equal(json_object_get(o.resource, "active"), json_false());
	assert_int_equal(o.nemails, 2);
	assert_true(o.emails[0].primary);
	assert_false(o.emails[1].primary);
	assert_string_equal(o.emails[1].type, "home");
	assert_json_equal(json_object_get(o.resource, "emails"),
	                  J(a, "[{'primary':true,'type':'work','value':'bo@contoso.com'},"
	                       "{'primary':false,'type':'home','value':'bo@home.example'}]"));

	/* both spellings: the correct one wins, the typo goes */
	o = user_from(a, false,
	              "{'userName':'c','" ENT_TYPO "':{'employeeNumber':'1'},'" ENT
	              "':{'employeeNumber':'2'}}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_null(ts_scim_json_get(o.resource, ENT_TYPO, NULL));
	assert_json_equal(json_object_get(o.resource, ENT), J(a, "{'employeeNumber':'2'}"));
	ts_arena_free(&a);
}

static void test_user_server_owned_ignored(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* RFC 7643 §3.1: id and meta are the server's, in any spelling; groups is read-only */
	struct user_out o =
	        user_from(a, false,
	                  "{'id':'client-chosen','ID':'again','meta':{'resourceType':'User','"
	                  "version':'W/\\'9\\''},"
	                  "'Meta':{},'userName':'d','groups':[{'value':'g1'}],'PASSWORD':'x'}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_json_equal(o.resource, J(a, "{'userName':'d'}"));
	assert_null(o.row.user_id);
	assert_null(o.row.external_id);
	assert_null(o.row.display_name);
	assert_true(o.row.active); /* absent (or null) active means active */
	assert_int_equal(o.nemails, 0);
	assert_non_null(o.emails);
	o = user_from(a, false, "{'userName':'d','active':null}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_true(o.row.active);
	ts_arena_free(&a);
}

/* Attribute names are case-insensitive: one named twice is refused; blank names too. */
static void test_user_twice_named_and_blank(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const char *const refused[] = {
	        "{'userName':'d','displayName':'a','DISPLAYNAME':'b'}",
	        "{'userName':'d','USERNAME':'e'}",
	        "{'userName':'d','name':{'givenName':'a','GIVENNAME':'b'}}",
	        "{'userName':' \\t '}",
	        "{'userName':''}",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct user_out o = user_from(a, false, refused[i]);
		if (o.rc != TS_ERR_BAD_REQUEST)
			fail_msg("accepted %s", refused[i]);
	}
	/* server-owned names in any spelling are dropped first, not counted twice */
	struct user_out o = user_from(a, false, "{'userName':'d','id':'x','ID':'y','Meta':{}}");
	assert_int_equal(o.rc, TS_ERR_OK);
	/*
	 * A body of 200,000 names with one pair at its two ends: found without
	 * comparing every name with every other (2 * 10^10 comparisons would
	 * outlast the test's timeout by far).
	 */
	json_t *big = json_object();
	json_object_set_new(big, "userName", json_string("d"));
	json_object_set_new(big, "zAttr", json_integer(1));
	char name[32];
	for (int i = 0; i < 200000; i++) {
		snprintf(name, sizeof name, "a%d", i);
		json_object_set_new(big, name, json_integer(i));
	}
	json_object_set_new(big, "ZATTR", json_integer(2));
	struct ts__scim_call call = new_call(a, false);
	struct ts_user_row row;
	struct ts_user_email *emails = NULL;
	int nemails = 0;
	struct ts_error e = {0};
	assert_int_equal(ts__scim_user_from_doc(&call, big, &row, &emails, &nemails, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "given twice"));
	json_decref(big);
	ts_arena_free(&a);
}

static void test_user_name_as_sent(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* the IdP's identifier: no trimming, no case folding (only uniqueness folds case) */
	struct user_out o = user_from(a, false, "{'userName':'  Ann Lee  '}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_string_equal(o.row.user_name, "  Ann Lee  ");
	/* attribute names are case-insensitive (RFC 7643 §2.1) */
	o = user_from(a, false, "{'USERNAME':'x\\u00e9y'}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_string_equal(o.row.user_name, "x\xc3\xa9y");
	/* rendered in the schema's spelling, once, whatever spelling was stored */
	struct ts__scim_call call = new_call(a, false);
	o = user_from(a, false, "{'USERNAME':'j','ACTIVE':'false','EXTERNALID':'e','SCHEMAS':[]}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_false(o.row.active);
	assert_string_equal(o.row.external_id, "e");
	o.row.user_id = "u-j";
	json_t *res = ts_json_own(a, ts__scim_user_render(&call, &o.row, NULL, -1));
	const char *k;
	json_t *v;
	json_object_foreach(res, k, v)
	{
		assert_true(strcmp(k, "USERNAME") != 0 && strcmp(k, "ACTIVE") != 0 &&
		            strcmp(k, "EXTERNALID") != 0 && strcmp(k, "SCHEMAS") != 0);
	}
	assert_string_equal(ts_json_str(res, "userName"), "j");
	assert_true(json_is_false(json_object_get(res, "active")));
	assert_string_equal(ts_json_str(res, "externalId"), "e");
	assert_non_null(json_object_get(res, "schemas"));
	ts_arena_free(&a);
}

static void test_user_emails(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct user_out o = user_from(a, false,
	                              "{'userName':'e','emails':[{'value':'a@x','type':'work'},"
	                              "{'type':'other'},{'value':'b@x','primary':true},"
	                              "{'VALUE':'c@x','TYPE':'home','Primary':'TRUE'}]}");
	assert_int_equal(o.rc, TS_ERR_OK);
	/* a value-less entry is kept in the resource but indexes nothing */
	assert_int_equal(o.nemails, 3);
	assert_string_equal(o.emails[0].value, "a@x");
	assert_string_equal(o.emails[0].type, "work");
	assert_false(o.emails[0].primary);
	assert_string_equal(o.emails[1].value, "b@x");
	assert_null(o.emails[1].type);
	assert_true(o.emails[1].primary);
	assert_string_equal(o.emails[2].value, "c@x");
	assert_string_equal(o.emails[2].type, "home");
	assert_true(o.emails[2].primary);
	assert_int_equal(json_array_size(json_object_get(o.resource, "emails")), 4);
	o = user_from(a, false, "{'userName':'e','emails':[]}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_int_equal(o.nemails, 0);
	ts_arena_free(&a);
}

struct bad_case {
	const char *doc;
	bool strict;
	const char *message; /* a part of the detail */
};

static const struct bad_case bad_users[] = {
        /* RFC 7643 §4.1.1: userName required, a non-empty string */
        {"{}", false, "userName is required"},
        {"{'userName':null}", false, "userName is required"},
        {"{'userName':''}", false, "userName is required"},
        {"{'userName':5}", false, "userName is required"},
        {"{'userName':['a']}", false, "userName is required"},
        {"{'userName':{'value':'a'}}", false, "userName is required"},
        /* wrong types (item 79) */
        {"{'userName':'a','active':'yes'}", false, "active must be a boolean"},
        {"{'userName':'a','active':1}", false, "active must be a boolean"},
        {"{'userName':'a','externalId':5}", false, "externalId must be a string"},
        {"{'userName':'a','displayName':['D']}", false, "displayName must be a string"},
        {"{'userName':'a','name':'Ann Lee'}", false, "name must be an object"},
        {"{'userName':'a','schemas':'urn:ietf:params:scim:schemas:core:2.0:User'}", false,
         "schemas must be an array"},
        {"{'userName':'a','" ENT "':'x'}", false, "enterprise extension must be an object"},
        {"{'userName':'a','" ENT_TYPO "':[1]}", false, "enterprise extension must be an object"},
        {"{'userName':'a','emails':{'value':'a@x'}}", false, "emails must be an array"},
        {"{'userName':'a','emails':'a@x'}", false, "emails must be an array"},
        {"{'userName':'a','emails':['a@x']}", false, "each value of emails must be an object"},
        {"{'userName':'a','emails':[{'value':5}]}", false, "emails[].value and type"},
        {"{'userName':'a','emails':[{'value':null}]}", false, "emails[].value and type"},
        {"{'userName':'a','emails':[{'value':'a@x','type':1}]}", false, "emails[].value and type"},
        {"{'userName':'a','emails':[{'value':'a@x','primary':'maybe'}]}", false,
         "primary must be a boolean"},
        {"{'userName':'a','phoneNumbers':'555'}", false, "phoneNumbers must be an array"},
        {"{'userName':'a','addresses':[null]}", false, "each value of addresses"},
        {"{'userName':'a','roles':[{'primary':0}]}", false, "primary must be a boolean"},
        {"{'userName':'a','x509Certificates':{}}", false, "x509Certificates must be an array"},
        /* C0 controls and DEL in the strings people read */
        {"{'userName':'a\\u0001b'}", false, "userName must not hold control characters"},
        {"{'userName':'a\\tb'}", false, "userName must not hold control characters"},
        {"{'userName':'a','displayName':'\\u001b[2J'}", false, "displayName must not hold"},
        {"{'userName':'a','nickName':'n\\r'}", false, "nickName must not hold"},
        {"{'userName':'a','title':'t\\u007f'}", false, "title must not hold"},
        {"{'userName':'a','externalId':'x\\n'}", false, "externalId must not hold"},
        {"{'userName':'a','name':{'givenName':'G\\n'}}", false, "name.givenName must not hold"},
        {"{'userName':'a','name':{'honorificSuffix':'\\u0007'}}", false,
         "name.honorificSuffix must not hold"},
        {"{'userName':'a','emails':[{'value':'a\\u001f@x'}]}", false,
         "emails[].value must not hold"},
        /* aws-strict: AWS IAM Identity Center's CreateUser shape (items 55, 56) */
        {"{'userName':'a','displayName':'D','name':{'givenName':'G'}}", true,
         "name.givenName, name.familyName and displayName are required"},
        {"{'userName':'a','name':{'givenName':'G','familyName':'F'}}", true,
         "name.givenName, name.familyName and displayName are required"},
        {"{'userName':'a','displayName':'D','name':{'givenName':'G','familyName':'F'},"
         "'password':'p'}",
         true, "password is not supported"},
        {"{'userName':'a','displayName':'D','name':{'givenName':'G','familyName':'F'},"
         "'groups':[]}",
         true, "groups is not supported"},
        {"{'userName':'a','displayName':'D','name':{'givenName':'G','familyName':'F'},"
         "'emails':[{'value':'a@x','primary':true},{'value':'b@x'}]}",
         true, "at most one value of emails"},
        {"{'userName':'a','displayName':'D','name':{'givenName':'G','familyName':'F'},"
         "'emails':[{'value':'a@x'}]}",
         true, "the email must be primary"},
};

static void test_user_bad_values(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof bad_users / sizeof bad_users[0]; i++) {
		ts_arena_t *a = ts_arena_new();
		const struct bad_case *c = &bad_users[i];
		struct user_out o = user_from(a, c->strict, c->doc);
		if (o.rc != TS_ERR_BAD_REQUEST || o.scim_type == NULL ||
		    strcmp(o.scim_type, "invalidValue") != 0 ||
		    strstr(o.e.message, c->message) == NULL) {
			print_error("case %zu %s: rc %d scimType %s message %s\n", i, c->doc,
			            (int)o.rc, o.scim_type ? o.scim_type : "(none)", o.e.message);
			failed++;
		}
		ts_arena_free(&a);
	}
	assert_int_equal(failed, 0);
}

/* An attribute holding more values than its cap (src/scim/patch.h) is refused. */
static void test_user_value_caps(void **state)
{
	(void)state;
	static const char *const attrs[] = {"emails",  "phoneNumbers", "roles", "x509Certificates",
	                                    "schemas", "customThing",  NULL};
	for (const char *const *k = attrs; *k; k++) {
		size_t cap = ts_scim_values_cap(*k);
		for (size_t over = 0; over < 2; over++) {
			ts_arena_t *a = ts_arena_new();
			json_t *doc = ts_json_own(a, json_pack("{s:s}", "userName", "a"));
			json_t *vals = json_array();
			for (size_t i = 0; i < cap + over; i++) {
				char v[32];
				snprintf(v, sizeof v, "v%zu@x", i);
				json_array_append_new(vals,
				                      strcmp(*k, "schemas") == 0
				                              ? json_string(TS_SCIM_SCHEMA_USER)
				                              : json_pack("{s:s}", "value", v));
			}
			json_object_set_new(doc, *k, vals);
			struct ts__scim_call call = new_call(a, false);
			struct ts_user_row row;
			struct ts_user_email *emails = NULL;
			int ne = 0;
			struct ts_error e = {0};
			ts_err rc = ts__scim_user_from_doc(&call, doc, &row, &emails, &ne, &e);
			if (over) {
				assert_int_equal(rc, TS_ERR_BAD_REQUEST);
				assert_string_equal(call.scim_type, "invalidValue");
				assert_non_null(strstr(e.message, *k));
			} else {
				assert_int_equal(rc, TS_ERR_OK);
			}
			ts_arena_free(&a);
		}
	}
}

static void test_user_strict_accepts_aws_shape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *aws = "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
	                  "'userName':'aws@example.com','displayName':'A W',"
	                  "'name':{'givenName':'A','familyName':'W'},"
	                  "'emails':[{'value':'aws@example.com','type':'work','primary':true}],"
	                  "'active':true}";
	struct user_out o = user_from(a, true, aws);
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_int_equal(o.nemails, 1);
	/* the permissive profile takes what strict refuses */
	o = user_from(a, false, "{'userName':'a','password':'p','groups':[],'ims':[]}");
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_json_equal(o.resource, J(a, "{'userName':'a','ims':[]}"));
	ts_arena_free(&a);
}

/* ---- users: row -> SCIM JSON ------------------------------------------------- */

static json_t *render_user(struct ts__scim_call *call, struct user_out *o, const char *id,
                           int64_t version, const struct ts_group_member *g, int ng)
{
	o->row.user_id = id;
	o->row.version = version;
	o->row.created_ms = CREATED_MS;
	o->row.modified_ms = MODIFIED_MS;
	return ts_json_own(call->a, ts__scim_user_render(call, &o->row, g, ng));
}

static void assert_meta(struct ts__scim_call *call, json_t *res, const char *type, const char *path,
                        const char *id, int64_t version)
{
	json_t *meta = json_object_get(res, "meta");
	assert_true(json_is_object(meta));
	assert_string_equal(ts_json_str(meta, "resourceType"), type);
	assert_string_equal(ts_json_str(meta, "location"),
	                    ts_arena_printf(call->a, "%s/%s/%s", BASE, path, id));
	/* RFC 7644 §3.14: meta.version is the ETag, a weak one */
	assert_string_equal(ts_json_str(meta, "version"), ts__scim_etag(call, version));
	assert_string_equal(ts_json_str(meta, "version"),
	                    ts_arena_printf(call->a, "W/\"%lld\"", (long long)version));
	assert_string_equal(ts_json_str(meta, "created"), "2024-05-01T10:00:00.123Z");
	assert_string_equal(ts_json_str(meta, "lastModified"), "2024-05-02T10:00:00.123Z");
	int64_t t = 0;
	assert_true(ts_time_parse(ts_json_str(meta, "created"), &t));
	assert_int_equal(t, CREATED_MS);
	assert_int_equal(json_object_size(meta), 5);
}

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"

struct canon_case {
	const char *in;
	const char *want; /* the stored resource; NULL: refused 400 invalidValue */
};

/*
 * RFC 7644 §3.10: a core attribute named with its schema URN (any case), or
 * given inside the URN-keyed core object, is the plain attribute; and the
 * password goes whatever its spelling (RFC 7643 §4.1.1, returned "never").
 */
static const struct canon_case canon_cases[] = {
        {"{'" CORE ":userName':'a'}", "{'userName':'a'}"},
        {"{'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName':'a'}", "{'userName':'a'}"},
        {"{'userName':'a','" CORE ":displayName':'D','" CORE ":active':'False'}",
         "{'userName':'a','displayName':'D','active':false}"},
        {"{'userName':'a','" CORE ":name.givenName':'G'}",
         "{'userName':'a','name':{'givenName':'G'}}"},
        {"{'userName':'a','name':{'familyName':'F'},'" CORE ":name.givenName':'G'}",
         "{'userName':'a','name':{'familyName':'F','givenName':'G'}}"},
        {"{'" CORE "':{'userName':'a','title':'T'}}", "{'userName':'a','title':'T'}"},
        {"{'urn:ietf:params:scim:schemas:core:2.0:user':{'userName':'a'}}", "{'userName':'a'}"},
        {"{'schemas':['" CORE "'],'" CORE "':{'userName':'a','" CORE ":title':'T'}}",
         "{'schemas':['" CORE "'],'userName':'a','title':'T'}"},
        /* the password, in every spelling, accepted and dropped */
        {"{'userName':'a','" CORE ":password':'p'}", "{'userName':'a'}"},
        {"{'userName':'a','URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:PASSWORD':'p'}",
         "{'userName':'a'}"},
        {"{'userName':'a','" CORE "':{'Password':'p'}}", "{'userName':'a'}"},
        {"{'userName':'a','" ENT "':{'password':'p','employeeNumber':'1'}}",
         "{'userName':'a','" ENT "':{'employeeNumber':'1'}}"},
        {"{'userName':'a','name':{'givenName':'G','PASSWORD':'p'}}",
         "{'userName':'a','name':{'givenName':'G'}}"},
        {"{'userName':'a','password.value':'p'}", "{'userName':'a'}"},
        /* other schemas' URNs are not the core's */
        {"{'userName':'a','urn:example:2.0:User:title':'T'}",
         "{'userName':'a','urn:example:2.0:User:title':'T'}"},
        {"{'userName':'a','" CORE "x:title':'T'}", "{'userName':'a','" CORE "x:title':'T'}"},
        /* one attribute in two spellings is refused, not half kept */
        {"{'userName':'a','" CORE ":userName':'b'}", NULL},
        {"{'userName':'a','" CORE "':{'USERNAME':'b'}}", NULL},
        {"{'userName':'a','name':{'givenName':'G'},'" CORE ":name.givenName':'H'}", NULL},
        {"{'userName':'a','name':'N','" CORE ":name.givenName':'H'}", NULL},
        {"{'userName':'a','" CORE "':'not an object'}", NULL},
};

static void test_user_urn_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof canon_cases / sizeof canon_cases[0]; i++) {
		const struct canon_case *c = &canon_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct user_out o = user_from(a, false, c->in);
		if (c->want == NULL) {
			if (o.rc != TS_ERR_BAD_REQUEST || o.scim_type == NULL ||
			    strcmp(o.scim_type, "invalidValue") != 0)
				fail_msg("case %zu %s: want 400 invalidValue, got %d", i, c->in,
				         (int)o.rc);
		} else {
			if (o.rc != TS_ERR_OK)
				fail_msg("case %zu %s: %s", i, c->in, o.e.message);
			assert_json_equal(o.resource, J(a, c->want));
			assert_string_equal(o.row.user_name, "a");
		}
		ts_arena_free(&a);
	}
	/* the name helper itself */
	assert_string_equal(ts__scim_core_name(CORE ":userName", CORE), "userName");
	assert_string_equal(
	        ts__scim_core_name("urn:IETF:params:scim:schemas:core:2.0:USER:x", CORE), "x");
	assert_string_equal(ts__scim_core_name(CORE, CORE), CORE);
	assert_string_equal(ts__scim_core_name(CORE ":", CORE), CORE ":");
	assert_string_equal(ts__scim_core_name("userName", CORE), "userName");
}

/* A resource stored before passwords were dropped in every spelling never shows one. */
static void test_user_render_never_returns_password(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	static const char *const stored[] = {
	        "{'userName':'a','" CORE ":password':'p1'}",
	        "{'userName':'a','PassWord':'p1','title':'t'}",
	        "{'userName':'a','" ENT "':{'password':'p1','employeeNumber':'1'}}",
	};
	for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++) {
		struct ts_user_row row = {.user_id = "u1",
		                          .user_name = "a",
		                          .active = true,
		                          .resource = quotes_of(a, stored[i]),
		                          .created_ms = CREATED_MS,
		                          .modified_ms = MODIFIED_MS,
		                          .version = 1};
		struct ts_jsonw w;
		ts_jsonw_init(&w, a, 64);
		const char *text = ts__scim_user_write(&call, &w, &row, NULL, -1)
		                           ? ts_jsonw_finish(&w, NULL)
		                           : "";
		if (strstr(text, "p1") != NULL)
			fail_msg("case %zu written: %s", i, text);
		char *dumped = json_dumps(
		        ts_json_own(a, ts__scim_user_render(&call, &row, NULL, -1)), JSON_COMPACT);
		assert_non_null(dumped);
		if (strstr(dumped, "p1") != NULL || strstr(dumped, "userName") == NULL)
			fail_msg("case %zu rendered: %s", i, dumped);
		free(dumped);
	}
	ts_arena_free(&a);
}

static void test_user_render(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	struct user_out o = user_from(a, false,
	                              "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User',"
	                              "'urn:example:params:scim:schemas:extension:acme:1.0:User'],"
	                              "'userName':'f@example.com','externalId':'ext-f',"
	                              "'active':true}");
	assert_int_equal(o.rc, TS_ERR_OK);
	json_t *res = render_user(&call, &o, "0190a1b2-aaaa-7000-8000-0000000000ff", 7, NULL, -1);
	assert_json_equal(json_object_get(res, "schemas"),
	                  J(a, "['urn:ietf:params:scim:schemas:core:2.0:User']"));
	assert_string_equal(ts_json_str(res, "id"), "0190a1b2-aaaa-7000-8000-0000000000ff");
	assert_string_equal(ts_json_str(res, "userName"), "f@example.com");
	assert_string_equal(ts_json_str(res, "externalId"), "ext-f");
	assert_true(json_is_true(json_object_get(res, "active")));
	assert_null(json_object_get(res, "groups")); /* ngroups -1: not asked for */
	assert_meta(&call, res, "User", "Users", "0190a1b2-aaaa-7000-8000-0000000000ff", 7);

	/* the columns win over the stored document: PATCH and the admin API change them */
	o.row.user_name = "renamed@example.com";
	o.row.active = false;
	o.row.external_id = "ext-2";
	res = render_user(&call, &o, "u1", 8, NULL, -1);
	assert_string_equal(ts_json_str(res, "userName"), "renamed@example.com");
	assert_true(json_is_false(json_object_get(res, "active")));
	assert_string_equal(ts_json_str(res, "externalId"), "ext-2");

	/* groups, when asked for: value, display, $ref, type (RFC 7643 §4.1.2) */
	const struct ts_group_member g[] = {{"g-1", "Engineering"}, {"g-2", NULL}};
	res = render_user(&call, &o, "u1", 8, g, 2);
	assert_json_equal(json_object_get(res, "groups"),
	                  J(a, "[{'value':'g-1','display':'Engineering','$ref':'" BASE
	                       "/Groups/g-1','type':'direct'},{'value':'g-2','display':'',"
	                       "'$ref':'" BASE "/Groups/g-2','type':'direct'}]"));
	res = render_user(&call, &o, "u1", 8, g, 0);
	assert_json_equal(json_object_get(res, "groups"), J(a, "[]"));

	/* the enterprise extension is listed in schemas when present */
	o = user_from(a, false, "{'userName':'g','" ENT "':{'employeeNumber':'7'}}");
	assert_int_equal(o.rc, TS_ERR_OK);
	res = render_user(&call, &o, "u2", 1, NULL, -1);
	assert_json_equal(json_object_get(res, "schemas"),
	                  J(a, "['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "']"));
	assert_json_equal(json_object_get(res, ENT), J(a, "{'employeeNumber':'7'}"));

	/* a row without a stored document (written by other means) still renders */
	struct user_out bare = {.row = {.user_name = "h", .active = true}};
	res = render_user(&call, &bare, "u3", 2, NULL, -1);
	assert_string_equal(ts_json_str(res, "userName"), "h");
	assert_meta(&call, res, "User", "Users", "u3", 2);
	ts_arena_free(&a);
}

static void test_user_round_trip(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	/* every attribute a client sends comes back as sent, unknown ones and extensions too */
	const char *sent =
	        "{'userName':'rt@example.com','nickName':'Rt','title':'Eng','userType':'Employee',"
	        "'preferredLanguage':'en','locale':'en-GB','timezone':'Europe/London',"
	        "'profileUrl':'https://x.example/rt','name':{'formatted':'R T','givenName':'R',"
	        "'familyName':'T','middleName':'',"
	        "'honorificPrefix':'Dr'},'displayName':'R T','externalId':'e-rt','active':false,"
	        "'emails':[{'value':'rt@example.com','type':'work','primary':true,"
	        "'display':'work mail'}],"
	        "'phoneNumbers':[{'value':'+44 20 0000 0000','type':'mobile'}],"
	        "'addresses':[{'streetAddress':'1 Road','locality':'London','country':'GB',"
	        "'primary':true,'formatted':'1 Road\\nLondon'}],"
	        "'roles':[{'value':'admin','primary':false}],'entitlements':[{'value':'e1'}],"
	        "'photos':[{'value':'https://x.example/p.png','type':'photo'}],"
	        "'x-tenant-custom':{'nested':[1,2.5,true,null,{'k':'v'}]},"
	        "'urn:example:params:scim:schemas:extension:acme:1.0:User':{'badge':42},"
	        "'" ENT "':{'employeeNumber':'9','costCenter':'c','organization':'o',"
	        "'division':'d','department':'dep','manager':{'value':'m-1','displayName':'M'}}}";
	struct user_out o = user_from(a, false, sent);
	assert_int_equal(o.rc, TS_ERR_OK);
	json_t *res = render_user(&call, &o, "u-rt", 3, NULL, -1);
	json_t *want = J(a, sent);
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
	{
		json_t *got = json_object_get(res, k);
		if (!json_equal(got, v))
			fail_msg("%s did not come back as sent", k);
	}
	/* and nothing but the server's own attributes is added */
	json_object_foreach(res, k, v)
	{
		if (json_object_get(want, k) == NULL && strcmp(k, "id") != 0 &&
		    strcmp(k, "meta") != 0 && strcmp(k, "schemas") != 0)
			fail_msg("%s was added", k);
	}
	/* rendering what was rendered (GET then PUT) keeps it: the answer is a fixed point */
	struct user_out again = {0};
	struct ts__scim_call c2 = new_call(a, false);
	json_t *resent = ts_json_own(a, json_deep_copy(res));
	assert_int_equal(ts__scim_user_from_doc(&c2, resent, &again.row, &again.emails,
	                                        &again.nemails, &again.e),
	                 TS_ERR_OK);
	json_t *res2 = render_user(&c2, &again, "u-rt", 3, NULL, -1);
	assert_json_equal(res2, res);
	ts_arena_free(&a);
}

/* ---- groups ------------------------------------------------------------------ */

struct group_out {
	ts_err rc;
	struct ts_group_row row;
	json_t *members;
	json_t *resource;
	const char *scim_type;
	struct ts_error e;
};

static struct group_out group_from(ts_arena_t *a, bool strict, json_t *doc)
{
	struct group_out o = {0};
	struct ts__scim_call call = new_call(a, strict);
	o.rc = ts__scim_group_from_doc(&call, doc, &o.row, &o.members, &o.e);
	o.scim_type = call.scim_type;
	if (o.rc == TS_ERR_OK)
		o.resource = ts_json_own(a, json_loads(o.row.resource, 0, NULL));
	return o;
}

static void test_group_from_doc(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* Okta's POST /Groups; id and meta ignored, members kept apart from the resource */
	struct group_out o = group_from(
	        a, false,
	        J(a, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],'id':'x',"
	             "'meta':{'resourceType':'Group'},'displayName':'Engineering',"
	             "'externalId':'00g1','members':[{'value':'u-1','display':'Ann'},"
	             "{'value':'u-2','$ref':'https://x/Users/u-2','type':'User'}],"
	             "'x-custom':[1]}"));
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_string_equal(o.row.account_id, ACCOUNT);
	assert_string_equal(o.row.display_name, "Engineering");
	assert_string_equal(o.row.external_id, "00g1");
	assert_null(o.row.group_id);
	assert_json_equal(o.members, J(a, "['u-1','u-2']"));
	assert_json_equal(o.resource,
	                  J(a, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
	                       "'displayName':'Engineering','externalId':'00g1','x-custom':[1]}"));
	/* no members, null members */
	o = group_from(a, false, J(a, "{'displayName':'E','members':null,'externalId':null}"));
	assert_int_equal(o.rc, TS_ERR_OK);
	assert_int_equal(json_array_size(o.members), 0);
	assert_null(o.row.external_id);
	assert_json_equal(o.resource, J(a, "{'displayName':'E'}"));
	ts_arena_free(&a);
}

static void test_group_bad_values(void **state)
{
	(void)state;
	static const struct bad_case bad[] = {
	        /* RFC 7643 §4.2: displayName required */
	        {"{}", false, "displayName is required"},
	        {"{'displayName':''}", false, "displayName is required"},
	        {"{'displayName':7}", false, "displayName is required"},
	        {"{'displayName':'G','externalId':{}}", false, "externalId must be a string"},
	        {"{'displayName':'G','members':{'value':'u'}}", false, "members must be an array"},
	        {"{'displayName':'G','members':['u-1']}", false, "needs a \"value\""},
	        {"{'displayName':'G','members':[{'display':'Ann'}]}", false, "needs a \"value\""},
	        {"{'displayName':'G','members':[{'value':5}]}", false, "needs a \"value\""},
	        {"{'displayName':'G','members':[{'value':null}]}", false, "needs a \"value\""},
	        /* C0 controls and DEL */
	        {"{'displayName':'G\\u001f'}", false, "displayName must not hold control"},
	        {"{'displayName':'G','externalId':'\\u007f'}", false, "externalId must not hold"},
	};
	int failed = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ts_arena_t *a = ts_arena_new();
		struct group_out o = group_from(a, bad[i].strict, J(a, bad[i].doc));
		if (o.rc != TS_ERR_BAD_REQUEST || o.scim_type == NULL ||
		    strcmp(o.scim_type, "invalidValue") != 0 ||
		    strstr(o.e.message, bad[i].message) == NULL) {
			print_error("case %zu %s: rc %d scimType %s message %s\n", i, bad[i].doc,
			            (int)o.rc, o.scim_type ? o.scim_type : "(none)", o.e.message);
			failed++;
		}
		ts_arena_free(&a);
	}
	assert_int_equal(failed, 0);

	/* members per request: TS__SCIM_GROUP_CREATE_MAX_MEMBERS, aws-strict 100 (item 62) */
	ts_arena_t *a = ts_arena_new();
	for (int strict = 0; strict < 2; strict++) {
		int max = strict ? TS_SCIM_STRICT_MAX_MEMBER_CHANGES
		                 : TS__SCIM_GROUP_CREATE_MAX_MEMBERS;
		json_t *doc =
		        ts_json_own(a, json_pack("{s:s, s:[]}", "displayName", "G", "members"));
		json_t *m = json_object_get(doc, "members");
		for (int i = 0; i < max; i++)
			json_array_append_new(m, json_pack("{s:s}", "value", "u"));
		struct group_out o = group_from(a, strict, ts_json_own(a, json_deep_copy(doc)));
		assert_int_equal(o.rc, TS_ERR_OK);
		assert_int_equal(json_array_size(o.members), max);
		json_array_append_new(m, json_pack("{s:s}", "value", "u"));
		o = group_from(a, strict, doc);
		assert_int_equal(o.rc, TS_ERR_BAD_REQUEST);
		assert_string_equal(o.scim_type, "invalidValue");
		assert_non_null(strstr(o.e.message, "too many members"));
	}
	ts_arena_free(&a);
}

static void test_group_render(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	struct group_out o = group_from(
	        a, false, J(a, "{'displayName':'Sales','externalId':'e1','x-custom':{'a':1}}"));
	assert_int_equal(o.rc, TS_ERR_OK);
	o.row.group_id = "g-9";
	o.row.version = 12;
	o.row.created_ms = CREATED_MS;
	o.row.modified_ms = MODIFIED_MS;
	o.row.display_name = "Sales EMEA"; /* the column wins */
	const struct ts_group_member m[] = {{"u-1", "Ann"}, {"u-2", NULL}};
	json_t *res = ts_json_own(a, ts__scim_group_render(&call, &o.row, m, 2));
	assert_json_equal(json_object_get(res, "schemas"),
	                  J(a, "['urn:ietf:params:scim:schemas:core:2.0:Group']"));
	assert_string_equal(ts_json_str(res, "id"), "g-9");
	assert_string_equal(ts_json_str(res, "displayName"), "Sales EMEA");
	assert_string_equal(ts_json_str(res, "externalId"), "e1");
	assert_json_equal(json_object_get(res, "x-custom"), J(a, "{'a':1}"));
	assert_json_equal(json_object_get(res, "members"),
	                  J(a, "[{'value':'u-1','display':'Ann','$ref':'" BASE "/Users/u-1',"
	                       "'type':'User'},{'value':'u-2','display':'','$ref':'" BASE
	                       "/Users/u-2','type':'User'}]"));
	assert_meta(&call, res, "Group", "Groups", "g-9", 12);
	res = ts_json_own(a, ts__scim_group_render(&call, &o.row, NULL, -1));
	assert_null(json_object_get(res, "members"));
	ts_arena_free(&a);
}

/* ---- attributes / excludedAttributes (RFC 7644 §3.4.2.5, item 76) ------------ */

struct attrs_case {
	const char *incl, *excl;
	const char *want;
};

#define DOC                                                                              \
	"{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1'," \
	"'userName':'a','name':{'givenName':'G','familyName':'F'},"                      \
	"'emails':[{'value':'a@x','type':'work'},{'value':'b@x','type':'home'}],"        \
	"'" ENT "':{'employeeNumber':'7','manager':{'value':'m','displayName':'M'}},"    \
	"'meta':{'resourceType':'User','version':'W/\\'1\\''}}"
#define ALWAYS "'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1'"

static const struct attrs_case attrs_cases[] = {
        {NULL, NULL, DOC},
        {"userName", NULL, "{" ALWAYS ",'userName':'a'}"},
        {"USERNAME", NULL, "{" ALWAYS ",'userName':'a'}"},
        {"id", NULL, "{" ALWAYS "}"},
        {"userName, name.givenName", NULL, "{" ALWAYS ",'userName':'a','name':{'givenName':'G'}}"},
        {"name.givenName,name", NULL, "{" ALWAYS ",'name':{'givenName':'G','familyName':'F'}}"},
        {"emails.value", NULL, "{" ALWAYS ",'emails':[{'value':'a@x'},{'value':'b@x'}]}"},
        /* several sub-attributes of one multi-valued attribute, in any order */
        {"emails.value,emails.type", NULL,
         "{" ALWAYS ",'emails':[{'value':'a@x','type':'work'},{'value':'b@x','type':'home'}]}"},
        {"emails.type,emails.value", NULL,
         "{" ALWAYS ",'emails':[{'value':'a@x','type':'work'},{'value':'b@x','type':'home'}]}"},
        {"emails,emails.value", NULL,
         "{" ALWAYS ",'emails':[{'value':'a@x','type':'work'},{'value':'b@x','type':'home'}]}"},
        {"emails.value,emails", NULL,
         "{" ALWAYS ",'emails':[{'value':'a@x','type':'work'},{'value':'b@x','type':'home'}]}"},
        {"emails.display", NULL, "{" ALWAYS ",'emails':[]}"},
        {"urn:ietf:params:scim:schemas:core:2.0:User:userName", NULL,
         "{" ALWAYS ",'userName':'a'}"},
        {ENT ":employeeNumber", NULL, "{" ALWAYS ",'" ENT "':{'employeeNumber':'7'}}"},
        {ENT ":manager.value", NULL, "{" ALWAYS ",'" ENT "':{'manager':{'value':'m'}}}"},
        {ENT, NULL,
         "{" ALWAYS ",'" ENT "':{'employeeNumber':'7','manager':{'value':'m','displayName':'M'}}}"},
        {"nosuch", NULL, "{" ALWAYS "}"},
        {NULL, "emails,meta",
         "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1',"
         "'userName':'a','name':{'givenName':'G','familyName':'F'},"
         "'" ENT "':{'employeeNumber':'7','manager':{'value':'m','displayName':'M'}}}"},
        /* returned "always" survives excludedAttributes */
        {NULL, "id,schemas,name.familyName,emails.type," ENT,
         "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1',"
         "'userName':'a','name':{'givenName':'G'},"
         "'emails':[{'value':'a@x'},{'value':'b@x'}],"
         "'meta':{'resourceType':'User','version':'W/\\'1\\''}}"},
        {"userName,name", "name.givenName",
         "{" ALWAYS ",'userName':'a','name':{'familyName':'F'}}"},
};

static void test_attrs_apply(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof attrs_cases / sizeof attrs_cases[0]; i++) {
		ts_arena_t *a = ts_arena_new();
		const struct attrs_case *c = &attrs_cases[i];
		struct ts__scim_call call = new_call(a, false);
		ts__scim_attrs_parse(&call, c->incl, c->excl);
		json_t *res = J(a, DOC);
		ts__scim_attrs_apply(&call, res, TS_SCIM_SCHEMA_USER);
		if (!json_equal(res, J(a, c->want))) {
			char *g = json_dumps(res, JSON_SORT_KEYS);
			print_error("case %zu attributes=%s excludedAttributes=%s: got %s\n", i,
			            c->incl ? c->incl : "", c->excl ? c->excl : "", g);
			free(g);
			failed++;
		}
		ts_arena_free(&a);
	}
	assert_int_equal(failed, 0);
}

static void test_attrs_want(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	ts__scim_attrs_parse(&call, NULL, NULL);
	assert_int_equal(call.attrs.nincl, 0);
	assert_true(ts__scim_attrs_want(&call, "groups", true));
	assert_false(ts__scim_attrs_want(&call, "members", false));
	ts__scim_attrs_parse(&call, " members.value , ,displayName ", "");
	assert_int_equal(call.attrs.nincl, 2);
	assert_int_equal(call.attrs.nexcl, 0);
	assert_true(ts__scim_attrs_want(&call, "MEMBERS", false));
	assert_false(ts__scim_attrs_want(&call, "groups", true));
	ts__scim_attrs_parse(&call, NULL, "groups");
	assert_false(ts__scim_attrs_want(&call, "groups", true));
	assert_true(ts__scim_attrs_want(&call, "emails", true));
	ts__scim_attrs_parse(&call, NULL, "groups.display");
	assert_true(ts__scim_attrs_want(&call, "groups", true)); /* a sub-attribute only */
	ts_arena_free(&a);
}

/* ---- the single-resource answer and If-Match (RFC 7644 §3.14, item 90) ------- */

static void test_answer_and_etag(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a, false);
	struct user_out o = user_from(a, false, "{'userName':'i'}");
	json_t *res = render_user(&call, &o, "u-i", 4, NULL, -1);
	ts__scim_attrs_parse(&call, "userName", NULL);
	ts__scim_answer_resource(&call, 201, json_incref(res), 4, TS_SCIM_SCHEMA_USER);
	json_decref(call.response);
	assert_int_equal(call.status, 201);
	/* RFC 7644 §3.3: Location equals meta.location, even when attributes drops meta */
	assert_string_equal(call.location, BASE "/Users/u-i");
	assert_string_equal(call.etag, "W/\"4\"");
	assert_null(json_object_get(res, "meta"));
	/* the ETag's digits, written by hand, at the ends of the range */
	static const int64_t versions[] = {0, 1, 9, 10, 1234567890123, INT64_MAX, -7, INT64_MIN};
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		assert_string_equal(ts__scim_etag(&call, versions[i]),
		                    ts_arena_printf(a, "W/\"%lld\"", (long long)versions[i]));

	struct ts__scim_call strict = new_call(a, true);
	res = render_user(&strict, &o, "u-i", 5, NULL, -1);
	ts__scim_answer_resource(&strict, 200, json_incref(res), 5, TS_SCIM_SCHEMA_USER);
	json_decref(strict.response);
	assert_null(strict.etag); /* aws-strict: no ETag header (AWS sends none) */
	assert_null(strict.location);

	static const struct {
		const char *if_match;
		bool ok;
	} im[] = {
	        {NULL, true},
	        {"W/\"4\"", true},
	        {"*", true},
	        {"W/\"1\", W/\"4\"", true},
	        {"W/\"4\",W/\"9\"", true},
	        {"W/\"3\"", false},
	        {"W/\"44\"", false},
	        {"W/\"14\"", false},
	        {"", false},
	};
	for (size_t i = 0; i < sizeof im / sizeof im[0]; i++) {
		struct ts_http_header h[] = {{"if-match", im[i].if_match}};
		struct ts_http_req req = {
		        .arena = a, .headers = h, .nheaders = im[i].if_match != NULL};
		struct ts__scim_call c = new_call(a, false);
		c.req = &req;
		struct ts_error e = {0};
		ts_err rc = ts__scim_check_if_match(&c, 4, &e);
		if (im[i].ok) {
			assert_int_equal(rc, TS_ERR_OK);
		} else {
			assert_int_equal(rc, TS_ERR_PRECONDITION);
			assert_null(c.scim_type);
		}
	}
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_user_okta_create),
	        cmocka_unit_test(test_user_entra_create),
	        cmocka_unit_test(test_user_server_owned_ignored),
	        cmocka_unit_test(test_user_twice_named_and_blank),
	        cmocka_unit_test(test_user_name_as_sent),
	        cmocka_unit_test(test_user_emails),
	        cmocka_unit_test(test_user_bad_values),
	        cmocka_unit_test(test_user_value_caps),
	        cmocka_unit_test(test_user_strict_accepts_aws_shape),
	        cmocka_unit_test(test_user_urn_canonical),
	        cmocka_unit_test(test_user_render_never_returns_password),
	        cmocka_unit_test(test_user_render),
	        cmocka_unit_test(test_user_round_trip),
	        cmocka_unit_test(test_group_from_doc),
	        cmocka_unit_test(test_group_bad_values),
	        cmocka_unit_test(test_group_render),
	        cmocka_unit_test(test_attrs_apply),
	        cmocka_unit_test(test_attrs_want),
	        cmocka_unit_test(test_answer_and_etag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
