/*
 * Users: the licence they hold, their view for administrators, personal
 * PINs, invitations into Team accounts and suspension in Enterprise
 * accounts (the Amazon Chime administration guide: "Manage Users", "View User Details").
 */
#include "directory/user.h"

#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "directory/domain.h"
#include "directory/session.h"

enum ts_license ts_directory_license_parse(const char *name)
{
	if (name != NULL && strcmp(name, "Pro") == 0)
		return TS_LICENSE_PRO;
	if (name != NULL && strcmp(name, "Basic") == 0)
		return TS_LICENSE_BASIC;
	return TS_LICENSE_NONE;
}

enum ts_license ts_directory_license_of_groups(const struct ts_dir_user_group *groups, int n)
{
	enum ts_license best = TS_LICENSE_NONE;
	for (int i = 0; i < n; i++) {
		/* the Chime guide: "Users in both groups receive a Pro license." */
		enum ts_license l = ts_directory_license_parse(groups[i].license);
		if (l == TS_LICENSE_PRO)
			return TS_LICENSE_PRO;
		if (l == TS_LICENSE_BASIC)
			best = TS_LICENSE_BASIC;
	}
	return best;
}

ts_err ts_directory_account_managed(ts_store_conn_t *c, const char *account_id, bool *managed,
                                    struct ts_error *e)
{
	/* a SCIM API key or a SAML identity source makes the IdP the source of the directory */
	int64_t keys = 0, saml = 0;
	ts_err rc = ts_store_dir_api_key_count(c, account_id, &keys, e);
	if (rc == TS_ERR_OK && keys == 0)
		rc = ts_store_saml_config_version(c, account_id, &saml, e);
	*managed = rc == TS_ERR_OK && ts_directory_managed_by(keys, saml);
	return rc;
}

bool ts_directory_managed_by(int64_t api_keys, int64_t saml_sources)
{
	return api_keys > 0 || saml_sources > 0;
}

ts_err ts_directory_user_license(ts_store_conn_t *c, ts_arena_t *a, const struct ts_user_row *u,
                                 bool managed, enum ts_license *out, struct ts_error *e)
{
	*out = TS_LICENSE_NONE;
	if (!managed) {
		*out = u->license != NULL ? ts_directory_license_parse(u->license) : TS_LICENSE_PRO;
		return TS_ERR_OK;
	}
	struct ts_dir_user_group *groups = NULL;
	int n = 0;
	ts_err rc = ts_store_dir_user_groups(c, a, u->user_id, &groups, &n, e);
	if (rc == TS_ERR_OK)
		*out = ts_directory_license_of_groups(groups, n);
	return rc;
}

