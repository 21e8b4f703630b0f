/*
 * Accounts (tenants) as the directory sees them: naming rules, the two
 * types, and account settings with their defaults. No HTTP here; the admin
 * API and the CLI both call these inside a transaction they own.
 */
#ifndef TS_DIRECTORY_ACCOUNT_H
#define TS_DIRECTORY_ACCOUNT_H

#include <jansson.h>

#include "core/jsonw.h"
#include "store/store.h"

#define TS_ACCOUNT_NAME_MAX 100

/* Validates and inserts a new Active account; type NULL means "Team". */
TS_MUST_USE ts_err ts_directory_account_create(ts_store_conn_t *c, ts_arena_t *a, const char *name,
                                               const char *type, struct ts_account *out,
                                               struct ts_error *e);
/* Renames an account. */
TS_MUST_USE ts_err ts_directory_account_rename(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                               const char *name, struct ts_account *out,
                                               struct ts_error *e);
/* The account's settings merged over the defaults (new reference, tied to the arena). */
TS_MUST_USE ts_err ts_directory_account_settings(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                                 json_t **settings, struct ts_error *e);
/*
 * Applies a partial settings object: every key must be a known setting with
 * a value of the right type and range, or nothing is changed.
 */
TS_MUST_USE ts_err ts_directory_account_settings_update(ts_store_conn_t *c, ts_arena_t *a,
                                                        const char *id, const json_t *changes,
                                                        struct ts_error *e);
/* The settings of an account record merged over the defaults (new reference). */
json_t *ts_directory_account_settings_of(const struct ts_account *acct);
/* The API shape of an account ({"AccountId", "Name", ...}); new reference. */
json_t *ts_directory_account_json(const struct ts_account *acct);
/* The same object, written to w. */
void ts_directory_account_write(struct ts_jsonw *w, const struct ts_account *acct);
/* Checks a display name: 1..TS_ACCOUNT_NAME_MAX characters, no control characters. */
TS_MUST_USE ts_err ts_directory_account_name_check(const char *name, struct ts_error *e);

#endif
