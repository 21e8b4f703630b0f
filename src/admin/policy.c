/*
 * The policy engine: the action table, the managed policies built from it,
 * validation of policy documents, their compilation into one compact block
 * of statements and patterns, and evaluation over that block.
 *
 * Parsing runs in two passes over already-validated JSON: the first checks
 * every rule and counts statements, patterns and string bytes; the second
 * fills one allocation of exactly that size. Evaluation then touches only
 * that block, never allocates and never fails.
 */
#include "admin/policy.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

/*
 * X(Name, FA, UM, RO): every action, and which managed policy grants it.
 * Rows before the marker are the Chime guide's table "Amazon Chime Actions"
 * (the Amazon Chime administration guide), in its order and with its columns,
 * chime: renamed tessera:, then the SAML rows and the rows of access after
 * sign-in (targets, permission sets, assignments: SPEC §8, whose issue gives
 * FullAccess all of them and UserManagement and ReadOnly the reads), which
 * managed policies grant as the guide's rows are. Rows after it are
 * Tessera's own actions that the table does not have: no managed policy
 * grants them, only a policy naming them (or a wildcard such as "tessera:*")
 * does.
 */
#define TS_ADMIN_ACTION_TABLE(X)                                                          \
	/* Accounts */                                                                    \
	X(CreateAccount, 1, 0, 0)                                                         \
	X(RenameAccount, 1, 0, 0)                                                         \
	X(GetAccountSettings, 1, 1, 1)                                                    \
	X(UpdateAccountSettings, 1, 1, 0)                                                 \
	X(ListAccounts, 1, 1, 1)                                                          \
	X(GetAccount, 1, 1, 1)                                                            \
	X(DeleteAccount, 1, 0, 0)                                                         \
	/* Users */                                                                       \
	X(ListUsers, 1, 1, 1)                                                             \
	X(GetUser, 1, 1, 1)                                                               \
	X(GetUserByEmail, 1, 1, 1)                                                        \
	X(InviteUsers, 1, 1, 0)                                                           \
	X(SuspendUsers, 1, 1, 0)                                                          \
	X(ActivateUsers, 1, 1, 0)                                                         \
	X(UpdateUserLicenses, 1, 1, 0)                                                    \
	X(ResetPersonalPin, 1, 1, 0)                                                      \
	X(LogoutUser, 1, 1, 0)                                                            \
	/* Reports */                                                                     \
	X(ListAccountUsageReportData, 1, 1, 1)                                            \
	X(GetUserActivityReportData, 1, 1, 1)                                             \
	X(GetMeetingDetail, 1, 1, 0)                                                      \
	X(ListMeetingEvents, 1, 1, 0)                                                     \
	X(ListMeetingReportData, 1, 1, 0)                                                 \
	/* Domains */                                                                     \
	X(ListDomains, 1, 1, 1)                                                           \
	X(AddDomain, 1, 0, 0)                                                             \
	X(GetDomain, 1, 1, 1)                                                             \
	X(DeleteDomain, 1, 0, 0)                                                          \
	/* Active Directory */                                                            \
	X(AuthorizeDirectory, 1, 0, 0)                                                    \
	X(UnauthorizeDirectory, 1, 0, 0)                                                  \
	X(ListDirectories, 1, 1, 1)                                                       \
	X(ConnectDirectory, 1, 0, 0)                                                      \
	X(DisconnectDirectory, 1, 0, 0)                                                   \
	/* Okta: SCIM API keys and the OpenID Connect configuration */                    \
	X(ListApiKeys, 1, 0, 0)                                                           \
	X(CreateApiKey, 1, 0, 0)                                                          \
	X(DeleteApiKey, 1, 0, 0)                                                          \
	X(GetAccountWithOpenIdConfig, 1, 0, 0)                                            \
	X(UpdateAccountOpenIdConfig, 1, 0, 0)                                             \
	X(DeleteAccountOpenIdConfig, 1, 0, 0)                                             \
	/* Directory groups */                                                            \
	X(ListGroups, 1, 1, 1)                                                            \
	X(AddOrUpdateGroups, 1, 0, 0)                                                     \
	X(DeleteGroups, 1, 0, 0)                                                          \
	/* Support */                                                                     \
	X(SubmitSupportRequest, 1, 1, 0)                                                  \
	/* AWS account delegation */                                                      \
	X(AcceptDelegate, 1, 0, 0)                                                        \
	X(ValidateDelegate, 1, 0, 0)                                                      \
	X(ListDelegates, 1, 1, 1)                                                         \
	X(DeleteDelegate, 1, 0, 0)                                                        \
	/* SAML identity source (docs/saml.md) */                                         \
	X(PutSamlConfig, 1, 0, 0)                                                         \
	X(GetSamlConfig, 1, 1, 1)                                                         \
	X(DeleteSamlConfig, 1, 0, 0)                                                      \
	X(RotateSamlSpKey, 1, 0, 0)                                                       \
	/* Access after sign-in (SPEC §8, docs/access.md): UM and RO read */             \
	X(CreateTarget, 1, 0, 0)                                                          \
	X(ListTargets, 1, 1, 1)                                                           \
	X(GetTarget, 1, 1, 1)                                                             \
	X(UpdateTarget, 1, 0, 0)                                                          \
	X(DeleteTarget, 1, 0, 0)                                                          \
	X(CreatePermissionSet, 1, 0, 0)                                                   \
	X(ListPermissionSets, 1, 1, 1)                                                    \
	X(GetPermissionSet, 1, 1, 1)                                                      \
	X(UpdatePermissionSet, 1, 0, 0)                                                   \
	X(DeletePermissionSet, 1, 0, 0)                                                   \
	X(CreateAssignment, 1, 0, 0)                                                      \
	X(ListAssignments, 1, 1, 1)                                                       \
	X(GetAssignment, 1, 1, 1)                                                         \
	X(UpdateAssignment, 1, 0, 0)                                                      \
	X(DeleteAssignment, 1, 0, 0)                                                      \
	/* ---- end of the Chime guide's table; Tessera's own actions below ---- */       \
	X(CreateAdminKey, 0, 0, 0)                                                        \
	X(ListAdminKeys, 0, 0, 0)                                                         \
	X(DeleteAdminKey, 0, 0, 0)                                                        \
	X(LookupEvents, 0, 0, 0)                                                          \
	/* removing a user from a Team account: the guide's table has no action for it */ \
	X(DeleteUser, 0, 0, 0)

