/*
 * The sign-in rules of docs/product.md §4 (rules 2 to 5) as one pure function: see
 * signin.h. Identities and group names come from outside (the IdP, SCIM
 * clients), so every value quoted into a reason is capped and cleaned to
 * printable UTF-8: reasons end up in audit events and JSON, where a cut
 * multi-byte sequence or a control character would break the document.
 */
#include "directory/signin.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"

/* Bytes of one outside value (address, user, group) quoted into a reason. */
#define VALUE_MAX 64
#define ELLIPSIS "..."
#define ELLIPSIS_LEN (sizeof(ELLIPSIS) - 1)

static const char *const rule_names[TS_SIGNIN__RULES] = {
        [TS_SIGNIN_IDENTITY_MATCH] = "IdentityMatch",
        [TS_SIGNIN_ACTIVE] = "Active",
        [TS_SIGNIN_VERIFIED_DOMAIN] = "VerifiedDomain",
        [TS_SIGNIN_LICENSED_GROUP] = "LicensedGroup",
};

const char *ts_directory_signin_rule_name(enum ts_signin_rule r)
{
	return ((unsigned)r < TS_SIGNIN__RULES) ? rule_names[r] : NULL;
}

const char *ts_directory_license_name(enum ts_license l)
{
	switch (l) {
	case TS_LICENSE_PRO:
		return "Pro";
	case TS_LICENSE_BASIC:
		return "Basic";
	case TS_LICENSE_NONE:
		break;
	}
	return NULL;
}

/* ---- reasons ---------------------------------------------------------------------------- */

/*
 * A reason under construction. Text is appended one whole UTF-8 sequence at
 * a time and room for ELLIPSIS is always kept, so a reason cut short ends in
 * "..." and never in half a character.
 */
struct reason {
	char *buf;
	size_t len;
	bool full;
};

/* Appends n bytes (whole sequences) or, when they do not fit, the ellipsis. */
static bool put(struct reason *r, const char *s, size_t n)
{
	if (r->full)
		return false;
	if (r->len + n > TS_SIGNIN_REASON_MAX - 1 - ELLIPSIS_LEN) {
		memcpy(r->buf + r->len, ELLIPSIS, ELLIPSIS_LEN);
		r->len += ELLIPSIS_LEN;
		r->buf[r->len] = '\0';
		r->full = true;
		return false;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return true;
}

/* Appends trusted ASCII text. */
static void put_text(struct reason *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!put(r, s + i, 1))
			return;
	}
}

/* Appends an outside value in double quotes: at most VALUE_MAX bytes, controls and
 * malformed bytes shown as '?', NULL shown as (none). */
static void put_value(struct reason *r, const char *v)
{
	if (v == NULL) {
		put_text(r, "(none)", 6);
		return;
	}
	const unsigned char *s = (const unsigned char *)v;
	size_t used = 0;
	put(r, "\"", 1);
	while (*s != '\0') {
		size_t n = ts_utf8_next(s, 4, NULL);
		if (used + (n ? n : 1) > VALUE_MAX) {
			put_text(r, ELLIPSIS, ELLIPSIS_LEN);
			break;
		}
		if (n == 0 || *s < 0x20 || *s == 0x7F || *s == '"' || *s == '\\' ||
		    (n == 2 && s[0] == 0xC2 && s[1] < 0xA0)) {
			/* malformed, C0/C1 controls, and quotes that would make the value ambiguous
			 */
			if (!put(r, "?", 1))
				return;
			s += n ? n : 1;
			used += n ? n : 1;
			continue;
		}
		if (!put(r, (const char *)s, n))
			return;
		s += n;
		used += n;
	}
	put(r, "\"", 1);
}

/*
 * Formats a reason into out. Directives: %s trusted ASCII text, %v an outside
 * value (quoted and cleaned, see put_value), %z a size_t.
 */
static void say(char out[TS_SIGNIN_REASON_MAX], const char *fmt, ...)
{
	struct reason r = {.buf = out, .len = 0, .full = false};
	va_list ap;
	out[0] = '\0';
	va_start(ap, fmt);
	for (const char *p = fmt; *p != '\0' && !r.full; p++) {
		if (*p != '%' || p[1] == '\0') {
			put_text(&r, p, 1);
			continue;
		}
		p++;
		if (*p == 's') {
			const char *s = va_arg(ap, const char *);
			put_text(&r, s, strlen(s));
		} else if (*p == 'v') {
			put_value(&r, va_arg(ap, const char *));
		} else if (*p == 'z') {
			char num[24];
			int n = snprintf(num, sizeof num, "%zu", va_arg(ap, size_t));
			put_text(&r, num, (size_t)n);
		} else {
			put_text(&r, p, 1);
		}
	}
	va_end(ap);
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* ASCII-only case folding: locale-independent, and what "case-insensitive" means for the
 * domain part of an address (RFC 5321 §2.4) and for the account setting. */
static int fold(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool eq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (fold((unsigned char)*a) != fold((unsigned char)*b))
			return false;
	}
	return *a == *b;
}

