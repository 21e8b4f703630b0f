/*
 * Unit tests of the audit redaction (src/audit/redact.c), the one
 * sweep every audit writer and the log go through.
 *
 * What it promises: a member whose name says secret (password, secret,
 * token, privateKey, client_secret, ClientSecret, PersonalPIN,
 * Authorization, ... in any case, URN-qualified, dotted, nested at any
 * depth) has its value replaced by "[redacted]"; so has the `value` of an
 * object whose `path` names a secret (a SCIM PATCH operation), and any
 * string that reads as a credential (Bearer / Basic, a Tessera token);
 * NextToken, AccessKeyId, ApiKeyId and plain attributes are kept; and when
 * nothing matches the text is byte for byte ts_jsonw_value's. The in-place
 * variant agrees with the writer on every case.
 * JSON is written with ' for " to keep the cases readable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "audit/redact.h"
#include "core/json.h"
#include "core/jsonw.h"

#define TOKEN "TSAKABCDEFGHIJKLMNOP.abcdefghijklmnopqrstuvwxyz0123456789ABCD"

static char *quotes(ts_arena_t *a, const char *text)
{
	char *s = ts_arena_strdup(a, text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static json_t *J(ts_arena_t *a, const char *text)
{
	char *s = quotes(a, text);
	json_t *doc = NULL;
	struct ts_error e = {0};
	if (ts_json_parse(s, strlen(s), NULL, a, &doc, &e) != TS_ERR_OK)
		fail_msg("bad test JSON %s: %s", s, e.message);
	return doc;
}

static const char *written(ts_arena_t *a, const json_t *j, bool redact)
{
	struct ts_jsonw w;
	ts_jsonw_init(&w, a, 16);
	if (redact)
		ts_audit_redact_write(&w, j);
	else
		ts_jsonw_value(&w, j);
	return ts_jsonw_finish(&w, NULL);
}

struct body_case {
	const char *in;
	const char *want; /* NULL: unchanged */
};

static const struct body_case body_cases[] = {
        /* SCIM bodies: the password in every spelling */
        {"{'userName':'a','password':'p1'}", "{'userName':'a','password':'[redacted]'}"},
        {"{'PASSWORD':'p1'}", "{'PASSWORD':'[redacted]'}"},
        {"{'urn:ietf:params:scim:schemas:core:2.0:User:password':'p1'}",
         "{'urn:ietf:params:scim:schemas:core:2.0:User:password':'[redacted]'}"},
        {"{'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:PassWord':'p1'}",
         "{'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:PassWord':'[redacted]'}"},
        {"{'urn:ietf:params:scim:schemas:core:2.0:User':{'password':'p1','title':'t'}}",
         "{'urn:ietf:params:scim:schemas:core:2.0:User':{'password':'[redacted]','title':'t'}}"},
        {"{'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User':{'Password':['p1']}}",
         "{'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User':{'Password':'[redacted]'}"
         "}"},
        {"{'name.password':'p1','password.value':{'a':1}}",
         "{'name.password':'[redacted]','password.value':'[redacted]'}"},
        /* PATCH operations: by path (any case of the member names), by value */
        {"{'Operations':[{'op':'replace','path':'password','value':'p1'}]}",
         "{'Operations':[{'op':'replace','path':'password','value':'[redacted]'}]}"},
        {"{'Operations':[{'op':'Replace','Path':'PASSWORD','Value':'p1'}]}",
         "{'Operations':[{'op':'Replace','Path':'PASSWORD','Value':'[redacted]'}]}"},
        {"{'Operations':[{'value':'p1','op':'add','path':'urn:ietf:params:scim:schemas:core:2.0:"
         "User:password'}]}",
         "{'Operations':[{'value':'[redacted]','op':'add','path':'urn:ietf:params:scim:schemas:"
         "core:2.0:User:password'}]}"},
        {"{'Operations':[{'op':'replace','value':{'password':'p1','title':'t'}}]}",
         "{'Operations':[{'op':'replace','value':{'password':'[redacted]','title':'t'}}]}"},
        {"{'Operations':[{'op':'replace','path':'title','value':'t'}]}", NULL},
        {"{'Operations':[{'op':'remove','path':'emails[value eq \\'a@b\\']'}]}", NULL},
        /* admin bodies and responses, tokens and other secrets */
        {"{'AdminKey':{'AccessKeyId':'TSAKX','Token':'t1'}}",
         "{'AdminKey':{'AccessKeyId':'TSAKX','Token':'[redacted]'}}"},
        {"{'ApiKey':{'ApiKeyId':'TSSKX','Token':'t1'}}",
         "{'ApiKey':{'ApiKeyId':'TSSKX','Token':'[redacted]'}}"},
        {"{'client_secret':'s','ClientSecret':'s','clientSecret':'s','privateKey':'k',"
         "'private_key':'k','access_token':'t','refreshToken':'t','secret':1,'PersonalPIN':'1'}",
         "{'client_secret':'[redacted]','ClientSecret':'[redacted]','clientSecret':'[redacted]',"
         "'privateKey':'[redacted]','private_key':'[redacted]','access_token':'[redacted]',"
         "'refreshToken':'[redacted]','secret':'[redacted]','PersonalPIN':'[redacted]'}"},
        {"{'headers':{'Authorization':'x','Cookie':'c'}}",
         "{'headers':{'Authorization':'[redacted]','Cookie':'[redacted]'}}"},
        {"{'a':[[{'deep':{'password':'p'}}]]}", "{'a':[[{'deep':{'password':'[redacted]'}}]]}"},
        /* credential-shaped text under any name */
        {"{'note':'Bearer abc','x':['basic Zm9vOmJhcg==','" TOKEN "']}",
         "{'note':'[redacted]','x':['[redacted]','[redacted]']}"},
        /* what must stay */
        {"{'NextToken':'abc','next-token':'abc','AccessKeyId':'TSAKX','TokenId':'x'}", NULL},
        {"{'password':null}", NULL},
        {"{'userName':'bearer','displayName':'TSAK.short','n':1.5,'b':true,'z':null}", NULL},
        {"{'Query':'next-token=abc&max-results=5','Path':'/scim/v2/Users'}", NULL},
        /* our events' Query member, pair by pair */
        {"{'Query':'max-results=5&access_token=abc&x=Bearer%20y&Client_Secret=s&q=" TOKEN
         "&next-token=n&flag'}",
         "{'Query':'max-results=5&access_token=[redacted]&x=[redacted]&Client_Secret=[redacted]"
         "&q=[redacted]&next-token=n&flag'}"},
        {"{'Query':'token='}", "{'Query':'token=[redacted]'}"},
        {"{'Query':'password'}", NULL},
        {"{'k':'\\u00e9\\n\\u0001'}", NULL},
};