const char *const ts_admin_actions[] = {
#define ROW_NAME(name, fa, um, ro) TS_ADMIN_ACTION_PREFIX #name,
        TS_ADMIN_ACTION_TABLE(ROW_NAME)
#undef ROW_NAME
                NULL,
};

enum { MANAGED_FA, MANAGED_UM, MANAGED_RO, MANAGED__COUNT };

static const struct {
	const char *name;
} managed_names[MANAGED__COUNT] = {
        [MANAGED_FA] = {"FullAccess"},
        [MANAGED_UM] = {"UserManagement"},
        [MANAGED_RO] = {"ReadOnly"},
};

/* grant[row][policy]: the table's FA, UM, RO columns. */
static const unsigned char grant[][MANAGED__COUNT] = {
#define ROW_GRANT(name, fa, um, ro) {fa, um, ro},
        TS_ADMIN_ACTION_TABLE(ROW_GRANT)
#undef ROW_GRANT
};

/* The managed documents are generated once from the table, so that the
 * table stays the one place that says which policy grants what. */
#define MANAGED_TEXT_MAX 4096
static char managed_text[MANAGED__COUNT][MANAGED_TEXT_MAX];
static pthread_once_t managed_once = PTHREAD_ONCE_INIT;

static void managed_build(void)
{
	for (int m = 0; m < MANAGED__COUNT; m++) {
		char *buf = managed_text[m];
		size_t used = 0;
		int n = snprintf(
		        buf, MANAGED_TEXT_MAX,
		        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Tessera%s\","
		        "\"Effect\":\"Allow\",\"Action\":[",
		        managed_names[m].name);
		used = (size_t)n;
		bool first = true;
		for (size_t row = 0; ts_admin_actions[row] != NULL; row++) {
			if (!grant[row][m])
				continue;
			n = snprintf(buf + used, MANAGED_TEXT_MAX - used, "%s\"%s\"",
			             first ? "" : ",", ts_admin_actions[row]);
			used += (size_t)n;
			first = false;
		}
		n = snprintf(buf + used, MANAGED_TEXT_MAX - used, "],\"Resource\":\"*\"}]}");
		used += (size_t)n;
		/* The table is fixed at compile time; a document that does not fit
		 * is a bug here, not an input problem. */
		if (used >= MANAGED_TEXT_MAX)
			abort();
	}
}