static bool eq(const char *a, const char *b, bool nocase)
{
	if (a == NULL || b == NULL)
		return false;
	return nocase ? eq_nocase(a, b) : strcmp(a, b) == 0;
}

/* Which field of a user the identity matched. */
enum match_kind { MATCH_NONE, MATCH_USER_NAME, MATCH_EMAIL };

struct match {
	enum match_kind kind;
	size_t email; /* index into emails when kind is MATCH_EMAIL */
};

static struct match match_user(const struct ts_signin_user *u, const char *id, bool nocase)
{
	struct match m = {MATCH_NONE, 0};
	if (eq(u->user_name, id, nocase)) {
		m.kind = MATCH_USER_NAME;
		return m;
	}
	for (size_t i = 0; i < u->n_emails; i++) {
		if (u->emails != NULL && eq(u->emails[i], id, nocase)) {
			m.kind = MATCH_EMAIL;
			m.email = i;
			return m;
		}
	}
	return m;
}

/* The same user listed twice (same user_id) is one user, not an ambiguity. */
static bool same_user(const struct ts_signin_user *a, const struct ts_signin_user *b)
{
	return a == b ||
	       (a->user_id != NULL && b->user_id != NULL && !strcmp(a->user_id, b->user_id));
}

/* How a user is named in reasons: userName, else user ID. */
static const char *who(const struct ts_signin_user *u)
{
	return u->user_name != NULL ? u->user_name : u->user_id;
}

static void set_rule(struct ts_signin_result *out, enum ts_signin_rule r, bool passed)
{
	out->rules[r].evaluated = true;
	out->rules[r].passed = passed;
}

/* ---- rule 2: IdentityMatch --------------------------------------------------------------- */

/* Returns the index of the one matching candidate, or SIZE_MAX (rule failed). */
static size_t rule_identity(const struct ts_signin_input *in, struct ts_signin_result *out,
                            struct match *m)
{
	char *reason = out->rules[TS_SIGNIN_IDENTITY_MATCH].reason;
	const char *id = in->asserted;
	size_t found = SIZE_MAX, second = SIZE_MAX, n_users = 0;

	if (id == NULL || id[0] == '\0') {
		set_rule(out, TS_SIGNIN_IDENTITY_MATCH, false);
		say(reason, "no identity was asserted (empty NameID, claim or address)");
		return SIZE_MAX;
	}
	for (size_t i = 0; i < in->n_candidates; i++) {
		const struct ts_signin_user *u = &in->candidates[i];
		struct match mi = match_user(u, id, in->case_insensitive);
		if (mi.kind == MATCH_NONE)
			continue;
		/* count users, not entries: a user listed twice (same user_id) is still one */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++) {
			dup = same_user(&in->candidates[j], u) &&
			      match_user(&in->candidates[j], id, in->case_insensitive).kind !=
			              MATCH_NONE;
		}
		if (dup)
			continue;
		n_users++;
		if (found == SIZE_MAX) {
			found = i;
			*m = mi;
		} else if (second == SIZE_MAX) {
			second = i;
		}
	}

	if (n_users == 1) {
		const struct ts_signin_user *u = &in->candidates[found];
		set_rule(out, TS_SIGNIN_IDENTITY_MATCH, true);
		if (m->kind == MATCH_USER_NAME)
			say(reason, "%v matches the userName of user %v", id, who(u));
		else if (m->email == 0)
			say(reason, "%v matches the primary email of user %v", id, who(u));
		else
			say(reason, "%v matches email %z of user %v", id, m->email + 1, who(u));
		return found;
	}

	set_rule(out, TS_SIGNIN_IDENTITY_MATCH, false);
	if (n_users > 1) {
		say(reason,
		    "%v is ambiguous: it matches %z users (%v, %v%s); a userName or email must "
		    "belong to one user",
		    id, n_users, who(&in->candidates[found]), who(&in->candidates[second]),
		    n_users > 2 ? ", ..." : "");
		return SIZE_MAX;
	}
	if (!in->case_insensitive) {
		/* the most common support case: the IdP sends a different case than SCIM pushed */
		for (size_t i = 0; i < in->n_candidates; i++) {
			if (match_user(&in->candidates[i], id, true).kind != MATCH_NONE) {
				say(reason,
				    "no provisioned user has the userName or email %v with this "
				    "case; "
				    "user %v matches it ignoring case (the account requires an "
				    "exact match)",
				    id, who(&in->candidates[i]));
				return SIZE_MAX;
			}
		}
	}
	say(reason, "no provisioned user has the userName or email %v", id);
	return SIZE_MAX;
}

