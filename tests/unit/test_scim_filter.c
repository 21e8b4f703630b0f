/*
 * Unit tests of the SCIM filter module (src/scim/filter.c): the parse tree of
 * every grammar form (printed as an S-expression so that precedence shows),
 * every kind of error and cap, the canonical printer and its round trip, the
 * schema checker, and evaluation against Okta-, Entra- and Group-shaped
 * resources. Table-driven; each table row names the RFC rule or checklist
 * item of a SCIM client (Okta, Entra ID, AWS) it stands for where there is one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "scim/filter.h"

#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CORE_USER "urn:ietf:params:scim:schemas:core:2.0:User"

/* ---- S-expression dump of a parse tree ---- */

struct dump {
	char buf[8192];
	size_t len;
};

static void dput(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->buf + d->len, sizeof d->buf - d->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof d->buf - d->len);
	d->len += (size_t)n;
}

static void dpath(struct dump *d, const struct ts_scim_attr_path *p)
{
	if (p->urn != NULL)
		dput(d, "<%s>", p->urn);
	dput(d, "%s", p->attr);
	if (p->sub != NULL)
		dput(d, ".%s", p->sub);
}

static void dvalue(struct dump *d, const struct ts_scim_value *v)
{
	switch (v->type) {
	case TS_SCIM_VALUE_STRING:
		dput(d, "\"");
		for (size_t i = 0; i < v->str_len; i++) {
			unsigned char c = (unsigned char)v->str[i];
			if (c < 0x20 || c >= 0x7f || c == '\\')
				dput(d, "\\x%02x", c);
			else
				dput(d, "%c", c);
		}
		dput(d, "\"");
		break;
	case TS_SCIM_VALUE_NUMBER:
		if (v->is_int)
			dput(d, "int:%lld", (long long)v->i);
		else
			dput(d, "dec:%s", v->num_text);
		break;
	case TS_SCIM_VALUE_BOOL:
		dput(d, v->boolean ? "true" : "false");
		break;
	case TS_SCIM_VALUE_NULL:
		dput(d, "null");
		break;
	}
}

static void dfilter(struct dump *d, const struct ts_scim_filter *f)
{
	switch (f->kind) {
	case TS_SCIM_FILTER_AND:
	case TS_SCIM_FILTER_OR:
		dput(d, "(%s ", f->kind == TS_SCIM_FILTER_AND ? "and" : "or");
		dfilter(d, f->left);
		dput(d, " ");
		dfilter(d, f->right);
		dput(d, ")");
		break;
	case TS_SCIM_FILTER_NOT:
		dput(d, "(not ");
		dfilter(d, f->left);
		dput(d, ")");
		break;
	case TS_SCIM_FILTER_PRESENT:
		dput(d, "(pr ");
		dpath(d, &f->path);
		dput(d, ")");
		break;
	case TS_SCIM_FILTER_COMPARE:
		dput(d, "(%s ", ts_scim_op_name(f->op));
		dpath(d, &f->path);
		dput(d, " ");
		dvalue(d, &f->value);
		dput(d, ")");
		break;
	case TS_SCIM_FILTER_VALUE_PATH:
		dput(d, "(vp ");
		dpath(d, &f->path);
		dput(d, " ");
		dfilter(d, f->inner);
		dput(d, ")");
		break;
	}
}

static const char *sexp(const struct ts_scim_filter *f, struct dump *d)
{
	d->len = 0;
	d->buf[0] = '\0';
	dfilter(d, f);
	return d->buf;
}

static struct ts_scim_filter *parse_ok(ts_arena_t *a, const char *text, unsigned flags)
{
	struct ts_scim_filter *f = NULL;
	const char *type = "unset";
	struct ts_error e = {0};
	ts_err rc = ts_scim_filter_parse(a, text, strlen(text), flags, &f, &type, &e);
	if (rc != TS_ERR_OK)
		fail_msg("parse of [%s] failed: %s", text, e.message);
	assert_null(type);
	assert_non_null(f);
	return f;
}

/* parse(format(f)) == f, and the canonical form is a fixed point. */
static void assert_round_trip(ts_arena_t *a, const struct ts_scim_filter *f, unsigned flags)
{
	char *canon = ts_scim_filter_format(a, f);
	struct ts_scim_filter *g = parse_ok(a, canon, 0);
	if (!ts_scim_filter_equal(f, g))
		fail_msg("round trip changed the tree: [%s]", canon);
	assert_string_equal(ts_scim_filter_format(a, g), canon);
}

/* ---- Successful parses ---- */

struct parse_case {
	const char *text;
	unsigned flags;
	const char *tree;
};