static void test_redact_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
		const struct body_case *c = &body_cases[i];
		ts_arena_t *a = ts_arena_new();
		json_t *in = J(a, c->in);
		const char *want =
		        c->want ? written(a, J(a, c->want), false) : written(a, in, false);
		const char *got = written(a, in, true);
		if (strcmp(got, want) != 0)
			fail_msg("case %zu: %s\n got  %s\n want %s", i, c->in, got, want);
		/* in place: the same answer, and "changed" exactly when something was */
		bool changed = ts_audit_redact(in);
		const char *again = written(a, in, false);
		if (strcmp(again, want) != 0)
			fail_msg("case %zu in place: %s\n got  %s\n want %s", i, c->in, again,
			         want);
		assert_int_equal(changed, c->want != NULL);
		ts_arena_free(&a);
	}
}

struct name_case {
	const char *name;
	bool secret;
};

static const struct name_case name_cases[] = {
        {"password", true},
        {"Password", true},
        {"PASSWORD", true},
        {"urn:ietf:params:scim:schemas:core:2.0:User:password", true},
        {"name.password", true},
        {"oldPassword", true},
        {"client_secret", true},
        {"ClientSecret", true},
        {"client-secret", true},
        {"Token", true},
        {"id_token", true},
        {"privateKey", true},
        {"Private_Key", true},
        {"PersonalPIN", true},
        {"authorization", true},
        {"Set-Cookie", true},
        {"emails[value eq \"x\"].password", true},
        {"userName", false},
        {"displayName", false},
        {"NextToken", false},
        {"next-token", false},
        {"next_token", false},
        {"AccessKeyId", false},
        {"ApiKeyId", false},
        {"TokenId", false},
        {"urn:ietf:params:scim:schemas:core:2.0:User", false},
        {"emails[type eq \"work\"].value", false},
        {"", false},
};

static void test_secret_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
		const struct name_case *c = &name_cases[i];
		if (ts_audit_secret_name(c->name, strlen(c->name)) != c->secret)
			fail_msg("%s: want %s", c->name, c->secret ? "secret" : "not secret");
	}
}

static void test_secret_text(void **state)
{
	(void)state;
	static const struct name_case texts[] = {
	        {"Bearer x", true},  {"BEARER x", true},   {"Basic Zm9v", true},
	        {TOKEN, true},       {"Bearer", false},    {"TSAKABC", false},
	        {"TSAK.abc", false}, {"hello", false},     {"TSAKABC.short", false},
	        {"ts" TOKEN, false}, {"Bearer%20x", true}, {"basic+x", true},
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (ts_audit_secret_text(texts[i].name, strlen(texts[i].name)) != texts[i].secret)
			fail_msg("%s: want %s", texts[i].name, texts[i].secret ? "secret" : "not");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_redact_bodies),
	        cmocka_unit_test(test_secret_names),
	        cmocka_unit_test(test_secret_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