/* ---- rule 3: Active ---------------------------------------------------------------------- */

static void rule_active(const struct ts_signin_user *u, struct ts_signin_result *out)
{
	char *reason = out->rules[TS_SIGNIN_ACTIVE].reason;
	const char *st = u->registration_status;
	bool st_suspended = st != NULL && !strcmp(st, TS_SIGNIN_STATUS_SUSPENDED);
	bool st_released = st != NULL && !strcmp(st, TS_SIGNIN_STATUS_RELEASED);
	bool suspended = u->suspended || st_suspended;

	if (u->active && !suspended && !st_released) {
		set_rule(out, TS_SIGNIN_ACTIVE, true);
		say(reason, "user %v is active", who(u));
		return;
	}
	set_rule(out, TS_SIGNIN_ACTIVE, false);
	if (suspended && !u->active)
		say(reason,
		    "user %v is suspended by an administrator and deactivated by the directory "
		    "(SCIM active=false)",
		    who(u));
	else if (suspended)
		say(reason, "user %v is suspended by an administrator", who(u));
	else if (!u->active)
		say(reason, "user %v is deactivated by the directory (SCIM active=false)", who(u));
	else
		say(reason, "user %v was released from the account (registration status %v)",
		    who(u), st);
}

/* ---- rule 4: VerifiedDomain -------------------------------------------------------------- */

/* True when domain is a proper subdomain of parent ("a.example.com" of "example.com"). */
static bool is_subdomain(const char *domain, const char *parent)
{
	size_t dl = strlen(domain), pl = strlen(parent);
	return pl > 0 && dl > pl + 1 && domain[dl - pl - 1] == '.' &&
	       eq_nocase(domain + dl - pl, parent);
}

static void rule_domain(const struct ts_signin_input *in, const struct ts_signin_user *u,
                        struct match m, struct ts_signin_result *out)
{
	char *reason = out->rules[TS_SIGNIN_VERIFIED_DOMAIN].reason;
	const char *addr = in->asserted;
	const char *how = "";

	/* docs/product.md §4 rule 4: the address used. A userName that is not an address stands for
	 * the user's primary email (the Chime guide's shirley.rodriguez example). */
	if (m.kind == MATCH_USER_NAME && strchr(u->user_name, '@') == NULL) {
		addr = (u->n_emails > 0 && u->emails != NULL) ? u->emails[0] : NULL;
		how = " (primary email; the identity matched the userName)";
		if (addr == NULL) {
			set_rule(out, TS_SIGNIN_VERIFIED_DOMAIN, false);
			say(reason,
			    "user %v signed in by userName and has no primary email, so no domain "
			    "can "
			    "be checked",
			    who(u));
			return;
		}
	}
	const char *at = strrchr(addr, '@');
	const char *domain = at != NULL ? at + 1 : NULL;
	if (domain == NULL || domain[0] == '\0' || at == addr) {
		set_rule(out, TS_SIGNIN_VERIFIED_DOMAIN, false);
		say(reason, "address %v%s is not of the form local@domain", addr, how);
		return;
	}
	if (in->n_verified_domains == 0) {
		set_rule(out, TS_SIGNIN_VERIFIED_DOMAIN, false);
		say(reason, "the account has no verified domain; address %v%s is on %v", addr, how,
		    domain);
		return;
	}
	for (size_t i = 0; i < in->n_verified_domains; i++) {
		const char *v = in->verified_domains[i];
		/* exact domain only: verifying example.com says nothing about who runs
		 * mail.example.com's users */
		if (v != NULL && eq_nocase(domain, v)) {
			set_rule(out, TS_SIGNIN_VERIFIED_DOMAIN, true);
			say(reason, "address %v%s is on the verified domain %v", addr, how, v);
			return;
		}
	}
	set_rule(out, TS_SIGNIN_VERIFIED_DOMAIN, false);
	for (size_t i = 0; i < in->n_verified_domains; i++) {
		const char *v = in->verified_domains[i];
		if (v != NULL && is_subdomain(domain, v)) {
			say(reason,
			    "domain %v of address %v%s is not verified; %v is, but subdomains are "
			    "not covered",
			    domain, addr, how, v);
			return;
		}
	}
	say(reason, "domain %v of address %v%s is not one of the account's verified domains",
	    domain, addr, how);
}