static const struct parse_case parse_cases[] = {
        /* every operator, RFC 7644 §3.4.2.2 Table 3 */
        {"userName eq \"bjensen\"", 0, "(eq userName \"bjensen\")"},
        {"name.familyName co \"O'Malley\"", 0, "(co name.familyName \"O'Malley\")"},
        {"userName sw \"J\"", 0, "(sw userName \"J\")"},
        {"userName ew \"sen\"", 0, "(ew userName \"sen\")"},
        {"title ne \"CEO\"", 0, "(ne title \"CEO\")"},
        {"title pr", 0, "(pr title)"},
        {"meta.lastModified gt \"2011-05-13T04:42:34Z\"", 0,
         "(gt meta.lastModified \"2011-05-13T04:42:34Z\")"},
        {"meta.lastModified ge \"2011-05-13T04:42:34Z\"", 0,
         "(ge meta.lastModified \"2011-05-13T04:42:34Z\")"},
        {"meta.lastModified lt \"2011-05-13T04:42:34Z\"", 0,
         "(lt meta.lastModified \"2011-05-13T04:42:34Z\")"},
        {"meta.lastModified le \"2011-05-13T04:42:34Z\"", 0,
         "(le meta.lastModified \"2011-05-13T04:42:34Z\")"},
        /* operators and names are case-insensitive (item 69); names kept as written */
        {"Username EQ \"x\"", 0, "(eq Username \"x\")"},
        {"userName Eq \"x\"", 0, "(eq userName \"x\")"},
        {"title PR", 0, "(pr title)"},
        {"a pr AND b pr Or c pr", 0, "(or (and (pr a) (pr b)) (pr c))"},
        /* URN-qualified names: the URN ends at the last ':' (RFC 7644 §3.10) */
        {CORE_USER ":userName sw \"J\"", 0, "(sw <" CORE_USER ">userName \"J\")"},
        {ENT ":employeeNumber eq \"7\"", 0, "(eq <" ENT ">employeeNumber \"7\")"},
        {ENT ":manager.value eq \"26118915\"", 0, "(eq <" ENT ">manager.value \"26118915\")"},
        {"urn:x:y pr", 0, "(pr <urn:x>y)"},
        /* precedence: not > and > or; chains are left-associative */
        {"a pr or b pr and c pr", 0, "(or (pr a) (and (pr b) (pr c)))"},
        {"a pr and b pr or c pr", 0, "(or (and (pr a) (pr b)) (pr c))"},
        {"a pr and b pr and c pr", 0, "(and (and (pr a) (pr b)) (pr c))"},
        {"a pr or b pr or c pr", 0, "(or (or (pr a) (pr b)) (pr c))"},
        {"(a pr or b pr) and c pr", 0, "(and (or (pr a) (pr b)) (pr c))"},
        {"a pr and (b pr or c pr)", 0, "(and (pr a) (or (pr b) (pr c)))"},
        {"a pr and (b pr and c pr)", 0, "(and (pr a) (and (pr b) (pr c)))"},
        {"not (a pr) and b pr", 0, "(and (not (pr a)) (pr b))"},
        {"not(a pr)", 0, "(not (pr a))"},
        {"NOT (a pr or b pr)", 0, "(not (or (pr a) (pr b)))"},
        {"a pr or not (b pr) and c pr", 0, "(or (pr a) (and (not (pr b)) (pr c)))"},
        {"not (not (a pr))", 0, "(not (not (pr a)))"},
        {"((userName eq \"x\"))", 0, "(eq userName \"x\")"},
        {"  userName \t eq   \"x\"  ", 0, "(eq userName \"x\")"},
        {"(a pr)and(b pr)", 0, "(and (pr a) (pr b))"},
        /* RFC 7644 §3.4.2.2 examples */
        {"userType eq \"Employee\" and (emails co \"example.com\" or emails.value co "
         "\"example.org\")",
         0,
         "(and (eq userType \"Employee\") (or (co emails \"example.com\") (co emails.value "
         "\"example.org\")))"},
        {"userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
         "\"example.org\")",
         0,
         "(and (ne userType \"Employee\") (not (or (co emails \"example.com\") (co emails.value "
         "\"example.org\"))))"},
        {"userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]", 0,
         "(and (eq userType \"Employee\") (vp emails (and (eq type \"work\") (co value "
         "\"@example.com\"))))"},
        {"emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and "
         "value co \"@foo.com\"]",
         0,
         "(or (vp emails (and (eq type \"work\") (co value \"@example.com\"))) (vp ims (and (eq "
         "type \"xmpp\") (co value \"@foo.com\"))))"},
        {"members[value eq \"2819c223\"]", 0, "(vp members (eq value \"2819c223\"))"},
        {"members[$ref pr]", 0, "(vp members (pr $ref))"},
        {"emails[not (type eq \"work\")]", 0, "(vp emails (not (eq type \"work\")))"},
        {CORE_USER ":emails[type eq \"work\"]", 0, "(vp <" CORE_USER ">emails (eq type \"work\"))"},
        /* Entra's attr[filter].sub form (item 26) means attr[filter and sub op value] */
        {"emails[type eq \"work\"].value eq \"a@b\"", 0,
         "(vp emails (and (eq type \"work\") (eq value \"a@b\")))"},
        {"emails[type eq \"work\" or type eq \"home\"].value pr", 0,
         "(vp emails (and (or (eq type \"work\") (eq type \"home\")) (pr value)))"},
        {"emails[type eq \"work\"].value eq \"a@b\" and userName pr", 0,
         "(and (vp emails (and (eq type \"work\") (eq value \"a@b\"))) (pr userName))"},
        /* a word "not" without "(" is an attribute name */
        {"not eq \"x\"", 0, "(eq not \"x\")"},
        {"x-y_z9 pr", 0, "(pr x-y_z9)"},
        /* strings: JSON escapes, \uXXXX, surrogate pairs, raw UTF-8 */
        {"x eq \"a\\\"b\\\\c\\/d\"", 0, "(eq x \"a\"b\\x5cc/d\")"},
        {"x eq \"\\b\\f\\n\\r\\t\"", 0, "(eq x \"\\x08\\x0c\\x0a\\x0d\\x09\")"},
        {"x eq \"\\u00e9\\u00C9\"", 0, "(eq x \"\\xc3\\xa9\\xc3\\x89\")"},
        {"x eq \"\\ud83d\\ude00\"", 0, "(eq x \"\\xf0\\x9f\\x98\\x80\")"},
        {"x eq \"Jos\xc3\xa9\"", 0, "(eq x \"Jos\\xc3\\xa9\")"},
        {"x eq \"\"", 0, "(eq x \"\")"},
        {"displayName eq \"A B\"", 0, "(eq displayName \"A B\")"},
        {"x eq \"a and b or c)\"", 0, "(eq x \"a and b or c)\")"},
        /* numbers: JSON grammar */
        {"x eq 42", 0, "(eq x int:42)"},
        {"x eq -7", 0, "(eq x int:-7)"},
        {"x eq 0", 0, "(eq x int:0)"},
        {"x gt 3.14", 0, "(gt x dec:3.14)"},
        {"x lt -0.5e-3", 0, "(lt x dec:-0.5e-3)"},
        {"x eq 1E10", 0, "(eq x dec:1E10)"},
        {"x eq 9223372036854775807", 0, "(eq x int:9223372036854775807)"},
        {"x eq 9223372036854775808", 0, "(eq x dec:9223372036854775808)"},
        /* literals (ABNF strings are case-insensitive, RFC 5234 §2.3) */
        {"active eq true", 0, "(eq active true)"},
        {"active eq False", 0, "(eq active false)"},
        {"x eq null", 0, "(eq x null)"},
        {"x ne NULL", 0, "(ne x null)"},
        /* unquoted values only with the permissive flag (item 25) */
        {"externalId eq jyoung", TS_SCIM_FILTER_BARE_VALUES, "(eq externalId \"jyoung\")"},
        {"userName eq a.b@c.d and x eq 12", TS_SCIM_FILTER_BARE_VALUES,
         "(and (eq userName \"a.b@c.d\") (eq x int:12))"},
        {"x eq 1e", TS_SCIM_FILTER_BARE_VALUES, "(eq x \"1e\")"},
};

static void test_parse_table(void **state)
{
	(void)state;
	struct dump d;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_filter *f = parse_ok(a, c->text, c->flags);
		if (strcmp(sexp(f, &d), c->tree) != 0)
			fail_msg("[%s]\n got  %s\n want %s", c->text, d.buf, c->tree);
		assert_round_trip(a, f, c->flags);
		ts_arena_free(&a);
	}
}

/* ---- Errors ---- */