const char *ts_admin_policy_managed(const char *name)
{
	if (name == NULL)
		return NULL;
	for (int m = 0; m < MANAGED__COUNT; m++) {
		if (strcmp(name, managed_names[m].name) == 0) {
			pthread_once(&managed_once, managed_build);
			return managed_text[m];
		}
	}
	return NULL;
}

/* ASCII case folding, independent of the locale. */
static inline unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static bool equal_fold(const char *a, const char *b)
{
	for (; *a != '\0' && fold((unsigned char)*a) == fold((unsigned char)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

bool ts_admin_action_known(const char *action)
{
	if (action == NULL)
		return false;
	for (size_t i = 0; ts_admin_actions[i] != NULL; i++) {
		if (equal_fold(action, ts_admin_actions[i]))
			return true;
	}
	return false;
}

void ts_admin_account_arn(const char *account_id, char *out, size_t n)
{
	if (out == NULL || n == 0)
		return;
	snprintf(out, n, "%s%s", TS_ADMIN_ARN_ACCOUNT_PREFIX, account_id ? account_id : "");
}

/* ---- compiled form ---- */

enum pat_kind {
	PAT_ALL,    /* only '*': matches everything */
	PAT_EXACT,  /* no wildcard */
	PAT_PREFIX, /* one trailing '*', no other wildcard: "tessera:List*" */
	PAT_GLOB,   /* anything else */
};

struct pat {
	const char *s; /* NUL-terminated; lower-cased for action patterns */
	uint16_t len;
	uint8_t kind;
};

enum {
	ST_DENY = 1 << 0,
	ST_NOT_ACTION = 1 << 1,
	ST_NOT_RESOURCE = 1 << 2,
	ST_RESOURCE_ALL = 1 << 3, /* some Resource pattern matches everything */
};

struct stmt {
	uint32_t flags;
	uint16_t n_act, n_res;
	const struct pat *act, *res;
};

struct ts_policy_set {
	size_t n_stmts;
	const struct stmt *stmts;
	/* statements, patterns and strings follow in the same allocation */
};

/* What a pattern is matched against: an action or a resource, measured once
 * per call so that exact and prefix patterns can reject on length alone. */
struct subject {
	const char *s;
	size_t len;
};

/* p[0..n) equals s[0..n), with s folded when fold_case (p already is). */
static bool same(const char *p, const char *s, size_t n, bool fold_case)
{
	if (!fold_case)
		return memcmp(p, s, n) == 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)p[i] != fold((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * '*' matches any run of bytes (also empty, also ':' and '/'), '?' exactly
 * one byte. Greedy with one backtrack point: O(len(p) * len(s)) at worst,
 * and patterns are capped at TS_ADMIN_POLICY_MAX_STRING bytes.
 * With fold, p is already lower case and s is folded as it is read.
 */
static bool glob(const char *p, size_t pn, const struct subject *sub, bool fold_case)
{
	const char *s = sub->s;
	size_t sn = sub->len, pi = 0, si = 0, star = SIZE_MAX, mark = 0;
	while (si < sn) {
		unsigned char c = (unsigned char)s[si];
		if (fold_case)
			c = fold(c);
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || (unsigned char)p[pi] == c)) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool pat_match(const struct pat *p, const struct subject *sub, bool fold_case)
{
	switch (p->kind) {
	case PAT_ALL:
		return true;
	case PAT_EXACT:
		return sub->len == p->len && same(p->s, sub->s, p->len, fold_case);
	case PAT_PREFIX:
		return sub->len >= (size_t)p->len - 1 &&
		       same(p->s, sub->s, (size_t)p->len - 1, fold_case);
	default:
		return glob(p->s, p->len, sub, fold_case);
	}
}

static bool any_match(const struct pat *pats, size_t n, const struct subject *sub, bool fold_case)
{
	for (size_t i = 0; i < n; i++) {
		if (pat_match(&pats[i], sub, fold_case))
			return true;
	}
	return false;
}

static bool stmt_action(const struct stmt *st, const struct subject *action)
{
	bool hit = any_match(st->act, st->n_act, action, true);
	return (st->flags & ST_NOT_ACTION) ? !hit : hit;
}

static bool stmt_resource(const struct stmt *st, const struct subject *resource)
{
	bool hit = any_match(st->res, st->n_res, resource, false);
	return (st->flags & ST_NOT_RESOURCE) ? !hit : hit;
}

enum ts_policy_decision ts_admin_policy_evaluate(const ts_policy_set_t *p, const char *action,
                                                 const char *resource)
{
	if (p == NULL || action == NULL)
		return TS_POLICY_IMPLICIT_DENY;
	if (resource == NULL)
		resource = "*";
	struct subject act = {action, strlen(action)}, res = {resource, strlen(resource)};
	bool allowed = false;
	for (size_t i = 0; i < p->n_stmts; i++) {
		const struct stmt *st = &p->stmts[i];
		/* Once allowed, only a Deny can change the answer. */
		if (allowed && !(st->flags & ST_DENY))
			continue;
		if (!stmt_action(st, &act) || !stmt_resource(st, &res))
			continue;
		if (st->flags & ST_DENY)
			return TS_POLICY_EXPLICIT_DENY;
		allowed = true;
	}
	return allowed ? TS_POLICY_ALLOW : TS_POLICY_IMPLICIT_DENY;
}

bool ts_admin_policy_allows_some(const ts_policy_set_t *p, const char *action)
{
	if (p == NULL || action == NULL)
		return false;
	struct subject act = {action, strlen(action)};
	bool allowed = false;
	for (size_t i = 0; i < p->n_stmts; i++) {
		const struct stmt *st = &p->stmts[i];
		if (!stmt_action(st, &act))
			continue;
		bool not_res = (st->flags & ST_NOT_RESOURCE) != 0;
		bool all = (st->flags & ST_RESOURCE_ALL) != 0;
		if (st->flags & ST_DENY) {
			/* Only "Resource": "*" (or "**"...) denies every resource;
			 * a NotResource always leaves the excluded ones out. */
			if (!not_res && all)
				return false;
		} else if (!(not_res && all)) {
			/* Resource names at least one pattern, so something matches;
			 * NotResource leaves something unless it excludes everything. */
			allowed = true;
		}
	}
	return allowed;
}

void ts_admin_policy_free(ts_policy_set_t **p)
{
	if (p == NULL)
		return;
	TS_FREE(p);
}

/* ---- validation (pass 1) ---- */

static const char *const versions[] = {"2012-10-17", "2008-10-17"};

struct counts {
	size_t stmts, pats, bytes;
};

/* Paths of the member being checked, for messages: "Policies[1]" names a
 * document, "Policies[1].Statement[0]" a statement. */
#define DOC_PATH_MAX 32
#define PATH_MAX_LEN 64

static enum pat_kind classify(const char *s, size_t n)
{
	size_t stars = 0, quests = 0;
	for (size_t i = 0; i < n; i++) {
		stars += s[i] == '*';
		quests += s[i] == '?';
	}
	if (stars == n)
		return PAT_ALL;
	if (stars == 0 && quests == 0)
		return PAT_EXACT;
	if (stars == 1 && quests == 0 && s[n - 1] == '*')
		return PAT_PREFIX;
	return PAT_GLOB;
}

static bool vendor_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* IAM: an action is "*" or "<service>:<name>", the service without
 * wildcards, the name of letters, digits and wildcards. */
static ts_err check_action(const char *s, const char *path, const char *key, size_t i,
                           struct ts_error *e)
{
	if (strcmp(s, "*") == 0)
		return TS_ERR_OK;
	const char *colon = strchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s.%s[%zu] \"%s\" must be \"*\" or \"<service>:<action>\"", path,
		               key, i, s);
	for (const char *c = s; c < colon; c++) {
		if (!vendor_char((unsigned char)*c))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s.%s[%zu] \"%s\" has an invalid service prefix", path, key,
			               i, s);
	}
	for (const char *c = colon + 1; *c != '\0'; c++) {
		if (!vendor_char((unsigned char)*c) && *c != '*' && *c != '?')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s.%s[%zu] \"%s\" has an invalid character in its name",
			               path, key, i, s);
	}
	return TS_ERR_OK;
}

/* A resource is "*" (or only wildcards) or an ARN; no spaces or controls. */
static ts_err check_resource(const char *s, const char *path, const char *key, size_t i,
                             struct ts_error *e)
{
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c <= ' ' || *c == 0x7f)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s.%s[%zu] contains a space or control character", path,
			               key, i);
	}
	if (classify(s, strlen(s)) == PAT_ALL || strncmp(s, "arn:", 4) == 0)
		return TS_ERR_OK;
	return TS_FAIL(e, TS_ERR_BAD_REQUEST,
	               "%s.%s[%zu] \"%s\" must be \"*\" or an ARN (\"%s...\")", path, key, i, s,
	               TS_ADMIN_ARN_ACCOUNT_PREFIX);
}

