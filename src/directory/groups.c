/*
 * Licence groups: the mappings of directory groups to licence tiers, checked
 * against the groups the IdP pushed (docs/product.md §4 rule 5).
 */
#include "directory/groups.h"

#include <string.h>

#include "core/timeutil.h"
#include "directory/user.h"

ts_err ts_directory_groups_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                struct ts_license_group **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts_account acct;
	ts_err rc = ts_store_account_get(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_license_group_list(c, a, account_id, out, n, e);
	return rc;
}

/* The limits of one call; the admin API names the offending entry before this is reached. */
static ts_err check_entries(const struct ts_license_mapping *groups, size_t n, bool license_needed,
                            struct ts_error *e)
{
	if (n == 0 || n > TS_GROUPS_PER_CALL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a call maps 1 to %d groups",
		               TS_GROUPS_PER_CALL);
	for (size_t i = 0; i < n; i++) {
		const char *name = groups[i].group_name;
		if (name == NULL || name[0] == '\0' || strlen(name) > TS_GROUP_NAME_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a group name has 1 to %d bytes",
			               TS_GROUP_NAME_MAX);
		if (license_needed && ts_directory_license_name(groups[i].license) == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a group maps to Pro or Basic");
	}
	return TS_ERR_OK;
}

ts_err ts_directory_groups_put(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                               const struct ts_license_mapping *groups, size_t n,
                               struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = check_entries(groups, n, true, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		bool exists = false;
		const char *name = groups[i].group_name;
		rc = ts_store_dir_group_exists(c, account_id, name, &exists, e);
		if (rc != TS_ERR_OK)
			return rc;
		/* Chime guide (Okta chapter): the name must match a pushed group exactly */
		if (!exists)
			return TS_FAIL(e, TS_ERR_NOT_FOUND, "%s: %.200s", TS_GROUP_NOT_PUSHED,
			               name);
	}
	int64_t now = ts_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct ts_license_group lg = {
		        .account_id = account_id,
		        .group_name = groups[i].group_name,
		        .license = ts_directory_license_name(groups[i].license),
		        .modified_ms = now,
		};
		rc = ts_store_license_group_upsert(c, &lg, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

ts_err ts_directory_groups_delete(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const struct ts_license_mapping *groups, size_t n,
                                  struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = check_entries(groups, n, false, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	for (size_t i = 0; rc == TS_ERR_OK && i < n; i++)
		rc = ts_store_license_group_delete(c, account_id, groups[i].group_name, e);
	return rc;
}
