/*
 * SCIM filter parser, printer, checker and evaluator (RFC 7644 §3.4.2.2).
 *
 * The parser is recursive descent over the grammar of RFC 7644 Figure 1 with
 * the precedence the RFC gives (grouping, then "not", then "and", then "or"):
 *
 *   filter  = or
 *   or      = and *( "or" and )
 *   and     = term *( "and" term )
 *   term    = "(" filter ")" / "not" [SP] "(" filter ")" / attrExp
 *             / attrPath "[" valFilter "]" [ "." subAttr ( SP compareOp SP compValue / SP "pr" ) ]
 *
 * Recursion happens only at "(", "not (" and "[", each of which counts one
 * level against TS_SCIM_FILTER_MAX_DEPTH, so hostile input cannot exhaust the
 * stack; "and"/"or" chains are loops building left-deep trees, whose height
 * is bounded by TS_SCIM_FILTER_MAX_COMPARISONS.
 */
#include "scim/filter.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "scim/internal.h"

#define MSG_TOKEN_MAX 40    /* longest piece of input quoted back in an error message */
#define PRESENT_DEPTH_MAX 4 /* how deep `pr` looks into nested JSON values */

static const char *const op_names[] = {
        [TS_SCIM_OP_EQ] = "eq", [TS_SCIM_OP_NE] = "ne", [TS_SCIM_OP_CO] = "co",
        [TS_SCIM_OP_SW] = "sw", [TS_SCIM_OP_EW] = "ew", [TS_SCIM_OP_GT] = "gt",
        [TS_SCIM_OP_GE] = "ge", [TS_SCIM_OP_LT] = "lt", [TS_SCIM_OP_LE] = "le",
        [TS_SCIM_OP_PR] = "pr",
};
#define OP_COUNT (sizeof op_names / sizeof op_names[0])

const char *ts_scim_op_name(enum ts_scim_op op)
{
	return ((unsigned)op < OP_COUNT) ? op_names[op] : "?";
}

/* ------------------------------------------------------------------------ */
/* Parser primitives                                                         */
/* ------------------------------------------------------------------------ */

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool ts__scim_is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == ':' || c == '.' || c == '_' || c == '-' ||
	       c == '$';
}

/* Characters of an unquoted value word: numbers, literals, bare strings. */
static bool is_word_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '+' || c == '.' || c == '_' ||
	       c == ':' || c == '@' || c == '/';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char peek(const struct ts__scim_parser *p)
{
	return p->pos < p->len ? p->text[p->pos] : '\0';
}

ts_err ts__scim_parser_init(struct ts__scim_parser *p, ts_arena_t *arena, const char *text,
                            size_t len, unsigned flags, const char *what, const char *scim_type,
                            struct ts_error *e)
{
	memset(p, 0, sizeof *p);
	p->arena = arena;
	p->text = text;
	p->len = len;
	p->flags = flags;
	p->what = what;
	p->scim_type = scim_type;
	p->e = e;
	const char *nul = len ? memchr(text, '\0', len) : NULL;
	if (nul != NULL) {
		p->pos = (size_t)(nul - text);
		return ts__scim_fail(p, "NUL byte");
	}
	return TS_ERR_OK;
}

