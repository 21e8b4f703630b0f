/*
 * Redaction of audited and logged bodies: the one place that decides what a
 * secret looks like, so that every audit writer (admin calls, SCIM writes,
 * the CLI, the domain verifier) and the log drop the same things.
 *
 * Incident: a SCIM PATCH setting `password` by `path`, by
 * a no-path `value`, or by the URN-qualified name was copied verbatim into
 * the append-only audit trail, because the SCIM writer skipped only a
 * top-level member spelled "password". An append-only, hash-chained trail
 * cannot forget what it was given, so the sweep is by meaning, not spelling:
 *
 *   - a member is secret when any word of its name (a word is a run of
 *     letters, digits, '_' and '-'; so "urn:...:User:password",
 *     "name.password" and "client_secret" each yield one) ends, case and
 *     '_'/'-' ignored, with a secret word: password, secret, token, ...;
 *   - in an object that has a `path` member naming a secret (a SCIM PATCH
 *     operation, RFC 7644 §3.5.2), the `value` member is secret too;
 *   - a string is secret whatever its name when it reads as a credential:
 *     an HTTP Authorization value (RFC 9110 §11.6.2: "Bearer ...",
 *     "Basic ...") or a Tessera bearer token ("TSAK....", "TSSK....").
 *
 * A secret's value is replaced by TS_AUDIT_REDACTED (nulls stay null). The
 * writer runs on every SCIM write's hot path: one pass, nothing allocated,
 * and byte for byte what ts_jsonw_value writes when nothing matches.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "audit/redact.h"

struct ending {
	const char *s;
	size_t n;
};
#define ENDING(lit)                    \
	{                              \
		(lit), sizeof(lit) - 1 \
	}

/*
 * Endings of secret member names, lower case, without '_' or '-'. "pin" is
 * the personal meeting PIN (ResetPersonalPin); "credential(s)" and
 * "cookie" cover client credentials and Cookie / Set-Cookie headers.
 * Grouped by last letter, so that a name is compared with the few that
 * could match.
 */
static const struct ending end_d[] = {ENDING("password"), ENDING("passwd")};
static const struct ending end_e[] = {ENDING("passphrase"), ENDING("cookie")};
static const struct ending end_l[] = {ENDING("credential")};
static const struct ending end_n[] = {ENDING("token"), ENDING("pin"), ENDING("authorization")};
static const struct ending end_s[] = {ENDING("credentials")};
static const struct ending end_t[] = {ENDING("secret")};
static const struct ending end_y[] = {ENDING("privatekey"), ENDING("secretkey")};

#define GROUP(g)                                \
	{                                       \
		(g), sizeof(g) / sizeof((g)[0]) \
	}
static const struct endings {
	const struct ending *e;
	size_t n;
} secret_endings[128] = {
        ['d'] = GROUP(end_d), ['e'] = GROUP(end_e), ['l'] = GROUP(end_l), ['n'] = GROUP(end_n),
        ['s'] = GROUP(end_s), ['t'] = GROUP(end_t), ['y'] = GROUP(end_y),
};

/* Names that end like a secret but are not one: an opaque paging cursor. */
static const struct ending not_secret[] = {ENDING("nexttoken")};

/* ASCII only, and inline: this runs on every member name of every audited body. */
static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

static inline bool separator(char c)
{
	return c == '_' || c == '-';
}

/* Letters, digits, '_' and '-': the characters of a name's words. */
static const bool word_chars[256] = {
        ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
        ['_'] = true,         ['-'] = true,
};

static inline bool word_char(char c)
{
	return word_chars[(unsigned char)c];
}

/*
 * Whether word[0..n) ends with e, case and '_' / '-' ignored; whole: and
 * has nothing else before it (but '_' / '-').
 */
static inline bool ends_with(const char *word, size_t n, const struct ending *e, bool whole)
{
	size_t j = e->n;
	while (j > 0) {
		if (n == 0)
			return false;
		char c = word[--n];
		if (separator(c))
			continue;
		if (lower(c) != e->s[--j])
			return false;
	}
	while (whole && n > 0 && separator(word[n - 1]))
		n--;
	return !whole || n == 0;
}

