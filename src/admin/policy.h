/*
 * The admin API's IAM-style policy engine (docs/product.md §9). Admin keys carry one or
 * more policy documents, or the names of managed policies, e.g.
 *   ["ReadOnly", {"Version":"2012-10-17","Statement":[{"Effect":"Deny",
 *     "Action":"tessera:Get*","Resource":"arn:tessera:::account/42"}]}]
 * Documents are validated in full and compiled once into compact structs;
 * evaluation walks those structs only (no JSON, no allocation), because it
 * runs on every admin request. Semantics follow IAM: an explicit Deny wins,
 * then an Allow, otherwise the request is implicitly denied. Actions match
 * case-insensitively, resources case-sensitively, both with the wildcards
 * `*` (any run of characters) and `?` (exactly one character).
 *
 * The managed policies FullAccess, UserManagement and ReadOnly grant exactly
 * the action sets that the Amazon Chime administration guide's table
 * "Amazon Chime Actions" gives to its FA, UM and RO columns,
 * renamed from chime: to tessera:. Tessera's own actions that are not in that
 * table (admin keys, audit events) are granted by no managed policy.
 */
#ifndef TS_ADMIN_POLICY_H
#define TS_ADMIN_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Caps on what one admin key may carry; anything beyond is a BadRequest. */
#define TS_ADMIN_POLICY_MAX_POLICIES 10       /* documents or managed names per key */
#define TS_ADMIN_POLICY_MAX_STATEMENTS 100    /* statements per document */
#define TS_ADMIN_POLICY_MAX_ITEMS 100         /* actions, or resources, per statement */
#define TS_ADMIN_POLICY_MAX_STRING 256        /* bytes in any one string of a document */
#define TS_ADMIN_POLICY_MAX_TEXT (256 * 1024) /* bytes of JSON text (parse_text) */

/* The service prefix of every Tessera action. */
#define TS_ADMIN_ACTION_PREFIX "tessera:"
/* The ARN of an account is TS_ADMIN_ARN_ACCOUNT_PREFIX followed by its id. */
#define TS_ADMIN_ARN_ACCOUNT_PREFIX "arn:tessera:::account/"
#define TS_ADMIN_ARN_MAX 128

/* One or more parsed documents, compiled for evaluation. Immutable once
 * built, so one set may be evaluated from many threads at once. */
typedef struct ts_policy_set ts_policy_set_t;

enum ts_policy_decision {
	TS_POLICY_IMPLICIT_DENY = 0,
	TS_POLICY_ALLOW,
	TS_POLICY_EXPLICIT_DENY,
};

/*
 * Parses `policies`: a JSON array whose items are managed policy names
 * ("FullAccess") or policy documents (objects), e.g. ["ReadOnly", {...}];
 * a single document object, or a single managed name string, is accepted too.
 * Every document is validated in full: Version "2012-10-17" or "2008-10-17"
 * (required), Statement an object or a non-empty array, each statement with
 * Effect "Allow"|"Deny", exactly one of Action/NotAction and one of
 * Resource/NotResource (string or non-empty array of strings), optional Sid.
 * Condition, Principal and unknown fields are refused, as are values over the
 * caps above. On success *out is a new set the caller frees with
 * ts_admin_policy_free; on failure *out is NULL and the result is
 * TS_ERR_BAD_REQUEST with a message naming the offending member
 * (e.g. `Policies[1].Statement[0].Effect must be "Allow" or "Deny"`).
 */
TS_MUST_USE ts_err ts_admin_policy_parse(const json_t *policies, ts_policy_set_t **out,
                                         struct ts_error *e);

/* As ts_admin_policy_parse, from JSON text (at most TS_ADMIN_POLICY_MAX_TEXT
 * bytes, else TS_ERR_TOO_LARGE; malformed JSON is TS_ERR_BAD_REQUEST). */
TS_MUST_USE ts_err ts_admin_policy_parse_text(const char *json_text, ts_policy_set_t **out,
                                              struct ts_error *e);

/* Frees *p and sets it to NULL; NULL and *p == NULL are fine. */
void ts_admin_policy_free(ts_policy_set_t **p);

/*
 * Decides whether `action` ("tessera:GetUser") on `resource` (an account ARN
 * from ts_admin_account_arn) is allowed. A NULL resource stands for "*": an
 * action that names no account (CreateAccount, ListAccounts, admin keys,
 * audit events), which only statements whose Resource covers everything
 * (e.g. "*") allow. A NULL set or action is an implicit deny.
 */
enum ts_policy_decision ts_admin_policy_evaluate(const ts_policy_set_t *p, const char *action,
                                                 const char *resource);

/*
 * True when some Allow statement matching `action` exists for some resource
 * and no Deny statement matching `action` covers every resource ("*"). Used
 * to decide whether a listing (ListAccounts) may run at all before its
 * results are filtered account by account with ts_admin_policy_evaluate.
 */
bool ts_admin_policy_allows_some(const ts_policy_set_t *p, const char *action);

/* The managed policy document (static JSON text) called `name`
 * ("FullAccess", "UserManagement", "ReadOnly"; case-sensitive), or NULL. */
const char *ts_admin_policy_managed(const char *name);

/* Every action Tessera knows, NULL-terminated, "tessera:GetAccount", ... */
extern const char *const ts_admin_actions[];

/* True when `action` is one of ts_admin_actions (case-insensitive, as IAM
 * action names are). */
bool ts_admin_action_known(const char *action);

/* Writes "arn:tessera:::account/<account_id>" into out (size n, always
 * NUL-terminated when n > 0; truncated when too small). */
void ts_admin_account_arn(const char *account_id, char *out, size_t n);

#endif