struct error_case {
	const char *text;
	unsigned flags;
	const char *message; /* substring of the error message */
};

static const struct error_case error_cases[] = {
        {"", 0, "empty"},
        {"   ", 0, "empty"},
        {"userName", 0, "operator"},
        {"userName ", 0, "operator"},
        {"userName eq", 0, "missing value"},
        {"userName eq ", 0, "missing value"},
        {"userName xx \"x\"", 0, "unknown operator 'xx'"},
        {"userName eqq \"x\"", 0, "unknown operator 'eqq'"},
        {"userName eq1 \"x\"", 0, "unknown operator 'eq1'"},
        {"userName = \"x\"", 0, "expected an operator"},
        {"userName eq \"x", 0, "unterminated string"},
        {"userName eq \"x\\\"", 0, "unterminated string"},
        {"userName eq \"x\" garbage", 0, "expected 'and', 'or' or the end"},
        {"userName eq \"x\" \"y\"", 0, "expected 'and', 'or' or the end"},
        {"userName eq \"x\")", 0, "unbalanced ')'"},
        {"(userName eq \"x\"", 0, "expected ')'"},
        {"((userName eq \"x\")", 0, "expected ')'"},
        {"()", 0, "expected an attribute name"},
        {"not userName eq \"x\"", 0, "unknown operator 'userName'"},
        {"not (userName eq \"x\"", 0, "expected ')'"},
        {"userName eq \"x\" and", 0, "expected an expression"},
        {"userName eq \"x\" or ", 0, "expected an expression"},
        {"and userName eq \"x\"", 0, "unknown operator"},
        {"emails[type eq \"work\"", 0, "expected ']'"},
        {"emails[type eq \"work\"]]", 0, "unbalanced ']'"},
        {"emails[]", 0, "expected an attribute name"},
        {"emails[type eq \"work\"] eq \"x\"", 0, "expected 'and', 'or' or the end"},
        {"emails[type[value eq \"x\"] pr]", 0, "cannot be nested"},
        {"emails[type eq \"work\"].value", 0, "operator"},
        {"emails[type eq \"work\"].value[x pr]", 0, "operator"},
        {"emails[type eq \"work\"].value.x eq \"y\"", 0, "sub-attribute name"},
        {"emails[type eq \"work\"]. eq \"y\"", 0, "sub-attribute name"},
        {"emails[" CORE_USER ":type eq \"w\"]", 0, "sub-attributes only"},
        {"emails[a.b eq \"w\"]", 0, "sub-attributes only"},
        {"name.familyName[x pr]", 0, "not to sub-attribute"},
        {"userName eq x", 0, "strings need double quotes"},
        {"userName eq 'x'", 0, "expected a value"},
        {"x eq tru", 0, "not a value"},
        {"x eq 01", 0, "not a value"},
        {"x eq 1.", 0, "not a value"},
        {"x eq .5", 0, "not a value"},
        {"x eq -", 0, "not a value"},
        {"x eq 1e+", 0, "not a value"},
        {"x eq 1e999", 0, "out of range"},
        {"x eq 1e999", TS_SCIM_FILTER_BARE_VALUES, "out of range"},
        {"userName eq \"a\\qb\"", 0, "invalid escape"},
        {"userName eq \"\\u12\"", 0, "four hex digits"},
        {"userName eq \"\\u12G4\"", 0, "four hex digits"},
        {"userName eq \"\\ud800\"", 0, "high surrogate"},
        {"userName eq \"\\ud800\\u0041\"", 0, "high surrogate"},
        {"userName eq \"\\udc00\"", 0, "lone low surrogate"},
        {"userName eq \"\\u0000\"", 0, "\\u0000"},
        {"userName eq \"a\x01\"", 0, "control character"},
        {"userName eq \"a\nb\"", 0, "control character"},
        {"userName eq \"\xff\"", 0, "invalid UTF-8"},
        {"userName eq \"\xc3\"", 0, "invalid UTF-8"},
        {"userName eq \"\xc0\xaf\"", 0, "invalid UTF-8"},     /* overlong '/' */
        {"userName eq \"\xed\xa0\x80\"", 0, "invalid UTF-8"}, /* UTF-8 surrogate */
        {"urn:a pr", 0, "not a valid schema URN"},
        {"urn:ietf::x:attr pr", 0, "not a valid schema URN"},
        {"urn:ietf:x::attr pr", 0, "not a valid schema URN"},
        {"urn:ietf:x:$ref pr", 0, "not a valid attribute name"},
        {"foo:bar pr", 0, "not an attribute path"},
        {"1abc pr", 0, "not a valid attribute name"},
        {"$ref pr", 0, "not a valid attribute name"},
        {"-x pr", 0, "not a valid attribute name"},
        {"name.given.family pr", 0, "not a valid sub-attribute name"},
        {"name. pr", 0, "not a valid sub-attribute name"},
        {".name pr", 0, "not a valid attribute name"},
        {"\"userName\" eq \"x\"", 0, "expected an attribute name"},
        {"userName eq \"x\" and \x01", 0, "byte 0x01"},
};

static void test_error_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_filter *f = (struct ts_scim_filter *)1;
		const char *type = NULL;
		struct ts_error e = {0};
		ts_err rc =
		        ts_scim_filter_parse(a, c->text, strlen(c->text), c->flags, &f, &type, &e);
		if (rc == TS_ERR_OK)
			fail_msg("[%s] parsed but must fail", c->text);
		assert_int_equal(rc, TS_ERR_BAD_REQUEST);
		assert_int_equal(e.code, TS_ERR_BAD_REQUEST);
		assert_null(f);
		assert_non_null(type);
		assert_string_equal(type, TS_SCIM_INVALID_FILTER);
		if (strstr(e.message, c->message) == NULL)
			fail_msg("[%s]: message [%s] lacks [%s]", c->text, e.message, c->message);
		ts_arena_free(&a);
	}
}

static void test_error_offset_and_nul(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_filter *f = NULL;
	struct ts_error e = {0};
	const char *type = NULL;
	assert_int_equal(ts_scim_filter_parse(a, "userName zz \"x\"", 15, 0, &f, &type, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "offset 9"));

	/* an embedded NUL (the caller passes the length) is refused, not truncated */
	static const char nul[] = "userName eq \"x\"\0 or title pr";
	assert_int_equal(ts_scim_filter_parse(a, nul, sizeof nul - 1, 0, &f, &type, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "NUL"));
	assert_string_equal(type, TS_SCIM_INVALID_FILTER);

	/* NULL error and scimType pointers are allowed */
	assert_int_equal(ts_scim_filter_parse(a, "(", 1, 0, &f, NULL, NULL), TS_ERR_BAD_REQUEST);
	assert_null(f);
	/* the length bounds the read: the text need not be NUL-terminated */
	assert_int_equal(ts_scim_filter_parse(a, "title prXYZ", 8, 0, &f, NULL, NULL), TS_ERR_OK);
	assert_int_equal(f->kind, TS_SCIM_FILTER_PRESENT);
	ts_arena_free(&a);
}