ts_err ts__scim_fail(struct ts__scim_parser *p, const char *fmt, ...)
{
	char why[TS_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (p->pos >= p->len)
		return ts_error_set(p->e, TS_ERR_BAD_REQUEST, "scim", "invalid %s at its end: %s",
		                    p->what, why);
	return ts_error_set(p->e, TS_ERR_BAD_REQUEST, "scim", "invalid %s at offset %zu: %s",
	                    p->what, p->pos, why);
}

size_t ts__scim_skip_ws(struct ts__scim_parser *p)
{
	size_t start = p->pos;
	while (p->pos < p->len && is_blank(p->text[p->pos]))
		p->pos++;
	return p->pos - start;
}

/* Describes the character at p->pos for an error message, never echoing control bytes. */
static const char *found(const struct ts__scim_parser *p, char buf[16])
{
	if (p->pos >= p->len)
		return "the end";
	unsigned char c = (unsigned char)p->text[p->pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", c);
	return buf;
}

static int shown(size_t n)
{
	return n > MSG_TOKEN_MAX ? MSG_TOKEN_MAX : (int)n;
}

static ts_err enter(struct ts__scim_parser *p)
{
	/* bounded recursion: every nesting construct passes here */
	if (p->depth >= TS_SCIM_FILTER_MAX_DEPTH)
		return ts__scim_fail(p, "nested deeper than %d levels", TS_SCIM_FILTER_MAX_DEPTH);
	p->depth++;
	if (p->depth > p->max_depth)
		p->max_depth = p->depth;
	return TS_ERR_OK;
}

static struct ts_scim_filter *node(struct ts__scim_parser *p, enum ts_scim_filter_kind kind)
{
	struct ts_scim_filter *f = ts_arena_alloc(p->arena, sizeof *f);
	f->kind = kind;
	return f;
}

static struct ts_scim_filter *logical(struct ts__scim_parser *p, enum ts_scim_filter_kind kind,
                                      struct ts_scim_filter *l, struct ts_scim_filter *r)
{
	struct ts_scim_filter *f = node(p, kind);
	f->left = l;
	f->right = r;
	return f;
}

/* True when text at pos is keyword kw (any case) as a whole word. */
static bool at_keyword(const struct ts__scim_parser *p, const char *kw)
{
	size_t n = strlen(kw);
	if (p->len - p->pos < n || strncasecmp(p->text + p->pos, kw, n) != 0)
		return false;
	return p->pos + n == p->len || !ts__scim_is_name_char(p->text[p->pos + n]);
}

/* ------------------------------------------------------------------------ */
/* Attribute paths                                                           */
/* ------------------------------------------------------------------------ */

/* ATTRNAME = ALPHA *(nameChar) (RFC 7643 §2.1), or "$ref" where allowed. */
static bool valid_attrname(const char *s, size_t n, bool allow_ref)
{
	if (allow_ref && n == 4 && strncasecmp(s, "$ref", 4) == 0)
		return true;
	if (n == 0 || !is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* A schema URN: "urn" ":" segments, none empty (RFC 8141 in the small). */
static bool valid_urn(const char *s, size_t n)
{
	int segments = 1;
	size_t seg_len = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':') {
			if (seg_len == 0)
				return false;
			segments++;
			seg_len = 0;
		} else if (s[i] == '$') {
			return false;
		} else {
			seg_len++;
		}
	}
	return seg_len > 0 && segments >= 2;
}

ts_err ts__scim_parse_attr_path(struct ts__scim_parser *p, bool in_value_filter,
                                struct ts_scim_attr_path *out)
{
	char fb[16];
	memset(out, 0, sizeof *out);
	size_t start = p->pos;
	while (p->pos < p->len && ts__scim_is_name_char(p->text[p->pos]))
		p->pos++;
	const char *tok = p->text + start;
	size_t n = p->pos - start;
	if (n == 0)
		return ts__scim_fail(p, "expected an attribute name, '(' or 'not', found %s",
		                     found(p, fb));
	p->pos = start; /* errors below point at the token */

	const char *rest = tok;
	size_t rest_len = n;
	if (n > 4 && strncasecmp(tok, "urn:", 4) == 0) {
		/* RFC 7644 §3.10: the URN is everything before the last ':' */
		if (in_value_filter)
			return ts__scim_fail(p,
			                     "a value filter names sub-attributes only, not '%.*s'",
			                     shown(n), tok);
		const char *colon = tok + n - 1;
		while (*colon != ':')
			colon--;
		size_t urn_len = (size_t)(colon - tok);
		if (!valid_urn(tok, urn_len))
			return ts__scim_fail(p, "'%.*s' is not a valid schema URN", shown(urn_len),
			                     tok);
		out->urn = ts_arena_strndup(p->arena, tok, urn_len);
		rest = colon + 1;
		rest_len = n - urn_len - 1;
	} else if (memchr(tok, ':', n) != NULL) {
		return ts__scim_fail(p,
		                     "'%.*s' is not an attribute path (a schema URN starts "
		                     "with \"urn:\")",
		                     shown(n), tok);
	}

	const char *dot = memchr(rest, '.', rest_len);
	size_t attr_len = dot ? (size_t)(dot - rest) : rest_len;
	if (!valid_attrname(rest, attr_len, in_value_filter))
		return ts__scim_fail(p, "'%.*s' is not a valid attribute name", shown(attr_len),
		                     rest);
	out->attr = ts_arena_strndup(p->arena, rest, attr_len);
	if (dot != NULL) {
		if (in_value_filter)
			return ts__scim_fail(p,
			                     "a value filter names sub-attributes only, not '%.*s'",
			                     shown(n), tok);
		/* RFC 7643 §2.3.8: sub-attributes have no sub-attributes, so one '.' at most */
		size_t sub_len = rest_len - attr_len - 1;
		if (!valid_attrname(dot + 1, sub_len, true))
			return ts__scim_fail(p, "'%.*s' is not a valid sub-attribute name",
			                     shown(sub_len), dot + 1);
		out->sub = ts_arena_strndup(p->arena, dot + 1, sub_len);
	}
	p->pos = start + n;
	return TS_ERR_OK;
}

ts_err ts__scim_parse_sub_name(struct ts__scim_parser *p, const char **out)
{
	size_t start = p->pos;
	while (p->pos < p->len && ts__scim_is_name_char(p->text[p->pos]))
		p->pos++;
	size_t n = p->pos - start;
	if (!valid_attrname(p->text + start, n, true)) {
		p->pos = start;
		return ts__scim_fail(p, "expected a sub-attribute name after '.'");
	}
	*out = ts_arena_strndup(p->arena, p->text + start, n);
	return TS_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/* Four hex digits at text[pos..end) into *cp. */
static bool hex4(const char *s, size_t avail, uint32_t *cp)
{
	int64_t v = avail >= 4 ? ts_hex_value(s, 4) : -1;
	*cp = (uint32_t)v;
	return v >= 0;
}

/* A JSON string (RFC 8259 §7) at p->pos, which is on the opening quote. */
static ts_err parse_string(struct ts__scim_parser *p, struct ts_scim_value *v)
{
	size_t open = p->pos;
	size_t end = open + 1;
	while (end < p->len && p->text[end] != '"')
		end += (p->text[end] == '\\') ? 2 : 1;
	if (end >= p->len)
		return ts__scim_fail(p, "unterminated string");

	/* decoding never lengthens: \uXXXX (6 bytes) gives at most 3, a pair (12) gives 4 */
	char *buf = ts_arena_alloc(p->arena, end - open);
	size_t o = 0;
	size_t j = open + 1;
	while (j < end) {
		unsigned char c = (unsigned char)p->text[j];
		p->pos = j;
		if (c == '\\') {
			char d = p->text[j + 1];
			j += 2;
			switch (d) {
			case '"':
			case '\\':
			case '/':
				buf[o++] = d;
				break;
			case 'b':
				buf[o++] = '\b';
				break;
			case 'f':
				buf[o++] = '\f';
				break;
			case 'n':
				buf[o++] = '\n';
				break;
			case 'r':
				buf[o++] = '\r';
				break;
			case 't':
				buf[o++] = '\t';
				break;
			case 'u': {
				uint32_t cp, lo;
				if (!hex4(p->text + j, end - j, &cp))
					return ts__scim_fail(p, "\\u needs four hex digits");
				j += 4;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return ts__scim_fail(p, "lone low surrogate in \\u escape");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (end - j < 6 || p->text[j] != '\\' ||
					    p->text[j + 1] != 'u' ||
					    !hex4(p->text + j + 2, end - j - 2, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff)
						return ts__scim_fail(
						        p,
						        "high surrogate without a low surrogate");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					j += 6;
				}
				if (cp == 0)
					return ts__scim_fail(p,
					                     "\\u0000 is not allowed in a value");
				o += ts_utf8_encode(buf + o, cp);
				break;
			}
			default:
				return ts__scim_fail(p, "invalid escape in string");
			}
		} else if (c < 0x20) {
			return ts__scim_fail(p, "unescaped control character in string");
		} else {
			size_t n = ts_utf8_next((const unsigned char *)p->text + j, end - j, NULL);
			if (n == 0)
				return ts__scim_fail(p, "invalid UTF-8 in string");
			memcpy(buf + o, p->text + j, n);
			o += n;
			j += n;
		}
	}
	buf[o] = '\0';
	v->type = TS_SCIM_VALUE_STRING;
	v->str = buf;
	v->str_len = o;
	p->pos = end + 1;
	return TS_ERR_OK;
}

/* RFC 8259 §6 number grammar; *is_int when it has no fraction and no exponent. */
static bool json_number(const char *s, size_t n, bool *is_int)
{
	size_t i = 0;
	*is_int = true;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && is_digit(s[i]))
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		*is_int = false;
		if (++i >= n || !is_digit(s[i]))
			return false;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*is_int = false;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return false;
		while (i < n && is_digit(s[i]))
			i++;
	}
	return i == n;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(w, lit, n) == 0;
}

/* compValue = false / null / true / number / string (RFC 7644 Figure 1). */
static ts_err parse_value(struct ts__scim_parser *p, struct ts_scim_value *v)
{
	char fb[16];
	memset(v, 0, sizeof *v);
	if (peek(p) == '"')
		return parse_string(p, v);
	size_t start = p->pos;
	while (p->pos < p->len && is_word_char(p->text[p->pos]))
		p->pos++;
	const char *w = p->text + start;
	size_t n = p->pos - start;
	if (n == 0)
		return ts__scim_fail(p,
		                     "expected a value (JSON string, number, true, false or null), "
		                     "found %s",
		                     found(p, fb));
	bool is_int;
	/* ABNF literals are case-insensitive (RFC 5234 §2.3) */
	if (word_is(w, n, "true") || word_is(w, n, "false")) {
		v->type = TS_SCIM_VALUE_BOOL;
		v->boolean = (w[0] == 't' || w[0] == 'T');
	} else if (word_is(w, n, "null")) {
		v->type = TS_SCIM_VALUE_NULL;
	} else if (json_number(w, n, &is_int)) {
		char *text = ts_arena_strndup(p->arena, w, n);
		double d = strtod(text, NULL);
		if (!isfinite(d)) {
			p->pos = start;
			return ts__scim_fail(p, "number '%.*s' is out of range", shown(n), w);
		}
		v->type = TS_SCIM_VALUE_NUMBER;
		v->num_text = text;
		v->num = d;
		if (is_int) {
			errno = 0;
			long long ll = strtoll(text, NULL, 10);
			if (errno == 0) {
				v->is_int = true;
				v->i = ll;
			}
		}
	} else if (p->flags & TS_SCIM_FILTER_BARE_VALUES) {
		/* scim-clients.md item 25: Entra's doc shows `externalId eq jyoung` */
		v->type = TS_SCIM_VALUE_STRING;
		v->str = ts_arena_strndup(p->arena, w, n);
		v->str_len = n;
	} else {
		p->pos = start;
		return ts__scim_fail(p, "'%.*s' is not a value (strings need double quotes)",
		                     shown(n), w);
	}
	return TS_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* Expressions                                                               */
/* ------------------------------------------------------------------------ */

static ts_err parse_or(struct ts__scim_parser *p, bool in_vf, struct ts_scim_filter **out);

/* After an attribute path: SP compareOp SP compValue, or SP "pr". */
static ts_err parse_op_value(struct ts__scim_parser *p, const struct ts_scim_attr_path *path,
                             struct ts_scim_filter **out)
{
	char fb[16];
	if (ts__scim_skip_ws(p) == 0)
		return ts__scim_fail(p, "expected a space and an operator after '%s', found %s",
		                     path->sub ? path->sub : path->attr, found(p, fb));
	size_t start = p->pos;
	while (p->pos < p->len && ts__scim_is_name_char(p->text[p->pos]))
		p->pos++;
	size_t n = p->pos - start;
	const char *w = p->text + start;
	p->pos = start;
	if (n == 0)
		return ts__scim_fail(p, "expected an operator, found %s", found(p, fb));
	enum ts_scim_op op = TS_SCIM_OP_EQ;
	bool known = false;
	for (size_t i = 0; i < OP_COUNT; i++) {
		/* RFC 7644 §3.4.2.2: operators are case-insensitive */
		if (word_is(w, n, op_names[i])) {
			op = (enum ts_scim_op)i;
			known = true;
		}
	}
	if (!known)
		return ts__scim_fail(p, "unknown operator '%.*s'", shown(n), w);
	if (p->comparisons >= TS_SCIM_FILTER_MAX_COMPARISONS)
		return ts__scim_fail(p, "more than %d comparisons", TS_SCIM_FILTER_MAX_COMPARISONS);
	p->comparisons++;
	p->pos = start + n;

	struct ts_scim_filter *f =
	        node(p, op == TS_SCIM_OP_PR ? TS_SCIM_FILTER_PRESENT : TS_SCIM_FILTER_COMPARE);
	f->path = *path;
	f->op = op;
	if (op != TS_SCIM_OP_PR) {
		ts__scim_skip_ws(p);
		if (p->pos >= p->len)
			return ts__scim_fail(p, "missing value after '%s'", op_names[op]);
		ts_err rc = parse_value(p, &f->value);
		if (rc != TS_ERR_OK)
			return rc;
	}
	*out = f;
	return TS_ERR_OK;
}

ts_err ts__scim_parse_bracket(struct ts__scim_parser *p, struct ts_scim_filter **out)
{
	char fb[16];
	ts_err rc = enter(p);
	if (rc != TS_ERR_OK)
		return rc;
	p->pos++; /* '[' */
	rc = parse_or(p, true, out);
	if (rc != TS_ERR_OK)
		return rc;
	ts__scim_skip_ws(p);
	if (peek(p) != ']')
		return ts__scim_fail(p, "expected ']' to close the value filter, found %s",
		                     found(p, fb));
	p->pos++;
	p->depth--;
	return TS_ERR_OK;
}

/* attrPath "[" valFilter "]" [ "." subAttr op value ]: the value path forms. */
static ts_err parse_value_path(struct ts__scim_parser *p, const struct ts_scim_attr_path *path,
                               struct ts_scim_filter **out)
{
	if (path->sub != NULL)
		return ts__scim_fail(p,
		                     "a value filter applies to an attribute, not to "
		                     "sub-attribute '%s'",
		                     path->sub);
	int outer_max = p->max_depth;
	p->max_depth = p->depth;
	struct ts_scim_filter *inner = NULL;
	ts_err rc = ts__scim_parse_bracket(p, &inner);
	int inner_max = p->max_depth;
	if (p->max_depth < outer_max)
		p->max_depth = outer_max;
	if (rc != TS_ERR_OK)
		return rc;

	if (peek(p) == '.') {
		/*
		 * Entra's `emails[type eq "work"].value eq "x"` (not RFC grammar,
		 * scim-clients.md item 26) means emails[type eq "work" and value eq "x"].
		 * Printed that way, an "or" inside gains parentheses: one more level.
		 */
		if (inner->kind == TS_SCIM_FILTER_OR && inner_max + 1 > TS_SCIM_FILTER_MAX_DEPTH)
			return ts__scim_fail(p, "nested deeper than %d levels",
			                     TS_SCIM_FILTER_MAX_DEPTH);
		p->pos++;
		struct ts_scim_attr_path sub = {0};
		rc = ts__scim_parse_sub_name(p, &sub.attr);
		if (rc != TS_ERR_OK)
			return rc;
		struct ts_scim_filter *leaf = NULL;
		rc = parse_op_value(p, &sub, &leaf);
		if (rc != TS_ERR_OK)
			return rc;
		inner = logical(p, TS_SCIM_FILTER_AND, inner, leaf);
	}
	struct ts_scim_filter *f = node(p, TS_SCIM_FILTER_VALUE_PATH);
	f->path = *path;
	f->inner = inner;
	*out = f;
	return TS_ERR_OK;
}

/* "(" filter ")" after the caller consumed any "not". */
static ts_err parse_group(struct ts__scim_parser *p, bool in_vf, struct ts_scim_filter **out)
{
	char fb[16];
	ts_err rc = enter(p);
	if (rc != TS_ERR_OK)
		return rc;
	p->pos++; /* '(' */
	rc = parse_or(p, in_vf, out);
	if (rc != TS_ERR_OK)
		return rc;
	ts__scim_skip_ws(p);
	if (peek(p) != ')')
		return ts__scim_fail(p, "expected ')', found %s", found(p, fb));
	p->pos++;
	p->depth--;
	return TS_ERR_OK;
}

static ts_err parse_term(struct ts__scim_parser *p, bool in_vf, struct ts_scim_filter **out)
{
	ts__scim_skip_ws(p);
	if (p->pos >= p->len)
		return ts__scim_fail(p, "expected an expression");
	if (peek(p) == '(')
		return parse_group(p, in_vf, out);
	if (at_keyword(p, "not")) {
		/* "not" [SP] "(" ...; without "(" the word is an attribute called "not" */
		size_t save = p->pos;
		p->pos += 3;
		ts__scim_skip_ws(p);
		if (peek(p) == '(') {
			struct ts_scim_filter *f = node(p, TS_SCIM_FILTER_NOT);
			*out = f;
			return parse_group(p, in_vf, &f->left);
		}
		p->pos = save;
	}
	struct ts_scim_attr_path path;
	ts_err rc = ts__scim_parse_attr_path(p, in_vf, &path);
	if (rc != TS_ERR_OK)
		return rc;
	if (peek(p) == '[') {
		if (in_vf)
			/* RFC 7644 Figure 1: valFilter contains no valuePath */
			return ts__scim_fail(p, "value filters cannot be nested");
		return parse_value_path(p, &path, out);
	}
	return parse_op_value(p, &path, out);
}

static ts_err parse_and(struct ts__scim_parser *p, bool in_vf, struct ts_scim_filter **out)
{
	struct ts_scim_filter *left = NULL;
	ts_err rc = parse_term(p, in_vf, &left);
	if (rc != TS_ERR_OK)
		return rc;
	for (;;) {
		size_t save = p->pos;
		ts__scim_skip_ws(p);
		if (!at_keyword(p, "and")) {
			p->pos = save;
			break;
		}
		p->pos += 3;
		struct ts_scim_filter *right = NULL;
		rc = parse_term(p, in_vf, &right);
		if (rc != TS_ERR_OK)
			return rc;
		left = logical(p, TS_SCIM_FILTER_AND, left, right);
	}
	*out = left;
	return TS_ERR_OK;
}

static ts_err parse_or(struct ts__scim_parser *p, bool in_vf, struct ts_scim_filter **out)
{
	struct ts_scim_filter *left = NULL;
	ts_err rc = parse_and(p, in_vf, &left);
	if (rc != TS_ERR_OK)
		return rc;
	for (;;) {
		size_t save = p->pos;
		ts__scim_skip_ws(p);
		if (!at_keyword(p, "or")) {
			p->pos = save;
			break;
		}
		p->pos += 2;
		struct ts_scim_filter *right = NULL;
		rc = parse_and(p, in_vf, &right);
		if (rc != TS_ERR_OK)
			return rc;
		left = logical(p, TS_SCIM_FILTER_OR, left, right);
	}
	*out = left;
	return TS_ERR_OK;
}

ts_err ts_scim_filter_parse(ts_arena_t *arena, const char *text, size_t len, unsigned flags,
                            struct ts_scim_filter **out, const char **scim_type, struct ts_error *e)
{
	char fb[16];
	struct ts__scim_parser p;
	struct ts_scim_filter *f = NULL;
	*out = NULL;
	if (scim_type != NULL)
		*scim_type = NULL;
	ts_err rc = ts__scim_parser_init(&p, arena, text, len, flags, "filter",
	                                 TS_SCIM_INVALID_FILTER, e);
	if (rc != TS_ERR_OK)
		goto out;
	if (len > TS_SCIM_FILTER_MAX_LEN) {
		rc = ts__scim_fail(&p, "longer than %d bytes", TS_SCIM_FILTER_MAX_LEN);
		goto out;
	}
	ts__scim_skip_ws(&p);
	if (p.pos >= p.len) {
		rc = ts__scim_fail(&p, "the filter is empty");
		goto out;
	}
	rc = parse_or(&p, false, &f);
	if (rc != TS_ERR_OK)
		goto out;
	ts__scim_skip_ws(&p);
	if (p.pos < p.len) {
		char c = peek(&p);
		if (c == ')' || c == ']')
			rc = ts__scim_fail(&p, "unbalanced '%c'", c);
		else
			rc = ts__scim_fail(&p, "expected 'and', 'or' or the end, found %s",
			                   found(&p, fb));
		goto out;
	}
	*out = f;
out:
	if (rc != TS_ERR_OK && scim_type != NULL)
		*scim_type = p.scim_type;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Printer and equality                                                      */
/* ------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = ts_realloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void put_path(struct sbuf *b, const struct ts_scim_attr_path *path)
{
	if (path->urn != NULL) {
		sb_puts(b, path->urn);
		sb_puts(b, ":");
	}
	sb_puts(b, path->attr);
	if (path->sub != NULL) {
		sb_puts(b, ".");
		sb_puts(b, path->sub);
	}
}

static void put_string(struct sbuf *b, const char *s, size_t n)
{
	sb_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		switch (c) {
		case '"':
			sb_puts(b, "\\\"");
			break;
		case '\\':
			sb_puts(b, "\\\\");
			break;
		case '\n':
			sb_puts(b, "\\n");
			break;
		case '\r':
			sb_puts(b, "\\r");
			break;
		case '\t':
			sb_puts(b, "\\t");
			break;
		case '\b':
			sb_puts(b, "\\b");
			break;
		case '\f':
			sb_puts(b, "\\f");
			break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				sb_puts(b, esc);
			} else {
				sb_put(b, (const char *)&s[i], 1);
			}
		}
	}
	sb_puts(b, "\"");
}

static void put_value(struct sbuf *b, const struct ts_scim_value *v)
{
	switch (v->type) {
	case TS_SCIM_VALUE_STRING:
		put_string(b, v->str, v->str_len);
		break;
	case TS_SCIM_VALUE_NUMBER:
		sb_puts(b, v->num_text);
		break;
	case TS_SCIM_VALUE_BOOL:
		sb_puts(b, v->boolean ? "true" : "false");
		break;
	case TS_SCIM_VALUE_NULL:
		sb_puts(b, "null");
		break;
	}
}

static int prec(const struct ts_scim_filter *f)
{
	return f->kind == TS_SCIM_FILTER_OR ? 1 : f->kind == TS_SCIM_FILTER_AND ? 2 : 3;
}

static void put_filter(struct sbuf *b, const struct ts_scim_filter *f);

/*
 * A child of "and"/"or" needs parentheses when it binds more loosely, or when
 * it is the same operator on the right: parsing is left-associative, so only
 * that keeps the tree (and the nesting depth) identical after a reparse.
 */
static void put_child(struct sbuf *b, const struct ts_scim_filter *parent,
                      const struct ts_scim_filter *child, bool right)
{
	bool parens = prec(child) < prec(parent) || (right && prec(child) == prec(parent));
	if (parens)
		sb_puts(b, "(");
	put_filter(b, child);
	if (parens)
		sb_puts(b, ")");
}

static void put_filter(struct sbuf *b, const struct ts_scim_filter *f)
{
	switch (f->kind) {
	case TS_SCIM_FILTER_AND:
	case TS_SCIM_FILTER_OR:
		put_child(b, f, f->left, false);
		sb_puts(b, f->kind == TS_SCIM_FILTER_AND ? " and " : " or ");
		put_child(b, f, f->right, true);
		break;
	case TS_SCIM_FILTER_NOT:
		sb_puts(b, "not (");
		put_filter(b, f->left);
		sb_puts(b, ")");
		break;
	case TS_SCIM_FILTER_PRESENT:
		put_path(b, &f->path);
		sb_puts(b, " pr");
		break;
	case TS_SCIM_FILTER_COMPARE:
		put_path(b, &f->path);
		sb_puts(b, " ");
		sb_puts(b, ts_scim_op_name(f->op));
		sb_puts(b, " ");
		put_value(b, &f->value);
		break;
	case TS_SCIM_FILTER_VALUE_PATH:
		put_path(b, &f->path);
		sb_puts(b, "[");
		put_filter(b, f->inner);
		sb_puts(b, "]");
		break;
	}
}

char *ts_scim_filter_format(ts_arena_t *arena, const struct ts_scim_filter *f)
{
	struct sbuf b = {0};
	char *s = NULL;
	sb_puts(&b, "");
	if (f != NULL)
		put_filter(&b, f);
	s = ts_arena_strndup(arena, b.p, b.len);
	ts_free(b.p);
	return s;
}

char *ts__scim_filter_format_into(ts_arena_t *arena, const char *prefix,
                                  const struct ts_scim_filter *f, const char *suffix)
{
	struct sbuf b = {0};
	sb_puts(&b, prefix);
	if (f != NULL)
		put_filter(&b, f);
	sb_puts(&b, suffix);
	char *s = ts_arena_strndup(arena, b.p, b.len);
	ts_free(b.p);
	return s;
}

static bool name_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

static bool value_eq(const struct ts_scim_value *a, const struct ts_scim_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TS_SCIM_VALUE_STRING:
		return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
	case TS_SCIM_VALUE_NUMBER:
		return a->is_int == b->is_int && (a->is_int ? a->i == b->i : a->num == b->num);
	case TS_SCIM_VALUE_BOOL:
		return a->boolean == b->boolean;
	case TS_SCIM_VALUE_NULL:
		return true;
	}
	return false;
}

bool ts_scim_filter_equal(const struct ts_scim_filter *a, const struct ts_scim_filter *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TS_SCIM_FILTER_AND:
	case TS_SCIM_FILTER_OR:
		return ts_scim_filter_equal(a->left, b->left) &&
		       ts_scim_filter_equal(a->right, b->right);
	case TS_SCIM_FILTER_NOT:
		return ts_scim_filter_equal(a->left, b->left);
	case TS_SCIM_FILTER_PRESENT:
	case TS_SCIM_FILTER_COMPARE:
	case TS_SCIM_FILTER_VALUE_PATH:
		if (!name_eq(a->path.urn, b->path.urn) || !name_eq(a->path.attr, b->path.attr) ||
		    !name_eq(a->path.sub, b->path.sub))
			return false;
		if (a->kind == TS_SCIM_FILTER_VALUE_PATH)
			return ts_scim_filter_equal(a->inner, b->inner);
		return a->op == b->op &&
		       (a->kind == TS_SCIM_FILTER_PRESENT || value_eq(&a->value, &b->value));
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Attribute rules (RFC 7643 §3.1, §4.1, §4.2, §4.3)                          */
/* ------------------------------------------------------------------------ */

struct rule {
	const char *attr;
	const char *sub; /* NULL: the attribute itself */
	enum ts_scim_attr_type type;
	bool case_exact;
	bool multi;
	bool filterable;
};

struct schema_rules {
	const char *urn;
	bool extension;
	const struct rule *rules;
	size_t n;
};

struct rules_set {
	const struct schema_rules *schemas;
	size_t n;
};

#define R(a, s, t, ce, mv)                           \
	{                                            \
		a, s, TS_SCIM_ATTR_##t, ce, mv, true \
	}
#define N(n) (sizeof(n) / sizeof((n)[0]))
/* A multi-valued complex attribute with value/display/type/primary (RFC 7643 §2.4). */
#define MULTI(a, vt, vce)                                                                  \
	R(a, NULL, COMPLEX, false, true), R(a, "value", vt, vce, false),                   \
	        R(a, "display", STRING, false, false), R(a, "type", STRING, false, false), \
	        R(a, "primary", BOOLEAN, false, false)

/* RFC 7643 §3.1: common attributes; id and externalId are caseExact. */
static const struct rule common_rules[] = {
        R("id", NULL, STRING, true, false),
        R("externalId", NULL, STRING, true, false),
        R("schemas", NULL, STRING, false, true),
        R("meta", NULL, COMPLEX, false, false),
        R("meta", "resourceType", STRING, true, false),
        R("meta", "created", DATETIME, false, false),
        R("meta", "lastModified", DATETIME, false, false),
        R("meta", "location", REFERENCE, true, false),
        R("meta", "version", STRING, true, false),
};

/* RFC 7643 §4.1 and §8.7.1 (User schema). */
static const struct rule user_rules[] = {
        R("userName", NULL, STRING, false, false),
        R("name", NULL, COMPLEX, false, false),
        R("name", "formatted", STRING, false, false),
        R("name", "familyName", STRING, false, false),
        R("name", "givenName", STRING, false, false),
        R("name", "middleName", STRING, false, false),
        R("name", "honorificPrefix", STRING, false, false),
        R("name", "honorificSuffix", STRING, false, false),
        R("displayName", NULL, STRING, false, false),
        R("nickName", NULL, STRING, false, false),
        R("profileUrl", NULL, REFERENCE, false, false),
        R("title", NULL, STRING, false, false),
        R("userType", NULL, STRING, false, false),
        R("preferredLanguage", NULL, STRING, false, false),
        R("locale", NULL, STRING, false, false),
        R("timezone", NULL, STRING, false, false),
        R("active", NULL, BOOLEAN, false, false),
        /* returned "never": filtering on it would let a client probe passwords */
        {"password", NULL, TS_SCIM_ATTR_STRING, false, false, false},
        MULTI("emails", STRING, false),
        MULTI("phoneNumbers", STRING, false),
        MULTI("ims", STRING, false),
        MULTI("photos", REFERENCE, false),
        R("addresses", NULL, COMPLEX, false, true),
        R("addresses", "formatted", STRING, false, false),
        R("addresses", "streetAddress", STRING, false, false),
        R("addresses", "locality", STRING, false, false),
        R("addresses", "region", STRING, false, false),
        R("addresses", "postalCode", STRING, false, false),
        R("addresses", "country", STRING, false, false),
        R("addresses", "type", STRING, false, false),
        R("addresses", "primary", BOOLEAN, false, false),
        /* groups.value is a Group id, and ids are caseExact (RFC 7643 §3.1) */
        R("groups", NULL, COMPLEX, false, true),
        R("groups", "value", STRING, true, false),
        R("groups", "$ref", REFERENCE, true, false),
        R("groups", "display", STRING, false, false),
        R("groups", "type", STRING, false, false),
        MULTI("entitlements", STRING, false),
        MULTI("roles", STRING, false),
        MULTI("x509Certificates", BINARY, true),
};

/* RFC 7643 §4.3 (enterprise extension); manager.value is a User id. */
static const struct rule enterprise_rules[] = {
        R("employeeNumber", NULL, STRING, false, false),
        R("costCenter", NULL, STRING, false, false),
        R("organization", NULL, STRING, false, false),
        R("division", NULL, STRING, false, false),
        R("department", NULL, STRING, false, false),
        R("manager", NULL, COMPLEX, false, false),
        R("manager", "value", STRING, true, false),
        R("manager", "$ref", REFERENCE, true, false),
        R("manager", "displayName", STRING, false, false),
};

/* RFC 7643 §4.2 (Group schema); members.value is a resource id. */
static const struct rule group_rules[] = {
        R("displayName", NULL, STRING, false, false), R("members", NULL, COMPLEX, false, true),
        R("members", "value", STRING, true, false),   R("members", "$ref", REFERENCE, true, false),
        R("members", "type", STRING, false, false),   R("members", "display", STRING, false, false),
};

static const struct schema_rules user_schemas[] = {
        {TS_SCIM_SCHEMA_USER, false, common_rules, N(common_rules)},
        {TS_SCIM_SCHEMA_USER, false, user_rules, N(user_rules)},
        {TS_SCIM_SCHEMA_ENTERPRISE, true, enterprise_rules, N(enterprise_rules)},
};

static const struct schema_rules group_schemas[] = {
        {TS_SCIM_SCHEMA_GROUP, false, common_rules, N(common_rules)},
        {TS_SCIM_SCHEMA_GROUP, false, group_rules, N(group_rules)},
};

static const struct rules_set user_set = {user_schemas, N(user_schemas)};
static const struct rules_set group_set = {group_schemas, N(group_schemas)};

static const struct ts_scim_attr_rules user_attr_rules = {
        TS_SCIM_SCHEMA_USER, ts_scim_attr_rules_default_lookup, &user_set};
static const struct ts_scim_attr_rules group_attr_rules = {
        TS_SCIM_SCHEMA_GROUP, ts_scim_attr_rules_default_lookup, &group_set};

const struct ts_scim_attr_rules *ts_scim_attr_rules_user(void)
{
	return &user_attr_rules;
}

const struct ts_scim_attr_rules *ts_scim_attr_rules_group(void)
{
	return &group_attr_rules;
}

bool ts_scim_attr_rules_default_lookup(const struct ts_scim_attr_rules *rules, const char *urn,
                                       const char *attr, const char *sub,
                                       struct ts_scim_attr_info *out)
{
	const struct rules_set *set = rules->ctx;
	if (set == NULL || attr == NULL)
		return false;
	/* core schemas come first, so a name without URN resolves to the core one */
	for (size_t i = 0; i < set->n; i++) {
		const struct schema_rules *s = &set->schemas[i];
		if (urn != NULL && strcasecmp(urn, s->urn) != 0)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			const struct rule *r = &s->rules[j];
			if (strcasecmp(r->attr, attr) != 0 || !name_eq(r->sub, sub))
				continue;
			out->type = r->type;
			out->case_exact = r->case_exact;
			out->multi_valued = r->multi;
			out->filterable = r->filterable;
			out->schema = s->urn;
			out->extension = s->extension;
			return true;
		}
	}
	return false;
}

static bool lookup(const struct ts_scim_attr_rules *rules, const char *urn, const char *attr,
                   const char *sub, struct ts_scim_attr_info *out)
{
	memset(out, 0, sizeof *out);
	if (rules == NULL || rules->lookup == NULL)
		return false;
	return rules->lookup(rules, urn, attr, sub, out);
}

/* ------------------------------------------------------------------------ */
/* Checker                                                                   */
/* ------------------------------------------------------------------------ */

static const char *path_text(char *buf, size_t n, const struct ts_scim_attr_path *parent,
                             const struct ts_scim_attr_path *path)
{
	if (parent != NULL)
		snprintf(buf, n, "%s.%s", parent->attr, path->attr);
	else if (path->sub != NULL)
		snprintf(buf, n, "%s.%s", path->attr, path->sub);
	else
		snprintf(buf, n, "%s", path->attr);
	return buf;
}

#define CHECK_FAIL(e, ...) \
	ts_error_set((e), TS_ERR_BAD_REQUEST, "scim", "invalid filter: " __VA_ARGS__)

static bool is_substring_op(enum ts_scim_op op)
{
	return op == TS_SCIM_OP_CO || op == TS_SCIM_OP_SW || op == TS_SCIM_OP_EW;
}

static bool is_order_op(enum ts_scim_op op)
{
	return op == TS_SCIM_OP_GT || op == TS_SCIM_OP_GE || op == TS_SCIM_OP_LT ||
	       op == TS_SCIM_OP_LE;
}

static const char *type_name(enum ts_scim_attr_type t)
{
	static const char *const names[] = {
	        [TS_SCIM_ATTR_STRING] = "string",       [TS_SCIM_ATTR_BOOLEAN] = "boolean",
	        [TS_SCIM_ATTR_DECIMAL] = "decimal",     [TS_SCIM_ATTR_INTEGER] = "integer",
	        [TS_SCIM_ATTR_DATETIME] = "dateTime",   [TS_SCIM_ATTR_BINARY] = "binary",
	        [TS_SCIM_ATTR_REFERENCE] = "reference", [TS_SCIM_ATTR_COMPLEX] = "complex",
	};
	return ((unsigned)t < N(names)) ? names[t] : "?";
}

/* RFC 7644 §3.4.2.2: which operator and value fit which attribute type. */
static ts_err check_compare(const struct ts_scim_filter *f, const struct ts_scim_attr_info *info,
                            const char *name, struct ts_error *e)
{
	enum ts_scim_op op = f->op;
	const struct ts_scim_value *v = &f->value;
	const char *opn = ts_scim_op_name(op);
	if (v->type == TS_SCIM_VALUE_NULL) {
		if (op != TS_SCIM_OP_EQ && op != TS_SCIM_OP_NE)
			return CHECK_FAIL(e, "only eq and ne compare with null ('%s %s null')",
			                  name, opn);
		return TS_ERR_OK;
	}
	switch (info->type) {
	case TS_SCIM_ATTR_BOOLEAN:
		/* "gt" etc. on Boolean attributes SHALL be invalidFilter */
		if (op != TS_SCIM_OP_EQ && op != TS_SCIM_OP_NE)
			return CHECK_FAIL(e, "operator %s is not allowed on boolean '%s'", opn,
			                  name);
		if (v->type != TS_SCIM_VALUE_BOOL)
			return CHECK_FAIL(e, "boolean '%s' compares with true or false", name);
		return TS_ERR_OK;
	case TS_SCIM_ATTR_STRING:
	case TS_SCIM_ATTR_REFERENCE:
	case TS_SCIM_ATTR_BINARY:
		if (info->type == TS_SCIM_ATTR_BINARY && is_order_op(op))
			return CHECK_FAIL(e, "operator %s is not allowed on binary '%s'", opn,
			                  name);
		if (v->type != TS_SCIM_VALUE_STRING)
			return CHECK_FAIL(e, "%s '%s' compares with a quoted string",
			                  type_name(info->type), name);
		return TS_ERR_OK;
	case TS_SCIM_ATTR_DATETIME: {
		int64_t ms;
		if (is_substring_op(op))
			return CHECK_FAIL(e, "operator %s is not allowed on dateTime '%s'", opn,
			                  name);
		if (v->type != TS_SCIM_VALUE_STRING || !ts_time_parse(v->str, &ms))
			return CHECK_FAIL(e, "dateTime '%s' compares with an RFC 3339 time string",
			                  name);
		return TS_ERR_OK;
	}
	case TS_SCIM_ATTR_INTEGER:
	case TS_SCIM_ATTR_DECIMAL:
		if (is_substring_op(op))
			return CHECK_FAIL(e, "operator %s is not allowed on %s '%s'", opn,
			                  type_name(info->type), name);
		if (v->type != TS_SCIM_VALUE_NUMBER)
			return CHECK_FAIL(e, "%s '%s' compares with a number",
			                  type_name(info->type), name);
		return TS_ERR_OK;
	case TS_SCIM_ATTR_COMPLEX:
		break;
	}
	return CHECK_FAIL(e, "complex '%s' needs a sub-attribute", name);
}

static ts_err check_leaf(const struct ts_scim_filter *f, const struct ts_scim_attr_rules *rules,
                         const struct ts_scim_attr_path *parent, struct ts_error *e)
{
	char name[TS_ERROR_MSG_MAX / 2];
	struct ts_scim_attr_info info;
	path_text(name, sizeof name, parent, &f->path);
	if (parent != NULL) {
		if (!lookup(rules, parent->urn, parent->attr, f->path.attr, &info))
			return CHECK_FAIL(e, "unknown attribute '%s'", name);
	} else {
		if (!lookup(rules, f->path.urn, f->path.attr, NULL, &info))
			return CHECK_FAIL(e, "unknown attribute '%s'", f->path.attr);
		if (!info.filterable)
			return CHECK_FAIL(e, "'%s' cannot be used in a filter", f->path.attr);
		if (f->path.sub != NULL) {
			if (info.type != TS_SCIM_ATTR_COMPLEX)
				return CHECK_FAIL(e, "'%s' has no sub-attributes", f->path.attr);
			if (!lookup(rules, f->path.urn, f->path.attr, f->path.sub, &info))
				return CHECK_FAIL(e, "unknown attribute '%s'", name);
		} else if (info.type == TS_SCIM_ATTR_COMPLEX) {
			if (f->kind == TS_SCIM_FILTER_PRESENT)
				return TS_ERR_OK;
			/* a complex attribute without sub-attribute compares its "value" */
			if (!lookup(rules, f->path.urn, f->path.attr, "value", &info))
				return CHECK_FAIL(e, "complex '%s' needs a sub-attribute", name);
		}
	}
	if (!info.filterable)
		return CHECK_FAIL(e, "'%s' cannot be used in a filter", name);
	if (f->kind == TS_SCIM_FILTER_PRESENT)
		return TS_ERR_OK;
	return check_compare(f, &info, name, e);
}

static ts_err check_node(const struct ts_scim_filter *f, const struct ts_scim_attr_rules *rules,
                         const struct ts_scim_attr_path *parent, struct ts_error *e)
{
	ts_err rc;
	struct ts_scim_attr_info info;
	switch (f->kind) {
	case TS_SCIM_FILTER_AND:
	case TS_SCIM_FILTER_OR:
		rc = check_node(f->left, rules, parent, e);
		return rc != TS_ERR_OK ? rc : check_node(f->right, rules, parent, e);
	case TS_SCIM_FILTER_NOT:
		return check_node(f->left, rules, parent, e);
	case TS_SCIM_FILTER_VALUE_PATH:
		if (!lookup(rules, f->path.urn, f->path.attr, NULL, &info))
			return CHECK_FAIL(e, "unknown attribute '%s'", f->path.attr);
		if (!info.filterable)
			return CHECK_FAIL(e, "'%s' cannot be used in a filter", f->path.attr);
		if (info.type != TS_SCIM_ATTR_COMPLEX)
			return CHECK_FAIL(e, "'%s' is not complex: a value filter needs one",
			                  f->path.attr);
		return check_node(f->inner, rules, &f->path, e);
	case TS_SCIM_FILTER_COMPARE:
	case TS_SCIM_FILTER_PRESENT:
		return check_leaf(f, rules, parent, e);
	}
	return CHECK_FAIL(e, "malformed filter tree");
}

ts_err ts_scim_filter_check(const struct ts_scim_filter *f, const struct ts_scim_attr_rules *rules,
                            struct ts_error *e)
{
	if (f == NULL)
		return CHECK_FAIL(e, "no filter");
	if (rules == NULL || rules->lookup == NULL)
		return TS_ERR_OK;
	return check_node(f, rules, NULL, e);
}

/* ------------------------------------------------------------------------ */
/* Evaluator                                                                 */
/* ------------------------------------------------------------------------ */

/* obj[key] with the key matched case-insensitively (RFC 7643 §2.1). */
static const json_t *get_ci(const json_t *obj, const char *key)
{
	if (!json_is_object(obj) || key == NULL)
		return NULL;
	const json_t *v = json_object_get(obj, key);
	if (v != NULL)
		return v;
	json_t *o = (json_t *)obj; /* jansson's iterators take non-const */
	for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it))
		if (strcasecmp(json_object_iter_key(it), key) == 0)
			return json_object_iter_value(it);
	return NULL;
}

