/*
 * The command line: `tessera <noun> <verb> [--flags]`. One file per
 * command; they reach the rest of Tessera only through module headers.
 * Offline commands work straight on the store named by --db and audit
 * themselves as the local operator.
 */
#ifndef TS_CLI_CLI_H
#define TS_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "audit/chain.h"
#include "core/config.h"
#include "store/store.h"

#define TS_CLI_DEFAULT_DB "tessera.db"
#define TS_CLI_DEFAULT_KEY "tessera.key"
#define TS_CLI_KEY_HELP "master key file (made by init; needed to write or verify the audit trail)"

int ts_cli_serve(int argc, char **argv);
int ts_cli_init(int argc, char **argv);
/* tessera login / tessera credentials (login.c): no verb, flags only. */
int ts_cli_login(int argc, char **argv);
int ts_cli_credentials(int argc, char **argv);
int ts_cli_account(const char *verb, int argc, char **argv);
int ts_cli_adminkey(const char *verb, int argc, char **argv);
int ts_cli_apikey(const char *verb, int argc, char **argv);
int ts_cli_audit(const char *verb, int argc, char **argv);
int ts_cli_masterkey(const char *verb, int argc, char **argv);
int ts_cli_user(const char *verb, int argc, char **argv);
int ts_cli_saml(const char *verb, int argc, char **argv);
int ts_cli_oidc(const char *verb, int argc, char **argv);
/* access after sign-in (access.c) */
int ts_cli_target(const char *verb, int argc, char **argv);
int ts_cli_permission_set(const char *verb, int argc, char **argv);
int ts_cli_assignment(const char *verb, int argc, char **argv);

struct ts_cli_store {
	ts_store_t *store;
	ts_store_conn_t *conn;
	ts_arena_t *arena;
	bool keyed; /* the store has the audit keys (and they match its check value) */
};

/*
 * db as it may be shown (an error message, the log): a PostgreSQL URL's or
 * keyword string's password replaced by [redacted]. db itself when it has
 * none, else a copy in a.
 */
const char *ts_cli_db_shown(ts_arena_t *a, const char *db);
/* Prints "tessera: <message>" on stderr and returns the exit status 1. */
int ts_cli_fail(const char *fmt, ...) TS_PRINTF(1, 2);
/* Parses flags or prints usage; returns false after printing the problem. */
bool ts_cli_flags(const char *cmd, const struct ts_config_option *opts, int n, int argc,
                  char **argv, ts_arena_t *arena, const char **values);
/* Reads the master key file (creating it when create is true) and derives the audit keys. */
TS_MUST_USE ts_err ts_cli_keys_load(const char *key_path, bool create, struct ts_audit_keys *keys,
                                    bool *created, struct ts_error *e);
/*
 * Opens --db and brings its schema up to date (create: may create a new
 * SQLite file). When the master key file key_path exists, the store gets the
 * audit keys and refuses a key that is not its own (ts_store_audit_keys_check).
 */
TS_MUST_USE ts_err ts_cli_open(const char *db, const char *key_path, bool create,
                               struct ts_cli_store *s, struct ts_error *e);
/* Seals what the command appended (when keyed), then closes the store. */
void ts_cli_close(struct ts_cli_store *s);
/* Appends the local operator's audit event for an offline command (inside the open transaction). */
TS_MUST_USE ts_err ts_cli_audit_event(struct ts_cli_store *s, const char *event,
                                      const char *account_id, const json_t *params,
                                      const json_t *response, struct ts_error *e);
/*
 * s made safe to print on a terminal, in a's memory: C0 controls, DEL and
 * bytes that are not UTF-8 as \xNN, C1 controls as \u00NN, a backslash
 * doubled; everything else as it is. NULL gives "-". Every stored or
 * client-given string the CLI prints goes through this (names, descriptions).
 */
const char *ts_cli_text(ts_arena_t *a, const char *s);
/* Prints j (stolen) as compact JSON on stdout, every control character escaped. */
void ts_cli_print_json(json_t *j);
/* The same, indented for reading. */
void ts_cli_print_json_indented(json_t *j);

#endif