static bool secret_word(const char *word, size_t n)
{
	size_t k = n;
	while (k > 0 && separator(word[k - 1]))
		k--;
	if (k == 0)
		return false;
	/* most names end in a letter no secret ending ends in: one look each */
	unsigned char last = (unsigned char)lower(word[k - 1]);
	if (last >= sizeof secret_endings / sizeof secret_endings[0] || secret_endings[last].n == 0)
		return false;
	const struct endings *g = &secret_endings[last];
	/* and the letter before it, before any longer comparison */
	size_t m = k - 1;
	while (m > 0 && separator(word[m - 1]))
		m--;
	char before = m > 0 ? lower(word[m - 1]) : '\0';
	for (size_t i = 0; i < g->n; i++)
		if (g->e[i].s[g->e[i].n - 2] == before && ends_with(word, n, &g->e[i], false)) {
			for (size_t j = 0; j < sizeof not_secret / sizeof not_secret[0]; j++)
				if (ends_with(word, n, &not_secret[j], true))
					return false;
			return true;
		}
	return false;
}

bool ts_audit_secret_name(const char *name, size_t len)
{
	/* one pass: each word is looked at where it ends */
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (word_char(name[i]))
			continue;
		if (i > start && secret_word(name + start, i - start))
			return true;
		start = i + 1;
	}
	return len > start && secret_word(name + start, len - start);
}

/* A Tessera bearer token: "TS" + id characters (A-Z, 2-7), '.', a long alphanumeric secret. */
static bool tessera_token(const char *s, size_t len)
{
	if (len < 2 || s[0] != 'T' || s[1] != 'S')
		return false;
	size_t i = 2;
	while (i < len && (isupper((unsigned char)s[i]) || (s[i] >= '2' && s[i] <= '7')))
		i++;
	if (i == 2 || i >= len || s[i] != '.')
		return false;
	size_t secret = len - ++i;
	for (; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return secret >= TS_AUDIT_TOKEN_SECRET_MIN;
}

bool ts_audit_secret_text(const char *s, size_t len)
{
	/* RFC 9110 §11.6.2 credentials, with the schemes clients send (RFC 6750, RFC 7617) */
	/* as sent, and as a query writes the space (RFC 3986 §2.1, HTML forms) */
	static const char *const schemes[] = {"bearer ",  "basic ",  "bearer%20",
	                                      "basic%20", "bearer+", "basic+"};
	if (len > 0 && lower(s[0]) == 'b')
		for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
			size_t n = strlen(schemes[i]);
			if (len > n && strncasecmp(s, schemes[i], n) == 0)
				return true;
		}
	return tessera_token(s, len);
}

/*
 * One name[=value] pair of a query (RFC 3986 §3.4, as forms write them) is
 * secret: a secret name (access_token, client_secret, ...) or a credential
 * as its value. The pair is q[0..n).
 */
static bool secret_pair(const char *q, size_t n, size_t *name_len)
{
	const char *eq = memchr(q, '=', n);
	*name_len = eq ? (size_t)(eq - q) : n;
	return eq != NULL && (ts_audit_secret_name(q, *name_len) ||
	                      ts_audit_secret_text(eq + 1, n - *name_len - 1));
}