/* RFC 7644 §3.4.2.2 "pr": a non-empty value, or a complex one with a non-empty node. */
static bool present(const json_t *v, int depth)
{
	if (v == NULL || json_is_null(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (depth >= PRESENT_DEPTH_MAX)
		return json_is_array(v) ? json_array_size(v) > 0 : json_object_size(v) > 0;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (present(json_array_get(v, i), depth + 1))
				return true;
		return false;
	}
	if (json_is_object(v)) {
		json_t *o = (json_t *)v;
		for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it))
			if (present(json_object_iter_value(it), depth + 1))
				return true;
		return false;
	}
	return true;
}

static unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Compares n bytes, folding ASCII case unless exact. */
static int bytes_cmp(const char *a, const char *b, size_t n, bool exact)
{
	if (exact)
		return memcmp(a, b, n);
	for (size_t i = 0; i < n; i++) {
		int d = fold((unsigned char)a[i]) - fold((unsigned char)b[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

static char *folded_copy(const char *s, size_t n)
{
	char *d = ts_malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)fold((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

/* Substring search; memmem is linear, so a long value cannot make this quadratic. */
static bool contains(const char *hay, size_t hn, const char *needle, size_t nn, bool exact)
{
	if (nn == 0)
		return true;
	if (exact)
		return memmem(hay, hn, needle, nn) != NULL;
	char *h = folded_copy(hay, hn);
	char *nd = folded_copy(needle, nn);
	bool found_it = memmem(h, hn, nd, nn) != NULL;
	ts_free(h);
	ts_free(nd);
	return found_it;
}

static bool order(enum ts_scim_op op, int cmp)
{
	switch (op) {
	case TS_SCIM_OP_EQ:
		return cmp == 0;
	case TS_SCIM_OP_NE:
		return cmp != 0;
	case TS_SCIM_OP_GT:
		return cmp > 0;
	case TS_SCIM_OP_GE:
		return cmp >= 0;
	case TS_SCIM_OP_LT:
		return cmp < 0;
	case TS_SCIM_OP_LE:
		return cmp <= 0;
	default:
		return false;
	}
}

static bool string_op(enum ts_scim_op op, const char *a, size_t an, const char *b, size_t bn,
                      bool exact)
{
	switch (op) {
	case TS_SCIM_OP_CO:
		return contains(a, an, b, bn, exact);
	case TS_SCIM_OP_SW:
		return an >= bn && bytes_cmp(a, b, bn, exact) == 0;
	case TS_SCIM_OP_EW:
		return an >= bn && bytes_cmp(a + an - bn, b, bn, exact) == 0;
	default: {
		/* RFC 7644 §3.4.2.2: gt/ge/lt/le on strings are lexicographic */
		int cmp = bytes_cmp(a, b, an < bn ? an : bn, exact);
		if (cmp == 0)
			cmp = (an > bn) - (an < bn);
		return order(op, cmp);
	}
	}
}

static int num_cmp(const json_t *j, const struct ts_scim_value *v)
{
	if (json_is_integer(j) && v->is_int) {
		json_int_t a = json_integer_value(j);
		return (a > v->i) - (a < v->i);
	}
	double a = json_number_value(j);
	return (a > v->num) - (a < v->num);
}

/* One resource value against the comparison; wrong JSON types never match. */
static bool compare(const json_t *c, const struct ts_scim_filter *f,
                    const struct ts_scim_attr_info *info)
{
	const struct ts_scim_value *v = &f->value;
	enum ts_scim_attr_type type;
	bool exact = false;
	if (info != NULL) {
		type = info->type;
		exact = info->case_exact;
	} else if (json_is_string(c)) {
		type = TS_SCIM_ATTR_STRING; /* RFC 7643 §2.2: caseExact defaults to false */
	} else if (json_is_boolean(c)) {
		type = TS_SCIM_ATTR_BOOLEAN;
	} else if (json_is_number(c)) {
		type = TS_SCIM_ATTR_DECIMAL;
	} else {
		return false;
	}
	switch (type) {
	case TS_SCIM_ATTR_STRING:
	case TS_SCIM_ATTR_REFERENCE:
	case TS_SCIM_ATTR_BINARY:
		if (!json_is_string(c) || v->type != TS_SCIM_VALUE_STRING)
			return false;
		return string_op(f->op, json_string_value(c), json_string_length(c), v->str,
		                 v->str_len, exact);
	case TS_SCIM_ATTR_BOOLEAN:
		if (!json_is_boolean(c) || v->type != TS_SCIM_VALUE_BOOL)
			return false;
		if (f->op == TS_SCIM_OP_EQ)
			return json_is_true(c) == v->boolean;
		if (f->op == TS_SCIM_OP_NE)
			return json_is_true(c) != v->boolean;
		return false;
	case TS_SCIM_ATTR_INTEGER:
	case TS_SCIM_ATTR_DECIMAL:
		if (!json_is_number(c) || v->type != TS_SCIM_VALUE_NUMBER || is_substring_op(f->op))
			return false;
		return order(f->op, num_cmp(c, v));
	case TS_SCIM_ATTR_DATETIME: {
		/* compared as instants, so offsets and fractions do not matter */
		int64_t a, b;
		if (!json_is_string(c) || v->type != TS_SCIM_VALUE_STRING ||
		    is_substring_op(f->op) || !ts_time_parse(json_string_value(c), &a) ||
		    !ts_time_parse(v->str, &b))
			return false;
		return order(f->op, (a > b) - (a < b));
	}
	case TS_SCIM_ATTR_COMPLEX:
		break;
	}
	return false;
}

/* The value inside one element that the leaf tests. */
static const json_t *pick(const json_t *el, const char *sub, bool presence)
{
	if (sub != NULL)
		return json_is_object(el) ? get_ci(el, sub) : NULL;
	if (json_is_object(el) && !presence)
		return get_ci(el, "value");
	return el;
}

static bool test_one(const json_t *c, const struct ts_scim_filter *f,
                     const struct ts_scim_attr_info *info, bool presence)
{
	if (c == NULL)
		return false;
	return presence ? present(c, 0) : compare(c, f, info);
}

/* RFC 7644 §3.4.2.2: a multi-valued attribute matches if any of its values does. */
static bool any_value(const json_t *v, const char *sub, const struct ts_scim_filter *f,
                      const struct ts_scim_attr_info *info, bool presence)
{
	if (v == NULL)
		return false;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (test_one(pick(json_array_get(v, i), sub, presence), f, info, presence))
				return true;
		return false;
	}
	return test_one(pick(v, sub, presence), f, info, presence);
}

/* The object holding a top-level attribute: the resource, or an extension's member. */
static const json_t *container(const json_t *resource, const struct ts_scim_attr_path *path,
                               const struct ts_scim_attr_rules *rules, bool known,
                               const struct ts_scim_attr_info *info)
{
	static const char core_prefix[] = "urn:ietf:params:scim:schemas:core:";
	if (known)
		return info->extension ? get_ci(resource, info->schema) : resource;
	if (path->urn == NULL)
		return resource;
	if (rules != NULL && rules->core_schema != NULL &&
	    strcasecmp(path->urn, rules->core_schema) == 0)
		return resource;
	if (strncasecmp(path->urn, core_prefix, sizeof core_prefix - 1) == 0)
		return resource;
	return get_ci(resource, path->urn);
}

static bool match_leaf(const struct ts_scim_filter *f, const json_t *obj,
                       const struct ts_scim_attr_rules *rules,
                       const struct ts_scim_attr_path *parent)
{
	struct ts_scim_attr_info top, info;
	bool known;
	const json_t *v;
	const char *sub = NULL;
	if (parent != NULL) {
		/* inside a value filter obj is one value and names are its sub-attributes */
		known = lookup(rules, parent->urn, parent->attr, f->path.attr, &info);
		v = get_ci(obj, f->path.attr);
	} else {
		bool top_known = lookup(rules, f->path.urn, f->path.attr, NULL, &top);
		v = get_ci(container(obj, &f->path, rules, top_known, &top), f->path.attr);
		sub = f->path.sub;
		if (sub != NULL) {
			known = lookup(rules, f->path.urn, f->path.attr, sub, &info);
		} else if (top_known && top.type == TS_SCIM_ATTR_COMPLEX) {
			known = lookup(rules, f->path.urn, f->path.attr, "value", &info);
		} else {
			known = top_known;
			info = top;
		}
	}
	const struct ts_scim_attr_info *ip = known ? &info : NULL;
	if (f->kind == TS_SCIM_FILTER_PRESENT)
		return any_value(v, sub, f, ip, true);
	if (f->value.type == TS_SCIM_VALUE_NULL) {
		bool has = any_value(v, sub, f, ip, true);
		return f->op == TS_SCIM_OP_EQ ? !has : f->op == TS_SCIM_OP_NE ? has : false;
	}
	return any_value(v, sub, f, ip, false);
}

static bool match_node(const struct ts_scim_filter *f, const json_t *obj,
                       const struct ts_scim_attr_rules *rules,
                       const struct ts_scim_attr_path *parent)
{
	switch (f->kind) {
	case TS_SCIM_FILTER_AND:
		return match_node(f->left, obj, rules, parent) &&
		       match_node(f->right, obj, rules, parent);
	case TS_SCIM_FILTER_OR:
		return match_node(f->left, obj, rules, parent) ||
		       match_node(f->right, obj, rules, parent);
	case TS_SCIM_FILTER_NOT:
		return !match_node(f->left, obj, rules, parent);
	case TS_SCIM_FILTER_VALUE_PATH: {
		/* RFC 7644 §3.4.2.2: all of the value filter holds on one and the same value */
		struct ts_scim_attr_info info;
		bool known = lookup(rules, f->path.urn, f->path.attr, NULL, &info);
		const json_t *v =
		        get_ci(container(obj, &f->path, rules, known, &info), f->path.attr);
		if (json_is_object(v))
			return match_node(f->inner, v, rules, &f->path);
		if (json_is_array(v)) {
			for (size_t i = 0; i < json_array_size(v); i++) {
				const json_t *el = json_array_get(v, i);
				if (json_is_object(el) && match_node(f->inner, el, rules, &f->path))
					return true;
			}
		}
		return false;
	}
	case TS_SCIM_FILTER_COMPARE:
	case TS_SCIM_FILTER_PRESENT:
		return match_leaf(f, obj, rules, parent);
	}
	return false;
}

bool ts_scim_filter_match(const struct ts_scim_filter *f, const json_t *resource,
                          const struct ts_scim_attr_rules *rules)
{
	if (f == NULL || !json_is_object(resource))
		return false;
	return match_node(f, resource, rules, NULL);
}
