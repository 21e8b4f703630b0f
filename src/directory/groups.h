/*
 * Directory groups mapped to licence tiers (docs/product.md §4 rule 5; Amazon Chime guide,
 * "Configure directory groups", Okta chapter). A mapping names a group the IdP pushed over SCIM by
 * its exact displayName; a user in any Pro group is Pro, else in any Basic group Basic, else has no
 * licence and cannot sign in. Mappings are read at each sign-in and licence re-check, so a change
 * takes effect there.
 */
#ifndef TS_DIRECTORY_GROUPS_H
#define TS_DIRECTORY_GROUPS_H

#include <stddef.h>

#include "directory/signin.h"
#include "store/store.h"

#define TS_GROUPS_PER_CALL 100 /* entries of one AddOrUpdateGroups / DeleteGroups body */
#define TS_GROUP_NAME_MAX 256
/* The Amazon Chime guide's own words for a group the IdP has not pushed yet. */
#define TS_GROUP_NOT_PUSHED "group not found: the two systems may not have completed the sync"

/* A directory group and the tier it gives (TS_LICENSE_NONE in a removal: not needed). */
struct ts_license_mapping {
	const char *group_name; /* exact displayName of a group the IdP pushed */
	enum ts_license license;
};

/* The account's mappings, in the store's order (arena memory); NOT_FOUND without the account. */
TS_MUST_USE ts_err ts_directory_groups_list(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, struct ts_license_group **out,
                                            int *n, struct ts_error *e);
/*
 * AddOrUpdateGroups: maps 1..TS_GROUPS_PER_CALL groups (names of 1 to
 * TS_GROUP_NAME_MAX bytes) to Pro or Basic. Every entry is checked before
 * any is written; a group the IdP has not pushed fails the call with
 * TS_ERR_NOT_FOUND and TS_GROUP_NOT_PUSHED.
 */
TS_MUST_USE ts_err ts_directory_groups_put(ts_store_conn_t *c, ts_arena_t *a,
                                           const char *account_id,
                                           const struct ts_license_mapping *groups, size_t n,
                                           struct ts_error *e);
/* DeleteGroups: removes the mappings of the named groups (licence ignored); NOT_FOUND if one is
 * not mapped. */
TS_MUST_USE ts_err ts_directory_groups_delete(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id,
                                              const struct ts_license_mapping *groups, size_t n,
                                              struct ts_error *e);

#endif