const char *ts_audit_redact_query(ts_arena_t *a, const char *query)
{
	size_t len = strlen(query), secrets = 0, name_len = 0;
	for (const char *p = query; p < query + len;) {
		const char *amp = memchr(p, '&', (size_t)(query + len - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(query + len - p);
		secrets += secret_pair(p, n, &name_len);
		p = amp ? amp + 1 : query + len;
	}
	if (secrets == 0)
		return query;
	static const char marker[] = TS_AUDIT_REDACTED;
	char *out = ts_arena_alloc(a, len + secrets * sizeof marker + 1), *o = out;
	for (const char *p = query; p < query + len;) {
		const char *amp = memchr(p, '&', (size_t)(query + len - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(query + len - p);
		if (secret_pair(p, n, &name_len)) {
			memcpy(o, p, name_len + 1); /* name and '=' */
			o += name_len + 1;
			memcpy(o, marker, sizeof marker - 1);
			o += sizeof marker - 1;
		} else {
			memcpy(o, p, n);
			o += n;
		}
		if (amp != NULL)
			*o++ = '&';
		p = amp ? amp + 1 : query + len;
	}
	*o = '\0';
	return out;
}

/* Our events' own "Query" member: the request's query string, redacted pair by pair. */
static bool query_member(const char *k, const json_t *v)
{
	return json_is_string(v) && strcmp(k, "Query") == 0;
}

/* The object's `path` member (any case) names a secret: its `value` is one too. */
static bool path_names_secret(const json_t *obj)
{
	/* the iterator itself, not json_object_foreach: a key and an advance per member */
	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *k = json_object_iter_key(it);
		if (lower(k[0]) != 'p' || strcasecmp(k, "path") != 0)
			continue;
		const json_t *v = json_object_iter_value(it);
		if (json_is_string(v) &&
		    ts_audit_secret_name(json_string_value(v), json_string_length(v)))
			return true;
	}
	return false;
}

static bool secret_string(const json_t *v)
{
	return json_is_string(v) &&
	       ts_audit_secret_text(json_string_value(v), json_string_length(v));
}

static bool secret_member(const char *k, const json_t *v, bool path_secret)
{
	if (json_is_null(v))
		return false;
	return ts_audit_secret_name(k, strlen(k)) || (path_secret && strcasecmp(k, "value") == 0);
}

void ts_audit_redact_write(struct ts_jsonw *w, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		bool path_secret = path_names_secret(j);
		const char *k;
		json_t *v;
		ts_jsonw_lit(w, "{");
		json_object_foreach((json_t *)j, k, v)
		{
			ts_jsonw_key(w, k);
			if (secret_member(k, v, path_secret))
				ts_jsonw_lit(w, "\"" TS_AUDIT_REDACTED "\"");
			else if (query_member(k, v))
				(void)ts_jsonw_str(
				        w, ts_audit_redact_query(w->arena, json_string_value(v)));
			else
				ts_audit_redact_write(w, v);
		}
		ts_jsonw_lit(w, "}");
		break;
	}
	case JSON_ARRAY:
		ts_jsonw_lit(w, "[");
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i > 0)
				ts_jsonw_lit(w, ",");
			ts_audit_redact_write(w, json_array_get(j, i));
		}
		ts_jsonw_lit(w, "]");
		break;
	case JSON_STRING:
		if (secret_string(j))
			ts_jsonw_lit(w, "\"" TS_AUDIT_REDACTED "\"");
		else
			ts_jsonw_value(w, j);
		break;
	default:
		ts_jsonw_value(w, j);
		break;
	}
}

bool ts_audit_redact(json_t *j)
{
	bool changed = false;
	if (json_is_object(j)) {
		bool path_secret = path_names_secret(j);
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
		{
			if (secret_member(k, v, path_secret) || secret_string(v)) {
				json_object_iter_set_new(j, json_object_key_to_iter(k),
				                         json_string(TS_AUDIT_REDACTED));
				changed = true;
			} else if (query_member(k, v)) {
				ts_arena_t *tmp = ts_arena_new();
				const char *q = ts_audit_redact_query(tmp, json_string_value(v));
				if (q != json_string_value(v)) {
					json_object_iter_set_new(j, json_object_key_to_iter(k),
					                         json_string(q));
					changed = true;
				}
				ts_arena_free(&tmp);
			} else if (ts_audit_redact(v)) {
				changed = true;
			}
		}
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *v = json_array_get(j, i);
			if (secret_string(v)) {
				json_array_set_new(j, i, json_string(TS_AUDIT_REDACTED));
				changed = true;
			} else if (ts_audit_redact(v)) {
				changed = true;
			}
		}
	}
	return changed;
}
