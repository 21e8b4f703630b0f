/*
 * Claimed domains: name rules, the TXT challenge, the verdict of a check,
 * and what removing a domain does to its people (docs/product.md §4).
 */
#include "directory/domain.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "directory/user.h"

static bool is_ldh(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

ts_err ts_directory_domain_check(const char *name, char out[TS_DOMAIN_NAME_MAX + 1],
                                 struct ts_error *e)
{
	out[0] = '\0';
	if (name == NULL || name[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DomainName is required");
	size_t len = strlen(name);
	if (name[len - 1] == '.')
		len--; /* the root: "example.com." is "example.com" */
	if (len == 0 || len > TS_DOMAIN_NAME_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a domain name has 1 to %d characters",
		               TS_DOMAIN_NAME_MAX);
	size_t label = 0, labels = 1, last_start = 0;
	bool last_all_digits = true;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[i] = ch;
		if (ch == '.') {
			/* RFC 1123 §2.1: labels of letters, digits, hyphens; no hyphen at an end */
			if (label == 0 || out[i - 1] == '-')
				return TS_FAIL(
				        e, TS_ERR_BAD_REQUEST,
				        "domain name %.100s has an empty label or one ending "
				        "in '-'",
				        name);
			label = 0;
			labels++;
			last_start = i + 1;
			last_all_digits = true;
			continue;
		}
		if (!is_ldh(ch))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "domain name %.100s may hold only letters, digits, '-' and "
			               "'.'",
			               name);
		if (label == 0 && ch == '-')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "a label of domain name %.100s starts with '-'", name);
		if (++label > TS_DOMAIN_LABEL_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "a label of domain name %.100s is longer than %d", name,
			               TS_DOMAIN_LABEL_MAX);
		if (ch < '0' || ch > '9')
			last_all_digits = false;
	}
	out[len] = '\0';
	if (label == 0 || out[len - 1] == '-')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "domain name %.100s has an empty label or one ending in '-'", name);
	if (labels < 2)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%.100s is not a domain an account can claim (one label only)",
		               name);
	/* an address literal such as 192.0.2.1 is not a domain */
	if (last_all_digits)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%.100s is not a domain name (the last label is all digits)", name);
	(void)last_start;
	return TS_ERR_OK;
}