/* ---- Caps ---- */

static char *repeat_filter(const char *open, int n_open, const char *mid, const char *close,
                           int n_close)
{
	size_t len = strlen(open) * (size_t)n_open + strlen(mid) + strlen(close) * (size_t)n_close;
	char *s = ts_malloc(len + 1);
	size_t o = 0;
	for (int i = 0; i < n_open; i++, o += strlen(open))
		memcpy(s + o, open, strlen(open));
	memcpy(s + o, mid, strlen(mid));
	o += strlen(mid);
	for (int i = 0; i < n_close; i++, o += strlen(close))
		memcpy(s + o, close, strlen(close));
	s[o] = '\0';
	return s;
}

static ts_err try_parse(ts_arena_t *a, const char *s, struct ts_error *e, struct ts_scim_filter **f)
{
	const char *type = NULL;
	ts_err rc = ts_scim_filter_parse(a, s, strlen(s), 0, f, &type, e);
	if (rc != TS_ERR_OK)
		assert_string_equal(type, TS_SCIM_INVALID_FILTER);
	return rc;
}

static void test_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct ts_scim_filter *f = NULL;
	int max = TS_SCIM_FILTER_MAX_DEPTH;

	/* depth: parentheses, "not (", brackets and mixtures */
	char *s = repeat_filter("(", max, "a pr", ")", max);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_OK);
	ts_free(s);
	s = repeat_filter("(", max + 1, "a pr", ")", max + 1);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "nested deeper than 32"));
	ts_free(s);
	s = repeat_filter("not (", max, "a pr", ")", max);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_OK);
	assert_round_trip(a, f, 0);
	ts_free(s);
	s = repeat_filter("not (", max + 1, "a pr", ")", max + 1);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "nested deeper"));
	ts_free(s);
	s = repeat_filter("(", max - 1, "emails[type pr]", ")", max - 1);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_OK);
	ts_free(s);
	s = repeat_filter("(", max, "emails[type pr]", ")", max);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	ts_free(s);
	/* hostile depth far beyond the cap fails cleanly (no stack exhaustion) */
	s = repeat_filter("(", 100000, "a pr", ")", 100000);
	assert_int_equal(ts_scim_filter_parse(a, s, strlen(s), 0, &f, NULL, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "longer than 4096"));
	ts_free(s);
	s = repeat_filter("(", 4000, "", "", 0);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "nested deeper"));
	ts_free(s);

	/*
	 * Entra's form with "or" inside: printed as emails[(... or ...) and value pr],
	 * one level deeper, so the cap counts that level and the round trip holds.
	 */
	s = repeat_filter("(", max - 2, "type pr", ")", max - 2);
	char *ok = ts_arena_printf(a, "emails[%s or type pr].value pr", s);
	assert_int_equal(try_parse(a, ok, &e, &f), TS_ERR_OK);
	assert_round_trip(a, f, 0);
	ts_free(s);
	s = repeat_filter("(", max - 1, "type pr", ")", max - 1);
	char *bad = ts_arena_printf(a, "emails[%s or type pr].value pr", s);
	assert_int_equal(try_parse(a, bad, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "nested deeper"));
	/* ... but without "or" on top nothing is added, so the same depth is fine */
	char *and = ts_arena_printf(a, "emails[%s and type pr].value pr", s);
	assert_int_equal(try_parse(a, and, &e, &f), TS_ERR_OK);
	assert_round_trip(a, f, 0);
	ts_free(s);

	/* comparisons: 64 fine, 65 not, value filters included */
	s = repeat_filter("a pr or ", TS_SCIM_FILTER_MAX_COMPARISONS - 1, "a pr", "", 0);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_OK);
	assert_round_trip(a, f, 0);
	ts_free(s);
	s = repeat_filter("a pr or ", TS_SCIM_FILTER_MAX_COMPARISONS, "a pr", "", 0);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "more than 64 comparisons"));
	ts_free(s);
	s = repeat_filter("x[a pr and b pr] and ", TS_SCIM_FILTER_MAX_COMPARISONS / 2, "c pr", "",
	                  0);
	assert_int_equal(try_parse(a, s, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "more than 64 comparisons"));
	ts_free(s);

	/* length: 4096 bytes fine, 4097 not */
	char *len_ok = ts_malloc(TS_SCIM_FILTER_MAX_LEN + 2);
	const char *head = "userName eq \"";
	memcpy(len_ok, head, strlen(head));
	memset(len_ok + strlen(head), 'x', TS_SCIM_FILTER_MAX_LEN - strlen(head) - 1);
	len_ok[TS_SCIM_FILTER_MAX_LEN - 1] = '"';
	len_ok[TS_SCIM_FILTER_MAX_LEN] = '\0';
	assert_int_equal(try_parse(a, len_ok, &e, &f), TS_ERR_OK);
	assert_int_equal(f->value.str_len, TS_SCIM_FILTER_MAX_LEN - strlen(head) - 1);
	len_ok[TS_SCIM_FILTER_MAX_LEN] = ' ';
	len_ok[TS_SCIM_FILTER_MAX_LEN + 1] = '\0';
	assert_int_equal(try_parse(a, len_ok, &e, &f), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "longer than 4096 bytes"));
	ts_free(len_ok);
	ts_arena_free(&a);
}

/* ---- Printer ---- */

struct format_case {
	const char *text;
	const char *canonical;
};