static ts_err check_string(const json_t *v, const char *path, const char *key, size_t i,
                           bool is_array, struct ts_error *e)
{
	char where[PATH_MAX_LEN + 32];
	if (is_array)
		snprintf(where, sizeof where, "%s.%s[%zu]", path, key, i);
	else
		snprintf(where, sizeof where, "%s.%s", path, key);
	if (!json_is_string(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be a string", where);
	size_t n = json_string_length(v);
	if (n == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must not be empty", where);
	if (n > TS_ADMIN_POLICY_MAX_STRING)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is longer than %d bytes", where,
		               TS_ADMIN_POLICY_MAX_STRING);
	if (strlen(json_string_value(v)) != n)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s contains a NUL character", where);
	return TS_ERR_OK;
}

/* Action/NotAction or Resource/NotResource: a string or a non-empty array. */
static ts_err check_items(const json_t *v, const char *path, const char *key, bool is_action,
                          struct counts *c, struct ts_error *e)
{
	bool is_array = json_is_array(v);
	size_t n = is_array ? json_array_size(v) : 1;
	if (!is_array && !json_is_string(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s.%s must be a string or an array of strings", path, key);
	if (n == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.%s must not be an empty array", path,
		               key);
	if (n > TS_ADMIN_POLICY_MAX_ITEMS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.%s has more than %d items", path, key,
		               TS_ADMIN_POLICY_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		const json_t *item = is_array ? json_array_get(v, i) : v;
		ts_err rc = check_string(item, path, key, i, is_array, e);
		if (rc != TS_ERR_OK)
			return rc;
		const char *s = json_string_value(item);
		rc = is_action ? check_action(s, path, key, i, e)
		               : check_resource(s, path, key, i, e);
		if (rc != TS_ERR_OK)
			return rc;
		c->pats++;
		c->bytes += json_string_length(item) + 1;
	}
	return TS_ERR_OK;
}

/* Exactly one of key and not_key; returns the one present in *which. */
static ts_err pick(const json_t *st, const char *path, const char *key, const char *not_key,
                   const char **which, struct ts_error *e)
{
	const json_t *a = json_object_get(st, key), *b = json_object_get(st, not_key);
	if (a != NULL && b != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has both %s and %s", path, key, not_key);
	if (a == NULL && b == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is missing %s", path, key);
	*which = a != NULL ? key : not_key;
	return TS_ERR_OK;
}

static ts_err check_statement(const json_t *st, const char *path, struct counts *c,
                              struct ts_error *e)
{
	if (!json_is_object(st))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be an object", path);
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)st, key, v)
	{
		if (strcmp(key, "Sid") == 0 || strcmp(key, "Effect") == 0 ||
		    strcmp(key, "Action") == 0 || strcmp(key, "NotAction") == 0 ||
		    strcmp(key, "Resource") == 0 || strcmp(key, "NotResource") == 0)
			continue;
		/* Refused rather than ignored: a condition the engine skipped
		 * would widen what the author meant to allow. */
		if (strcmp(key, "Condition") == 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s.Condition is not supported in admin key policies", path);
		if (strcmp(key, "Principal") == 0 || strcmp(key, "NotPrincipal") == 0)
			return TS_FAIL(
			        e, TS_ERR_BAD_REQUEST,
			        "%s.%s is not allowed: an admin key policy applies to its key",
			        path, key);
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has an unknown member \"%.64s\"", path,
		               key);
	}
	ts_err rc = TS_ERR_OK;
	const json_t *sid = json_object_get(st, "Sid");
	if (sid != NULL) {
		rc = check_string(sid, path, "Sid", 0, false, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	const json_t *effect = json_object_get(st, "Effect");
	if (effect == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is missing Effect", path);
	if (!json_is_string(effect) || (strcmp(json_string_value(effect), "Allow") != 0 &&
	                                strcmp(json_string_value(effect), "Deny") != 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.Effect must be \"Allow\" or \"Deny\"",
		               path);
	const char *akey = NULL, *rkey = NULL;
	rc = pick(st, path, "Action", "NotAction", &akey, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = check_items(json_object_get(st, akey), path, akey, true, c, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = pick(st, path, "Resource", "NotResource", &rkey, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = check_items(json_object_get(st, rkey), path, rkey, false, c, e);
	if (rc != TS_ERR_OK)
		return rc;
	c->stmts++;
	return TS_ERR_OK;
}

static ts_err check_document(const json_t *doc, const char *path, struct counts *c,
                             struct ts_error *e)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)doc, key, v)
	{
		if (strcmp(key, "Version") != 0 && strcmp(key, "Statement") != 0 &&
		    strcmp(key, "Id") != 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has an unknown member \"%.64s\"",
			               path, key);
	}
	const json_t *id = json_object_get(doc, "Id");
	if (id != NULL) {
		ts_err rc = check_string(id, path, "Id", 0, false, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	const json_t *version = json_object_get(doc, "Version");
	if (version == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is missing Version (\"%s\")", path,
		               versions[0]);
	bool known = false;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		known |= json_is_string(version) &&
		         strcmp(json_string_value(version), versions[i]) == 0;
	if (!known)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.Version must be \"%s\" or \"%s\"", path,
		               versions[0], versions[1]);
	const json_t *stmts = json_object_get(doc, "Statement");
	if (stmts == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is missing Statement", path);
	char sub[PATH_MAX_LEN];
	if (json_is_object(stmts)) {
		/* IAM allows a single statement without the array. */
		snprintf(sub, sizeof sub, "%s.Statement", path);
		return check_statement(stmts, sub, c, e);
	}
	if (!json_is_array(stmts))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.Statement must be an array of statements",
		               path);
	size_t n = json_array_size(stmts);
	if (n == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.Statement must not be empty", path);
	if (n > TS_ADMIN_POLICY_MAX_STATEMENTS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s.Statement has more than %d statements",
		               path, TS_ADMIN_POLICY_MAX_STATEMENTS);
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof sub, "%s.Statement[%zu]", path, i);
		ts_err rc = check_statement(json_array_get(stmts, i), sub, c, e);
		if (rc != TS_ERR_OK)
			return rc;
		/* IAM: statement ids are unique within a policy. */
		const char *sid = ts_json_str(json_array_get(stmts, i), "Sid");
		for (size_t j = 0; sid != NULL && j < i; j++) {
			const char *other = ts_json_str(json_array_get(stmts, j), "Sid");
			if (other != NULL && strcmp(sid, other) == 0)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "%s.Sid \"%s\" is used by Statement[%zu] too", sub,
				               sid, j);
		}
	}
	return TS_ERR_OK;
}

/* ---- compilation (pass 2, on validated documents) ---- */

struct filler {
	struct stmt *st;
	struct pat *pat;
	char *str;
};

static const struct pat *fill_items(const json_t *v, bool is_action, uint16_t *count,
                                    uint32_t *flags, struct filler *f)
{
	const struct pat *first = f->pat;
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_is_array(v) ? json_array_get(v, i) : v;
		const char *s = json_string_value(item);
		size_t len = json_string_length(item);
		for (size_t k = 0; k < len; k++)
			f->str[k] = is_action ? (char)fold((unsigned char)s[k]) : s[k];
		f->str[len] = '\0';
		f->pat->s = f->str;
		f->pat->len = (uint16_t)len;
		f->pat->kind = (uint8_t)classify(s, len);
		if (!is_action && f->pat->kind == PAT_ALL)
			*flags |= ST_RESOURCE_ALL;
		f->str += len + 1;
		f->pat++;
	}
	*count = (uint16_t)n;
	return first;
}

static void fill_statement(const json_t *js, struct filler *f)
{
	struct stmt *st = f->st++;
	const json_t *v;
	st->flags = strcmp(ts_json_str(js, "Effect"), "Deny") == 0 ? ST_DENY : 0;
	if ((v = json_object_get(js, "Action")) == NULL) {
		v = json_object_get(js, "NotAction");
		st->flags |= ST_NOT_ACTION;
	}
	st->act = fill_items(v, true, &st->n_act, &st->flags, f);
	if ((v = json_object_get(js, "Resource")) == NULL) {
		v = json_object_get(js, "NotResource");
		st->flags |= ST_NOT_RESOURCE;
	}
	st->res = fill_items(v, false, &st->n_res, &st->flags, f);
}

static void fill_document(const json_t *doc, struct filler *f)
{
	const json_t *stmts = json_object_get(doc, "Statement");
	if (json_is_object(stmts)) {
		fill_statement(stmts, f);
		return;
	}
	for (size_t i = 0; i < json_array_size(stmts); i++)
		fill_statement(json_array_get(stmts, i), f);
}

/* ---- entry points ---- */

ts_err ts_admin_policy_parse(const json_t *policies, ts_policy_set_t **out, struct ts_error *e)
{
	ts_err rc = TS_ERR_OK;
	json_t *docs[TS_ADMIN_POLICY_MAX_POLICIES] = {NULL};
	size_t n_docs = 0;
	*out = NULL;

	const json_t *single = NULL;
	size_t n = 0;
	if (json_is_array(policies)) {
		n = json_array_size(policies);
	} else if (json_is_object(policies) || json_is_string(policies)) {
		single = policies;
		n = 1;
	} else {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "Policies must be an array of managed policy names and policy "
		             "documents");
		goto out;
	}
	if (n == 0) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "Policies must not be empty");
		goto out;
	}
	if (n > TS_ADMIN_POLICY_MAX_POLICIES) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "Policies has more than %d policies",
		             TS_ADMIN_POLICY_MAX_POLICIES);
		goto out;
	}

	struct counts c = {0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		const json_t *item = single != NULL ? single : json_array_get(policies, i);
		char path[DOC_PATH_MAX];
		if (single != NULL)
			snprintf(path, sizeof path, "Policy");
		else
			snprintf(path, sizeof path, "Policies[%zu]", i);
		if (json_is_string(item)) {
			const char *text = ts_admin_policy_managed(json_string_value(item));
			if (text == NULL) {
				rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
				             "%s \"%.64s\" is not a managed policy (FullAccess, "
				             "UserManagement, ReadOnly)",
				             path, json_string_value(item));
				goto out;
			}
			json_error_t jerr;
			docs[n_docs] = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
			if (docs[n_docs] == NULL) {
				rc = TS_FAIL(e, TS_ERR_INTERNAL, "managed policy %s: %s",
				             json_string_value(item), jerr.text);
				goto out;
			}
		} else if (json_is_object(item)) {
			docs[n_docs] = json_incref((json_t *)item);
		} else {
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
			             "%s must be a managed policy name or a policy document", path);
			goto out;
		}
		rc = check_document(docs[n_docs++], path, &c, e);
		if (rc != TS_ERR_OK)
			goto out;
	}

	/* One block: header, statements, patterns, strings. */
	size_t size = sizeof(struct ts_policy_set) + c.stmts * sizeof(struct stmt) +
	              c.pats * sizeof(struct pat) + c.bytes;
	ts_policy_set_t *set = ts_calloc(1, size);
	struct filler f;
	f.st = (struct stmt *)(set + 1);
	f.pat = (struct pat *)(f.st + c.stmts);
	f.str = (char *)(f.pat + c.pats);
	set->n_stmts = c.stmts;
	set->stmts = f.st;
	for (size_t i = 0; i < n_docs; i++)
		fill_document(docs[i], &f);
	*out = set;
out:
	for (size_t i = 0; i < n_docs; i++)
		json_decref(docs[i]);
	return rc;
}

ts_err ts_admin_policy_parse_text(const char *json_text, ts_policy_set_t **out, struct ts_error *e)
{
	*out = NULL;
	if (json_text == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "no policy given");
	json_t *j = NULL;
	/* The JSON layer's string cap counts escapes too, so it is looser
	 * than ours; check_string applies TS_ADMIN_POLICY_MAX_STRING exactly. */
	struct ts_json_limits lim = {.max_bytes = TS_ADMIN_POLICY_MAX_TEXT,
	                             .max_depth = 8,
	                             .max_string = 8 * TS_ADMIN_POLICY_MAX_STRING};
	ts_err rc = ts_json_parse(json_text, strlen(json_text), &lim, NULL, &j, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_policy_parse(j, out, e);
	json_decref(j);
	return rc;
}