int64_t ts_directory_domain_backoff_ms(int64_t attempts)
{
	int64_t d = TS_DOMAIN_BACKOFF_FIRST_MS;
	for (int64_t i = 1; i < attempts && d < TS_DOMAIN_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < TS_DOMAIN_BACKOFF_MAX_MS ? d : TS_DOMAIN_BACKOFF_MAX_MS;
}

void ts_directory_domain_judge(struct ts_domain *d, ts_arena_t *a, enum ts_domain_lookup lookup,
                               const char *const *records, size_t n_records, int64_t now_ms)
{
	d->attempts++;
	if (lookup == TS_DOMAIN_LOOKUP_FOUND) {
		for (size_t i = 0; i < n_records; i++) {
			/* the whole record, exactly: a prefix or a longer value proves nothing */
			if (records[i] != NULL && strcmp(records[i], d->token) == 0) {
				d->status = TS_DOMAIN_VERIFIED;
				d->verified_ms = now_ms;
				d->last_error = NULL;
				d->next_check_ms = now_ms;
				return;
			}
		}
	}
	const char *why = lookup == TS_DOMAIN_LOOKUP_DNS_DOWN ? "no DNS server answered"
	                  : lookup == TS_DOMAIN_LOOKUP_ABSENT
	                          ? "no TXT record at the challenge name"
	                          : "no TXT record at the challenge name holds the value";
	d->last_error = ts_arena_strdup(a, why);
	if (now_ms - d->created_ms >= TS_DOMAIN_VERIFY_WINDOW_MS) {
		d->status = TS_DOMAIN_FAILED;
		d->next_check_ms = now_ms;
		return;
	}
	d->status = TS_DOMAIN_PENDING;
	d->next_check_ms = now_ms + ts_directory_domain_backoff_ms(d->attempts);
}

ts_err ts_directory_domain_add(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                               const char *name, struct ts_domain *out, struct ts_error *e)
{
	char norm[TS_DOMAIN_NAME_MAX + 1];
	struct ts_account acct;
	ts_err rc = ts_directory_domain_check(name, norm, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *owner = NULL;
	rc = ts_store_domain_verified_owner(c, a, norm, &owner, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* docs/product.md §1: a verified domain belongs to one account only */
	if (owner != NULL && strcmp(owner, account_id) != 0)
		return TS_FAIL(e, TS_ERR_CONFLICT,
		               "Request could not be completed due to a conflict: domain %s is "
		               "verified by another account",
		               norm);
	char token[TS_DOMAIN_TOKEN_CHARS + 1];
	ts_random_token(token, TS_DOMAIN_TOKEN_CHARS);
	int64_t now = ts_now_ms();
	*out = (struct ts_domain){
	        .account_id = acct.account_id,
	        .domain_name = ts_arena_strdup(a, norm),
	        .status = TS_DOMAIN_PENDING,
	        .token = ts_arena_printf(a, "%s%s", TS_DOMAIN_TOKEN_PREFIX, token),
	        .created_ms = now,
	        .next_check_ms = now,
	};
	rc = ts_store_domain_insert(c, out, e);
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_CONFLICT,
		             "Request could not be completed due to a conflict: the account "
		             "already has domain %s",
		             norm);
	return rc;
}

ts_err ts_directory_domain_recheck(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   const char *name, struct ts_domain *out, struct ts_error *e)
{
	char norm[TS_DOMAIN_NAME_MAX + 1];
	ts_err rc = ts_directory_domain_check(name, norm, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_get_for_update(c, a, account_id, norm, out, e);
	if (rc != TS_ERR_OK || strcmp(out->status, TS_DOMAIN_VERIFIED) == 0)
		return rc;
	out->status = TS_DOMAIN_PENDING;
	out->next_check_ms = ts_now_ms();
	return ts_store_domain_update(c, out, e);
}

ts_err ts_directory_domain_on_verified(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                       struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc != TS_ERR_OK || strcmp(acct.account_type, "Enterprise") == 0)
		return rc;
	/* a Team account becomes Enterprise as soon as a domain is verified (docs/product.md §4) */
	acct.account_type = "Enterprise";
	return ts_store_account_update(c, &acct, e);
}

ts_err ts_directory_domain_remove(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const char *name, struct ts_domain_removal *out,
                                  struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	char norm[TS_DOMAIN_NAME_MAX + 1];
	struct ts_domain d;
	ts_err rc = ts_directory_domain_check(name, norm, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_get_for_update(c, a, account_id, norm, &d, e);
	if (rc != TS_ERR_OK)
		return rc;
	bool managed = false;
	const char **ids = NULL;
	bool *suspended = NULL;
	int n = 0;
	rc = ts_directory_account_managed(c, account_id, &managed, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_users_on_domain(c, a, account_id, norm, &ids, &suspended, &n, e);
	int64_t now = ts_now_ms();
	for (int i = 0; rc == TS_ERR_OK && i < n; i++) {
		/* the Chime guide: "immediately signed out of all devices" */
		int64_t revoked = 0;
		rc = ts_directory_session_revoke_all(c, ids[i], &revoked, e);
		if (rc != TS_ERR_OK)
			break;
		out->signed_out++;
		if (managed) {
			/* Chime guide, OIDC / AD accounts: "their profile is deleted" */
			rc = ts_store_dir_user_delete(c, ids[i], e);
			out->deleted++;
		} else if (suspended[i]) {
			/* Chime guide: "Suspended users continue to be displayed as Suspended" */
			out->kept_suspended++;
		} else {
			/* the Chime guide: "Registered users are displayed as Released" */
			rc = ts_store_dir_user_set_state(c, ids[i], false, TS_USER_RELEASED, now,
			                                 e);
			out->released++;
		}
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_delete(c, account_id, norm, e);
	return rc;
}

void ts_directory_domain_record_name(const char *domain, char out[TS_DOMAIN_RECORD_NAME_MAX])
{
	snprintf(out, TS_DOMAIN_RECORD_NAME_MAX, "%s.%s", TS_DOMAIN_CHALLENGE_LABEL, domain);
}
