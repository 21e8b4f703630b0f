/*
 * Directory groups mapped to licence tiers (docs/product.md §4 rule 5; the Amazon
 * Chime guide's Okta chapter, "Configure directory groups"). A mapping names a group the IdP pushed
 * over SCIM by its exact displayName; a user in any Pro group is Pro, else in
 * any Basic group Basic, else has no licence and cannot sign in. Mappings are
 * read at each sign-in and licence re-check, so a change takes effect there.
 */
#ifndef TS_DIRECTORY_GROUPS_H
#define TS_DIRECTORY_GROUPS_H

#include <jansson.h>

#include "store/store.h"

#define TS_GROUPS_PER_CALL 100 /* entries of one AddOrUpdateGroups / DeleteGroups body */
#define TS_GROUP_NAME_MAX 256
/* The Chime guide's own words for a group the IdP has not pushed yet. */
#define TS_GROUP_NOT_PUSHED "group not found: the two systems may not have completed the sync"

/* The account's mappings as [{"GroupName", "LicenseType"}] (new reference). */
TS_MUST_USE ts_err ts_directory_groups_list(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, json_t **out,
                                            struct ts_error *e);
/*
 * AddOrUpdateGroups: groups is [{"GroupName", "LicenseType": "Pro|Basic"}].
 * Every entry is checked before any is written; a group the IdP has not
 * pushed fails the call with TS_ERR_NOT_FOUND and TS_GROUP_NOT_PUSHED.
 */
TS_MUST_USE ts_err ts_directory_groups_put(ts_store_conn_t *c, ts_arena_t *a,
                                           const char *account_id, const json_t *groups,
                                           struct ts_error *e);
/* DeleteGroups: removes the mappings named in groups ([{"GroupName"}]); NOT_FOUND if one is not
 * mapped. */
TS_MUST_USE ts_err ts_directory_groups_delete(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id, const json_t *groups,
                                              struct ts_error *e);

/*
 * The sign-in check of docs/product.md §2 for one user: rules 2 to 5 of §4 evaluated
 * with the store's data for a sign-in as `email` (NULL: the user's primary
 * address), as {"SignInCheck": {"Allowed", "LicenseType", "Rules": [...]}}
 * (new reference).
 */
TS_MUST_USE ts_err ts_directory_signin_check(ts_store_conn_t *c, ts_arena_t *a,
                                             const char *account_id, const char *user_id,
                                             const char *email, json_t **out, struct ts_error *e);

#endif
