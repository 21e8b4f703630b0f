/*
 * Redaction: what no audit event or log line may hold. The one function
 * every audit writer and the log use (redact.c says how a secret is
 * recognised and why).
 */
#ifndef TS_AUDIT_REDACT_H
#define TS_AUDIT_REDACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/jsonw.h"

/* What an audited or logged secret's value becomes. */
#define TS_AUDIT_REDACTED "[redacted]"
/* Characters a Tessera token's secret part has at least (the keys' have 40). */
#define TS_AUDIT_TOKEN_SECRET_MIN 16

/*
 * Whether a member named name[0..len) holds a secret: any word of the name
 * (runs of letters, digits, '_', '-') ends, without case or '_' / '-', in
 * password, secret, token, privatekey, pin, credential(s), authorization,
 * cookie, ... So "password", "PASSWORD", "urn:...:core:2.0:User:password",
 * "name.password", "client_secret", "ClientSecret", "Token" all do;
 * "NextToken" (a paging cursor) and "AccessKeyId" do not.
 */
bool ts_audit_secret_name(const char *name, size_t len);
/* Whether text reads as a credential whatever its name: "Bearer ...", "Basic ...", a token. */
bool ts_audit_secret_text(const char *s, size_t len);
/*
 * query ("a=1&access_token=x") with the value of every secret pair (a
 * secret name, or a credential as the value) written as [redacted]: query
 * itself when there is none (nothing allocated), else a copy in a.
 */
const char *ts_audit_redact_query(ts_arena_t *a, const char *query);
/*
 * Appends j to w as compact JSON with every secret's value (a secret member,
 * the `value` of an object whose `path` names a secret, a credential-shaped
 * string, the secret pairs of a "Query" member) written as "[redacted]".
 * When nothing is secret the text is byte for byte ts_jsonw_value's. One
 * pass; allocates nothing but w's growth unless a query has a secret.
 * Every audit event's parameters and response go through it.
 */
void ts_audit_redact_write(struct ts_jsonw *w, const json_t *j);
/*
 * The same in place, for a value that is not written with jsonw (log fields):
 * secrets' values become "[redacted]". A bare string j is not changed (its
 * holder must replace it). True when anything was redacted.
 */
bool ts_audit_redact(json_t *j);

#endif