ts_err ts_directory_user_view(ts_store_conn_t *c, ts_arena_t *a, const struct ts_account *acct,
                              const struct ts_user_row *u, bool managed, struct ts_user_view *out,
                              struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	struct ts_user_email *emails = NULL;
	struct ts_dir_user_group *groups = NULL;
	int ne = 0, ng = 0;
	int64_t live = 0;
	ts_err rc = ts_store_dir_user_emails(c, a, u->user_id, &emails, &ne, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_groups(c, a, u->user_id, &groups, &ng, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_session_live_count(c, u->user_id, ts_now_ms(), &live, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the primary address: the one marked primary (listed first), else the first */
	const char *primary = ne > 0 ? emails[0].value : NULL;
	if (primary == NULL && strchr(u->user_name, '@') != NULL)
		primary = u->user_name;
	const char **proxies = ts_arena_alloc(a, sizeof *proxies * (size_t)(ne > 0 ? ne : 1));
	for (int i = 1; i < ne; i++)
		proxies[i - 1] = emails[i].value;
	bool team = strcmp(acct->account_type, "Team") == 0;
	*out = (struct ts_user_view){
	        .user = u,
	        .primary_email = primary,
	        .proxy_emails = proxies,
	        .n_proxy_emails = ne > 1 ? (size_t)(ne - 1) : 0,
	        .groups = groups,
	        .n_groups = (size_t)ng,
	        .license = managed ? ts_directory_license_of_groups(groups, ng)
	                           : (u->license ? ts_directory_license_parse(u->license)
	                                         : TS_LICENSE_PRO),
	        .from_groups = managed,
	        .registration_status =
	                u->registration_status ? u->registration_status : TS_USER_REGISTERED,
	        .invitation = team && u->invited_ms != 0
	                              ? (u->joined_ms != 0 ? TS_USER_INVITE_ACCEPTED
	                                                   : TS_USER_INVITE_PENDING)
	                              : NULL,
	        .live_sessions = live,
	};
	return TS_ERR_OK;
}

void ts_directory_pin_random(char out[TS_USER_PIN_DIGITS + 1])
{
	for (int i = 0; i < TS_USER_PIN_DIGITS; i++) {
		/* rejection sampling: 250 is the largest multiple of 10 below 256 */
		unsigned char b = 0;
		do
			ts_random_bytes(&b, 1);
		while (b >= 250);
		out[i] = (char)('0' + b % 10);
	}
	out[TS_USER_PIN_DIGITS] = '\0';
}

ts_err ts_directory_pin_new(ts_store_conn_t *c, char out[TS_USER_PIN_DIGITS + 1],
                            struct ts_error *e)
{
	/*
	 * Drawn until free. Checking first rather than catching the unique index: on
	 * PostgreSQL a failed INSERT aborts the whole transaction. Two calls drawing the
	 * same PIN at the same instant (1 in 10^10) still meet the index: CONFLICT.
	 */
	for (int i = 0; i < TS_USER_PIN_TRIES; i++) {
		ts_directory_pin_random(out);
		bool taken = true;
		ts_err rc = ts_store_dir_pin_taken(c, out, &taken, e);
		if (rc != TS_ERR_OK)
			return rc;
		if (!taken)
			return TS_ERR_OK;
	}
	return TS_FAIL(e, TS_ERR_CONFLICT, "no free personal PIN found");
}

ts_err ts_directory_user_register(ts_store_conn_t *c, ts_arena_t *a, const char *user_id,
                                  int64_t now_ms, bool *registered, struct ts_error *e)
{
	*registered = false;
	char pin[TS_USER_PIN_DIGITS + 1];
	/* drawn every time: the UPDATE keeps a PIN the user holds (an invitation gave one) */
	ts_err rc = ts_directory_pin_new(c, pin, e);
	int64_t changed = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_register(c, user_id, pin, now_ms, &changed, e);
	/* as ResetPersonalPin: the transaction is lost on PostgreSQL, so it runs again */
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_RETRY, "the new PIN was taken meanwhile: %s", e->message);
	*registered = rc == TS_ERR_OK && changed > 0;
	return rc;
}

char *ts_directory_key(ts_arena_t *a, const char *s)
{
	char *k = ts_arena_strdup(a, s);
	for (char *p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return k;
}

ts_err ts_directory_email_check(const char *address, const char **domain, struct ts_error *e)
{
	*domain = NULL;
	if (address == NULL || address[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "an email address is empty");
	size_t len = strlen(address);
	const char *at = strrchr(address, '@');
	if (len > TS_USER_EMAIL_MAX || at == NULL || at == address ||
	    (size_t)(at - address) > TS_USER_LOCAL_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%.100s is not a valid email address",
		               address);
	for (const char *p = address; p < at; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>()[]\\,;:@", ch) != NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%.100s is not a valid email address",
			               address);
	}
	char norm[TS_DOMAIN_NAME_MAX + 1];
	struct ts_error why = {0};
	if (ts_directory_domain_check(at + 1, norm, &why) != TS_ERR_OK || at[1] == '\0' ||
	    at[strlen(at) - 1] == '.')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%.100s is not a valid email address: %s",
		               address, why.message);
	*domain = at + 1;
	return TS_ERR_OK;
}

ts_err ts_directory_users_invite(ts_store_conn_t *c, ts_arena_t *a, const struct ts_account *acct,
                                 const char *const *addresses, int n,
                                 struct ts_user_invite **invites, struct ts_error *e)
{
	*invites = NULL;
	if (strcmp(acct->account_type, "Team") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "InviteUsers is for Team accounts; users of an Enterprise account "
		               "join through its claimed domains and identity provider");
	if (n < 1 || n > TS_USER_INVITE_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "UserEmailList must hold 1 to %d addresses",
		               TS_USER_INVITE_MAX);
	int64_t now = ts_now_ms();
	struct ts_user_invite *made = ts_arena_alloc(a, sizeof *made * (size_t)n);
	for (int i = 0; i < n; i++) {
		const char *domain = NULL;
		ts_err rc = ts_directory_email_check(addresses[i], &domain, e);
		if (rc != TS_ERR_OK)
			return rc;
		const char *key = ts_directory_key(a, addresses[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(ts_directory_key(a, addresses[j]), key) == 0)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "%.100s is listed twice in UserEmailList",
				               addresses[i]);
		const char *owner = NULL;
		rc = ts_store_domain_verified_owner(c, a, ts_directory_key(a, domain), &owner, e);
		if (rc != TS_ERR_OK)
			return rc;
		/* docs/product.md §1: a verified domain belongs to one account, so do its people */
		if (owner != NULL && strcmp(owner, acct->account_id) != 0)
			return TS_FAIL(e, TS_ERR_CONFLICT,
			               "%.100s is on domain %.100s, which another account has "
			               "verified",
			               addresses[i], domain);
		bool taken = false;
		rc = ts_store_dir_address_taken(c, acct->account_id, key, &taken, e);
		if (rc != TS_ERR_OK)
			return rc;
		if (taken)
			return TS_FAIL(e, TS_ERR_CONFLICT,
			               "%.100s is already a user of the account", addresses[i]);
		char pin[TS_USER_PIN_DIGITS + 1];
		rc = ts_directory_pin_new(c, pin, e);
		if (rc != TS_ERR_OK)
			return rc;
		char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
		ts_uuid_v7(id);
		struct ts_user_row u = {
		        .user_id = id,
		        .account_id = acct->account_id,
		        .user_name = addresses[i],
		        .registration_status = TS_USER_UNREGISTERED,
		        .license = TS_USER_DEFAULT_LICENSE,
		        .personal_pin = ts_arena_strdup(a, pin),
		        .invited_ms = now,
		        .created_ms = now,
		};
		rc = ts_store_dir_user_insert(c, &u, addresses[i], e);
		if (rc != TS_ERR_OK)
			return rc;
		made[i] = (struct ts_user_invite){.user_id = id, .email = addresses[i]};
	}
	*invites = made;
	return TS_ERR_OK;
}

ts_err ts_directory_user_suspend(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                 const char *user_id, bool suspend, struct ts_error *e)
{
	struct ts_user_row u;
	/* decided on the state read: locked until the change commits (docs/store.md) */
	ts_err rc = ts_store_user_get_for_update(c, a, account_id, user_id, &u, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (u.registration_status != NULL && strcmp(u.registration_status, TS_USER_RELEASED) == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "user %.64s was released with their domain and cannot be %s",
		               user_id, suspend ? "suspended" : "activated");
	int64_t now = ts_now_ms();
	/* activated, a user is what their sign-ins made them: registered only once signed in */
	if (!suspend)
		return ts_store_dir_user_set_state(
		        c, user_id, false,
		        u.joined_ms != 0 ? TS_USER_REGISTERED : TS_USER_UNREGISTERED, now, e);
	rc = ts_store_dir_user_set_state(c, user_id, true, TS_USER_SUSPENDED, now, e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_session_revoke_all(c, user_id, NULL, e);
	return rc;
}