static const struct format_case format_cases[] = {
        {"USERNAME EQ \"x\"", "USERNAME eq \"x\""},
        {"  a   pr  ", "a pr"},
        {"((a pr))", "a pr"},
        {"not(a pr)", "not (a pr)"},
        {"(a pr or b pr) and c pr", "(a pr or b pr) and c pr"},
        {"a pr or (b pr and c pr)", "a pr or b pr and c pr"},
        {"(a pr and b pr) and c pr", "a pr and b pr and c pr"},
        {"a pr and (b pr and c pr)", "a pr and (b pr and c pr)"},
        {"a pr or (b pr or c pr)", "a pr or (b pr or c pr)"},
        {"x eq \"\\u00e9\\n\\\"\\/\\u001f\"", "x eq \"\xc3\xa9\\n\\\"/\\u001f\""},
        {"x eq 1E10", "x eq 1E10"},
        {"active eq TRUE", "active eq true"},
        {"x ne Null", "x ne null"},
        {"emails[type eq \"work\"].value eq \"x\"", "emails[type eq \"work\" and value eq \"x\"]"},
        {"emails[type eq \"w\" or type eq \"h\"].value pr",
         "emails[(type eq \"w\" or type eq \"h\") and value pr]"},
        {ENT ":manager.value eq \"m\"", ENT ":manager.value eq \"m\""},
};

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_filter *f = parse_ok(a, format_cases[i].text, 0);
		assert_string_equal(ts_scim_filter_format(a, f), format_cases[i].canonical);
		assert_round_trip(a, f, 0);
		ts_arena_free(&a);
	}
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_filter *f = parse_ok(a, "x eq jyoung", TS_SCIM_FILTER_BARE_VALUES);
	assert_string_equal(ts_scim_filter_format(a, f), "x eq \"jyoung\"");
	/* equality: names compare case-insensitively, values exactly */
	assert_true(ts_scim_filter_equal(parse_ok(a, "USERNAME eq \"x\"", 0),
	                                 parse_ok(a, "userName EQ \"x\"", 0)));
	assert_false(ts_scim_filter_equal(parse_ok(a, "userName eq \"X\"", 0),
	                                  parse_ok(a, "userName eq \"x\"", 0)));
	assert_false(ts_scim_filter_equal(parse_ok(a, "a pr and b pr", 0),
	                                  parse_ok(a, "a pr or b pr", 0)));
	assert_false(ts_scim_filter_equal(parse_ok(a, "x eq 1", 0), parse_ok(a, "x eq 1.0", 0)));
	assert_false(ts_scim_filter_equal(parse_ok(a, "x eq 1", 0), parse_ok(a, "x eq \"1\"", 0)));
	assert_false(ts_scim_filter_equal(parse_ok(a, "x.y pr", 0), parse_ok(a, "x pr", 0)));
	ts_arena_free(&a);
}

/* ---- Checker ---- */

enum rules_id { RULES_NONE, RULES_USER, RULES_GROUP };

static const struct ts_scim_attr_rules *rules_of(enum rules_id id)
{
	return id == RULES_USER    ? ts_scim_attr_rules_user()
	       : id == RULES_GROUP ? ts_scim_attr_rules_group()
	                           : NULL;
}

struct check_case {
	enum rules_id rules;
	const char *text;
	const char *message; /* NULL: accepted */
};

static const struct check_case check_cases[] = {
        {RULES_USER, "userName eq \"x\"", NULL},
        {RULES_USER, "USERNAME sw \"x\"", NULL},
        {RULES_USER, "externalId eq \"x\" and id eq \"y\"", NULL},
        {RULES_USER, "name.familyName co \"x\"", NULL},
        {RULES_USER, "name pr", NULL},
        {RULES_USER, "emails eq \"a@b\"", NULL},
        {RULES_USER, "emails[type eq \"work\" and value co \"@x\"]", NULL},
        {RULES_USER, "emails[type eq \"work\"].value eq \"x\"", NULL},
        {RULES_USER, "emails[primary eq true]", NULL},
        {RULES_USER, "active eq true", NULL},
        {RULES_USER, "active ne false", NULL},
        {RULES_USER, "active eq null", NULL},
        {RULES_USER, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", NULL},
        {RULES_USER, "meta.created le \"2011-05-13T04:42:34.5+02:00\"", NULL},
        {RULES_USER, ENT ":employeeNumber eq \"7\"", NULL},
        {RULES_USER, ENT ":manager.value eq \"7\"", NULL},
        {RULES_USER, ENT ":manager eq \"7\"", NULL},
        {RULES_USER, "urn:IETF:params:scim:schemas:extension:enterprise:2.0:user:department pr",
         NULL},
        {RULES_USER, CORE_USER ":userName eq \"x\"", NULL},
        {RULES_USER, "employeeNumber eq \"7\"", NULL},
        {RULES_USER, "groups.value eq \"g\"", NULL},
        {RULES_USER, "title pr or not (nickName pr)", NULL},
        {RULES_USER, "x509Certificates.value eq \"MIIB\"", NULL},
        /* RFC 7644 §3.4.2.2: gt/ge/lt/le on boolean (and binary) are invalidFilter (item 73) */
        {RULES_USER, "active gt true", "operator gt is not allowed on boolean 'active'"},
        {RULES_USER, "active le false", "not allowed on boolean"},
        {RULES_USER, "active co \"t\"", "not allowed on boolean"},
        {RULES_USER, "emails[primary gt false]", "not allowed on boolean 'emails.primary'"},
        {RULES_USER, "x509Certificates.value gt \"a\"", "not allowed on binary"},
        {RULES_USER, "active eq \"true\"", "compares with true or false"},
        {RULES_USER, "meta.created co \"2024\"", "operator co is not allowed on dateTime"},
        {RULES_USER, "meta.created sw \"2024\"", "not allowed on dateTime"},
        {RULES_USER, "meta.created gt \"yesterday\"", "RFC 3339"},
        {RULES_USER, "meta.created gt 5", "RFC 3339"},
        {RULES_USER, "userName eq 5", "compares with a quoted string"},
        {RULES_USER, "userName eq true", "compares with a quoted string"},
        {RULES_USER, "userName gt null", "only eq and ne"},
        {RULES_USER, "foo eq \"x\"", "unknown attribute 'foo'"},
        {RULES_USER, "name.foo eq \"x\"", "unknown attribute 'name.foo'"},
        {RULES_USER, "userName.x eq \"a\"", "has no sub-attributes"},
        {RULES_USER, "password eq \"hunter2\"", "cannot be used in a filter"},
        {RULES_USER, "password pr", "cannot be used in a filter"},
        {RULES_USER, "name eq \"x\"", "needs a sub-attribute"},
        {RULES_USER, "addresses eq \"x\"", "needs a sub-attribute"},
        {RULES_USER, "userName[value eq \"x\"]", "not complex"},
        {RULES_USER, "emails[foo eq \"x\"]", "unknown attribute 'emails.foo'"},
        {RULES_USER, "emails[type eq \"work\"].foo eq \"x\"", "unknown attribute 'emails.foo'"},
        {RULES_USER, "members eq \"x\"", "unknown attribute 'members'"},
        {RULES_USER, ENT ":userName eq \"x\"", "unknown attribute"},
        {RULES_USER, "urn:x:y:userName eq \"x\"", "unknown attribute"},
        {RULES_USER, "userName pr and active gt true", "not allowed on boolean"},
        {RULES_USER, "not (active gt true)", "not allowed on boolean"},
        {RULES_GROUP, "members eq \"x\"", NULL},
        {RULES_GROUP, "members[value eq \"x\"]", NULL},
        {RULES_GROUP, "displayName eq \"x\"", NULL},
        {RULES_GROUP, "id eq \"g\" and members eq \"u\"", NULL},
        {RULES_GROUP, "userName eq \"x\"", "unknown attribute 'userName'"},
        {RULES_GROUP, ENT ":employeeNumber eq \"7\"", "unknown attribute"},
        {RULES_NONE, "foo gt true", NULL},
};

static void test_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
		const struct check_case *c = &check_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_filter *f = parse_ok(a, c->text, 0);
		struct ts_error e = {0};
		ts_err rc = ts_scim_filter_check(f, rules_of(c->rules), &e);
		if (c->message == NULL) {
			if (rc != TS_ERR_OK)
				fail_msg("[%s] refused: %s", c->text, e.message);
		} else {
			if (rc != TS_ERR_BAD_REQUEST)
				fail_msg("[%s] accepted but must be refused", c->text);
			assert_int_equal(e.code, TS_ERR_BAD_REQUEST);
			if (strstr(e.message, c->message) == NULL)
				fail_msg("[%s]: message [%s] lacks [%s]", c->text, e.message,
				         c->message);
		}
		ts_arena_free(&a);
	}
	struct ts_error e = {0};
	assert_int_equal(ts_scim_filter_check(NULL, ts_scim_attr_rules_user(), &e),
	                 TS_ERR_BAD_REQUEST);
}