/* ---- rule 5: LicensedGroup --------------------------------------------------------------- */

/* Returns the tier the groups give (TS_LICENSE_NONE: rule failed). */
static enum ts_license rule_groups(const struct ts_signin_input *in, size_t idx,
                                   struct ts_signin_result *out)
{
	char *reason = out->rules[TS_SIGNIN_LICENSED_GROUP].reason;
	const struct ts_signin_user *u = &in->candidates[idx];
	const struct ts_signin_group *pro = NULL, *basic = NULL, *unmapped = NULL;
	size_t n_pro = 0, n_basic = 0, n_unmapped = 0;
	const struct ts_signin_groups *g = in->groups != NULL ? &in->groups[idx] : NULL;

	for (size_t i = 0; g != NULL && g->items != NULL && i < g->n; i++) {
		const struct ts_signin_group *x = &g->items[i];
		if (x->license == TS_LICENSE_PRO) {
			pro = pro != NULL ? pro : x;
			n_pro++;
		} else if (x->license == TS_LICENSE_BASIC) {
			basic = basic != NULL ? basic : x;
			n_basic++;
		} else {
			/* TS_LICENSE_NONE, or a value outside the enum: not mapped */
			unmapped = unmapped != NULL ? unmapped : x;
			n_unmapped++;
		}
	}
	if (pro != NULL) {
		set_rule(out, TS_SIGNIN_LICENSED_GROUP, true);
		say(reason, "Pro through directory group %v%s", pro->name,
		    n_pro + n_basic > 1 ? " (Pro wins over the user's other mapped groups)" : "");
		return TS_LICENSE_PRO;
	}
	if (basic != NULL) {
		set_rule(out, TS_SIGNIN_LICENSED_GROUP, true);
		say(reason, "Basic through directory group %v%s", basic->name,
		    n_basic > 1 ? " (and other Basic groups)" : "");
		return TS_LICENSE_BASIC;
	}
	set_rule(out, TS_SIGNIN_LICENSED_GROUP, false);
	if (n_unmapped == 0)
		say(reason,
		    "Users without Pro or Basic permissions can't sign in: user %v is in no "
		    "directory group",
		    who(u));
	else
		say(reason,
		    "Users without Pro or Basic permissions can't sign in: none of the %z "
		    "directory groups of user %v (%v%s) is mapped to Pro or Basic",
		    n_unmapped, who(u), unmapped->name, n_unmapped > 1 ? ", ..." : "");
	return TS_LICENSE_NONE;
}

/* ---- the verdict ------------------------------------------------------------------------- */

void ts_directory_signin_evaluate(const struct ts_signin_input *in, struct ts_signin_result *out)
{
	assert(in != NULL && out != NULL);
	assert(in->n_candidates == 0 || in->candidates != NULL);
	assert(in->n_verified_domains == 0 || in->verified_domains != NULL);

	memset(out, 0, sizeof *out);
	for (int r = 0; r < TS_SIGNIN__RULES; r++) {
		out->rules[r].rule = (enum ts_signin_rule)r;
		out->rules[r].name = rule_names[r];
	}

	struct match m = {MATCH_NONE, 0};
	enum ts_license tier = TS_LICENSE_NONE;
	size_t idx = rule_identity(in, out, &m);
	if (idx == SIZE_MAX) {
		for (int r = TS_SIGNIN_ACTIVE; r < TS_SIGNIN__RULES; r++)
			say(out->rules[r].reason,
			    "not evaluated: no single user matched the asserted identity");
	} else {
		out->user = &in->candidates[idx];
		rule_active(out->user, out);
		rule_domain(in, out->user, m, out);
		tier = rule_groups(in, idx, out);
	}

	out->first_failure = TS_SIGNIN__RULES;
	for (int r = 0; r < TS_SIGNIN__RULES; r++) {
		if (!out->rules[r].passed) {
			out->first_failure = (enum ts_signin_rule)r;
			break;
		}
	}
	out->allowed = out->first_failure == TS_SIGNIN__RULES;
	out->license = out->allowed ? tier : TS_LICENSE_NONE;
}