/* ---- Evaluation ---- */

/* A user as Okta creates it (scim-clients.md item 6), with the enterprise extension. */
static const char okta_user[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
        "\"id\":\"23a35c27-23d3-4c03-b4c5-6443c09e7173\","
        "\"externalId\":\"00u1dhhb1fkIGP7RL1d8\","
        "\"userName\":\"test.user@okta.local\","
        "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
        "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"},"
        "{\"primary\":false,\"value\":\"tu@home.example\",\"type\":\"home\"}],"
        "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"active\":true,"
        "\"groups\":[],\"title\":\"\",\"nickName\":null,"
        "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-03-01T10:00:00Z\","
        "\"lastModified\":\"2024-03-05T12:30:00.250+02:00\"},"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
        "{\"employeeNumber\":\"701984\",\"department\":\"Tour Operations\","
        "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\","
        "\"displayName\":\"John Smith\"}}}";

/* A user as Entra ID's provisioning service posts it (scim-clients.md item 28). */
static const char entra_user[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
        "\"id\":\"e7d4c4a2-bd5f-4f2c-a8f7-5c3f0f2e1d11\","
        "\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\","
        "\"userName\":\"Test_User_dfeef4c5@contoso.com\",\"active\":true,\"addresses\":null,"
        "\"displayName\":\"Test User\","
        "\"emails\":[{\"type\":\"work\",\"value\":\"Test_User_11bb11bb@contoso.com\","
        "\"primary\":true}],"
        "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-03-05T10:30:00+01:00\"},"
        "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"familyName\","
        "\"givenName\":\"givenName\"},\"roles\":[],"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
        "{\"employeeNumber\":\"1\",\"manager\":null}}";

static const char group[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g-1\","
        "\"displayName\":\"Test SCIMv2\","
        "\"members\":[{\"value\":\"U1\",\"display\":\"Alice\"},{\"value\":\"u2\"}]}";

static const char numbers[] = "{\"age\":42,\"score\":3.5,\"big\":9007199254740993,"
                              "\"flag\":false,\"tags\":[\"red\",\"Green\"]}";

enum doc_id { OKTA, ENTRA, GROUP, NUMBERS };

struct match_case {
	enum doc_id doc;
	enum rules_id rules;
	const char *text;
	bool want;
};

#define OKTA_ID "23a35c27-23d3-4c03-b4c5-6443c09e7173"
#define MGR "26118915-6090-4610-87e4-49d8ca9f808d"

static const struct match_case match_cases[] = {
        /* items 2-4: userName eq is case-insensitive (RFC 7643 §4.1.1) */
        {OKTA, RULES_USER, "userName eq \"test.user@okta.local\"", true},
        {OKTA, RULES_USER, "userName eq \"TEST.USER@OKTA.LOCAL\"", true},
        {OKTA, RULES_USER, "USERNAME EQ \"Test.User@Okta.Local\"", true},
        {OKTA, RULES_USER, "userName eq \"other@okta.local\"", false},
        {OKTA, RULES_USER, "userName eq \"test.user@okta.loca\"", false},
        {OKTA, RULES_USER, "userName ne \"TEST.user@okta.local\"", false},
        {OKTA, RULES_USER, "userName ne \"x\"", true},
        /* item 70: id and externalId are caseExact */
        {OKTA, RULES_USER, "externalId eq \"00u1dhhb1fkIGP7RL1d8\"", true},
        {OKTA, RULES_USER, "externalId eq \"00U1DHHB1FKIGP7RL1D8\"", false},
        {OKTA, RULES_USER, "id eq \"" OKTA_ID "\"", true},
        {OKTA, RULES_USER, "id eq \"23A35C27-23D3-4C03-B4C5-6443C09E7173\"", false},
        /* without rules strings compare case-insensitively (RFC 7643 §2.2 default) */
        {OKTA, RULES_NONE, "externalId eq \"00U1DHHB1FKIGP7RL1D8\"", true},
        {OKTA, RULES_NONE, "userName eq \"TEST.USER@OKTA.LOCAL\"", true},
        /* substring and ordering operators on strings */
        {OKTA, RULES_USER, "displayName co \"T us\"", true},
        {OKTA, RULES_USER, "displayName co \"xyz\"", false},
        {OKTA, RULES_USER, "displayName co \"\"", true},
        {OKTA, RULES_USER, "displayName sw \"test\"", true},
        {OKTA, RULES_USER, "displayName sw \"User\"", false},
        {OKTA, RULES_USER, "displayName ew \"USER\"", true},
        {OKTA, RULES_USER, "displayName ew \"Test\"", false},
        {OKTA, RULES_USER, "displayName ew \"a much longer string than the value\"", false},
        {OKTA, RULES_USER, "userName gt \"S\"", true},
        {OKTA, RULES_USER, "userName lt \"S\"", false},
        {OKTA, RULES_USER, "userName ge \"test.user@okta.local\"", true},
        {OKTA, RULES_USER, "userName le \"TEST.USER@OKTA.LOCAL\"", true},
        {OKTA, RULES_USER, "userName gt \"test.user@okta.local\"", false},
        {OKTA, RULES_USER, "userName lt \"test.user@okta.localz\"", true},
        {OKTA, RULES_USER, "name.familyName eq \"user\"", true},
        {OKTA, RULES_USER, "NAME.FAMILYNAME eq \"user\"", true},
        {OKTA, RULES_USER, "name.middleName pr", false},
        /* item 71: multi-valued attributes match if any value does */
        {OKTA, RULES_USER, "emails.value eq \"tu@home.example\"", true},
        {OKTA, RULES_USER, "emails.value eq \"nobody@home.example\"", false},
        {OKTA, RULES_USER, "emails eq \"TU@home.example\"", true},
        {OKTA, RULES_USER, "emails.type eq \"home\"", true},
        {OKTA, RULES_USER, "emails.type ne \"work\"", true},
        {OKTA, RULES_USER, "emails[type eq \"work\" and value co \"@okta.local\"]", true},
        {OKTA, RULES_USER, "emails[type eq \"home\" and value co \"@okta.local\"]", false},
        {OKTA, RULES_USER, "emails.type eq \"home\" and emails.value co \"@okta.local\"", true},
        {OKTA, RULES_USER, "emails[primary eq true].value sw \"test\"", true},
        {OKTA, RULES_USER, "emails[primary eq false].value sw \"test\"", false},
        {OKTA, RULES_USER, "emails[not (type eq \"work\")]", true},
        /* item 26: Entra's emails[type eq "work"].value eq "..." */
        {OKTA, RULES_USER, "emails[type eq \"work\"].value eq \"test.user@okta.local\"", true},
        {OKTA, RULES_USER, "emails[type eq \"home\"].value eq \"test.user@okta.local\"", false},
        {OKTA, RULES_USER, "emails[type eq \"work\" or type eq \"home\"].value ew \".example\"",
         true},
        {ENTRA, RULES_USER, "emails[type eq \"work\"].value eq \"test_user_11bb11bb@contoso.com\"",
         true},
        {ENTRA, RULES_USER, "externalId eq \"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\"", true},
        {ENTRA, RULES_USER, "userName eq \"test_user_dfeef4c5@contoso.com\"", true},
        /* item 72: dates compared as instants, whatever the offset or fraction */
        {OKTA, RULES_USER, "meta.created gt \"2024-03-01T09:59:59Z\"", true},
        {OKTA, RULES_USER, "meta.created gt \"2024-03-01T10:00:00Z\"", false},
        {OKTA, RULES_USER, "meta.created ge \"2024-03-01T10:00:00Z\"", true},
        {OKTA, RULES_USER, "meta.created le \"2024-03-01T10:00:00Z\"", true},
        {OKTA, RULES_USER, "meta.created lt \"2024-03-01T10:00:00Z\"", false},
        {OKTA, RULES_USER, "meta.created eq \"2024-03-01T11:00:00+01:00\"", true},
        {OKTA, RULES_USER, "meta.created eq \"2024-03-01T05:30:00-04:30\"", true},
        {OKTA, RULES_USER, "meta.created ne \"2024-03-01T11:00:00+01:00\"", false},
        /* lexically "2024-03-01T09..." < "2024-03-01T10...", but as times it is later */
        {OKTA, RULES_USER, "meta.created lt \"2024-03-01T09:30:00-01:00\"", true},
        {OKTA, RULES_USER, "meta.lastModified eq \"2024-03-05T10:30:00.25Z\"", true},
        {OKTA, RULES_USER, "meta.lastModified lt \"2024-03-05T10:30:00.251Z\"", true},
        {OKTA, RULES_USER, "meta.lastModified gt \"2024-03-05T10:30:00.249Z\"", true},
        {ENTRA, RULES_USER, "meta.created eq \"2024-03-05T09:30:00Z\"", true},
        {ENTRA, RULES_USER, "meta.lastModified pr", false},
        {ENTRA, RULES_USER, "meta.lastModified gt \"2000-01-01T00:00:00Z\"", false},
        /* booleans */
        {OKTA, RULES_USER, "active eq true", true},
        {OKTA, RULES_USER, "active eq false", false},
        {OKTA, RULES_USER, "active ne false", true},
        {OKTA, RULES_USER, "active ne true", false},
        /* pr: present and not null, "", [] or {} */
        {OKTA, RULES_USER, "locale pr", true},
        {OKTA, RULES_USER, "title pr", false},
        {OKTA, RULES_USER, "nickName pr", false},
        {OKTA, RULES_USER, "groups pr", false},
        {OKTA, RULES_USER, "phoneNumbers pr", false},
        {OKTA, RULES_USER, "name pr", true},
        {OKTA, RULES_USER, "emails pr", true},
        {OKTA, RULES_USER, "emails.type pr", true},
        {OKTA, RULES_USER, "emails.display pr", false},
        {ENTRA, RULES_USER, "addresses pr", false},
        {ENTRA, RULES_USER, "roles pr", false},
        {ENTRA, RULES_USER, ENT ":manager pr", false},
        {OKTA, RULES_USER, "not (title pr)", true},
        {OKTA, RULES_USER, "not (locale pr)", false},
        /* null values */
        {OKTA, RULES_USER, "title eq null", true},
        {OKTA, RULES_USER, "nickName eq null", true},
        {OKTA, RULES_USER, "locale eq null", false},
        {OKTA, RULES_USER, "locale ne null", true},
        {OKTA, RULES_USER, "nickName ne null", false},
        /* enterprise extension, with and without URN, and a URN in other case */
        {OKTA, RULES_USER, ENT ":employeeNumber eq \"701984\"", true},
        {OKTA, RULES_USER, ENT ":employeeNumber eq \"7\"", false},
        {OKTA, RULES_USER, ENT ":manager.value eq \"" MGR "\"", true},
        {OKTA, RULES_USER, ENT ":manager eq \"" MGR "\"", true},
        {OKTA, RULES_USER, ENT ":manager.displayName eq \"JOHN SMITH\"", true},
        {OKTA, RULES_USER, ENT ":department sw \"tour\"", true},
        {OKTA, RULES_USER, "employeeNumber eq \"701984\"", true},
        {OKTA, RULES_USER,
         "URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:employeeNumber eq \"701984\"",
         true},
        {OKTA, RULES_NONE, ENT ":employeeNumber eq \"701984\"", true},
        {OKTA, RULES_USER, CORE_USER ":userName eq \"test.user@okta.local\"", true},
        {OKTA, RULES_NONE, CORE_USER ":userName eq \"test.user@okta.local\"", true},
        {ENTRA, RULES_USER, ENT ":employeeNumber eq \"1\"", true},
        /* precedence in evaluation: a or b and c is a or (b and c) */
        {OKTA, RULES_USER, "userName pr or active eq false and locale eq \"fr\"", true},
        {OKTA, RULES_USER, "(userName pr or active eq false) and locale eq \"fr\"", false},
        {OKTA, RULES_USER, "active eq false and locale eq \"fr\" or userName pr", true},
        {OKTA, RULES_USER, "not (userName pr) or active eq true", true},
        {OKTA, RULES_USER, "not (userName pr or active eq true)", false},
        /* Group: members.value is caseExact; members without sub compares value (item 64) */
        {GROUP, RULES_GROUP, "members eq \"U1\"", true},
        {GROUP, RULES_GROUP, "members eq \"u1\"", false},
        {GROUP, RULES_GROUP, "members.value eq \"u2\"", true},
        {GROUP, RULES_GROUP, "members[value eq \"u2\"]", true},
        {GROUP, RULES_GROUP, "members[value eq \"U2\"]", false},
        {GROUP, RULES_GROUP, "members.display eq \"ALICE\"", true},
        {GROUP, RULES_GROUP, "members[value eq \"U1\" and display eq \"alice\"]", true},
        {GROUP, RULES_GROUP, "members[value eq \"u2\" and display eq \"alice\"]", false},
        {GROUP, RULES_GROUP, "displayName eq \"test scimv2\"", true},
        {GROUP, RULES_GROUP, "id eq \"g-1\" and members eq \"u2\"", true},
        {GROUP, RULES_GROUP, "id eq \"G-1\"", false},
        /* numbers, booleans and multi-valued simple values, types from the JSON */
        {NUMBERS, RULES_NONE, "age eq 42", true},
        {NUMBERS, RULES_NONE, "age eq 42.0", true},
        {NUMBERS, RULES_NONE, "age gt 41.5", true},
        {NUMBERS, RULES_NONE, "age lt 42", false},
        {NUMBERS, RULES_NONE, "age le 42", true},
        {NUMBERS, RULES_NONE, "age ne 43", true},
        {NUMBERS, RULES_NONE, "age eq \"42\"", false},
        {NUMBERS, RULES_NONE, "age co 4", false},
        {NUMBERS, RULES_NONE, "score ge 3.5", true},
        {NUMBERS, RULES_NONE, "score lt 4", true},
        {NUMBERS, RULES_NONE, "score gt 3.5e0", false},
        {NUMBERS, RULES_NONE, "big eq 9007199254740993", true},
        {NUMBERS, RULES_NONE, "big eq 9007199254740992", false},
        {NUMBERS, RULES_NONE, "flag eq false", true},
        {NUMBERS, RULES_NONE, "flag gt false", false},
        {NUMBERS, RULES_NONE, "flag eq \"false\"", false},
        {NUMBERS, RULES_NONE, "tags eq \"green\"", true},
        {NUMBERS, RULES_NONE, "tags sw \"r\"", true},
        {NUMBERS, RULES_NONE, "tags eq \"blue\"", false},
        {NUMBERS, RULES_NONE, "missing pr", false},
        {NUMBERS, RULES_NONE, "missing eq null", true},
        {NUMBERS, RULES_NONE, "tags[value pr]", false},
        {NUMBERS, RULES_NONE, "urn:x:y:age eq 42", false},
};

static json_t *load(enum doc_id id)
{
	const char *text = id == OKTA    ? okta_user
	                   : id == ENTRA ? entra_user
	                   : id == GROUP ? group
	                                 : numbers;
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (j == NULL)
		fail_msg("fixture %d: %s", (int)id, jerr.text);
	return j;
}

static void test_match_table(void **state)
{
	(void)state;
	json_t *docs[4] = {load(OKTA), load(ENTRA), load(GROUP), load(NUMBERS)};
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		const struct match_case *c = &match_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_filter *f = parse_ok(a, c->text, 0);
		const struct ts_scim_attr_rules *rules = rules_of(c->rules);
		struct ts_error e = {0};
		if (ts_scim_filter_check(f, rules, &e) != TS_ERR_OK)
			fail_msg("[%s] refused by the checker: %s", c->text, e.message);
		bool got = ts_scim_filter_match(f, docs[c->doc], rules);
		if (got != c->want)
			fail_msg("[%s] on doc %d: got %d, want %d", c->text, (int)c->doc, got,
			         c->want);
		/* the canonical form means the same thing */
		struct ts_scim_filter *g = parse_ok(a, ts_scim_filter_format(a, f), 0);
		assert_int_equal(ts_scim_filter_match(g, docs[c->doc], rules), c->want);
		ts_arena_free(&a);
	}
	for (int i = 0; i < 4; i++)
		json_decref(docs[i]);
}

static void test_match_edges(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_filter *f = parse_ok(a, "userName pr", 0);
	assert_false(ts_scim_filter_match(NULL, NULL, NULL));
	assert_false(ts_scim_filter_match(f, NULL, NULL));
	json_t *arr = json_array();
	assert_false(ts_scim_filter_match(f, arr, NULL));
	json_decref(arr);

	/* a long value and a long case-insensitive needle: linear search, right answer */
	size_t n = 60000;
	char *big = ts_malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	big[n - 1] = 'B';
	json_t *doc = json_pack("{s:s}", "displayName", big);
	char *needle = ts_malloc(3000);
	memset(needle, 'A', 2998);
	needle[2998] = 'b';
	needle[2999] = '\0';
	f = parse_ok(a, ts_arena_printf(a, "displayName co \"%s\"", needle),
	             TS_SCIM_FILTER_BARE_VALUES);
	assert_true(ts_scim_filter_match(f, doc, ts_scim_attr_rules_user()));
	needle[0] = 'c';
	f = parse_ok(a, ts_arena_printf(a, "displayName co \"%s\"", needle), 0);
	assert_false(ts_scim_filter_match(f, doc, ts_scim_attr_rules_user()));
	ts_free(needle);
	ts_free(big);
	json_decref(doc);

	/* deeply nested JSON under pr: bounded, and still "present" */
	json_t *deep = json_string("x");
	for (int i = 0; i < 1000; i++) {
		json_t *wrap = json_array();
		json_array_append_new(wrap, deep);
		deep = wrap;
	}
	doc = json_object();
	json_object_set_new(doc, "deep", deep);
	f = parse_ok(a, "deep pr", 0);
	assert_true(ts_scim_filter_match(f, doc, NULL));
	json_decref(doc);
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_table),
	        cmocka_unit_test(test_error_table),
	        cmocka_unit_test(test_error_offset_and_nul),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_check_table),
	        cmocka_unit_test(test_match_table),
	        cmocka_unit_test(test_match_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
