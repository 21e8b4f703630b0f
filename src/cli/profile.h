/*
 * The command line's sign-in state on disk (docs/cli-login.md): profiles in
 * an INI file, $XDG_CONFIG_HOME/tessera/config (~/.config/tessera/config
 * without it), one `[profile NAME]` section each with the start URL, the
 * account, the target and the permission set chosen at `tessera login`; and
 * the tokens of each profile in tokens/NAME.json beside it. Both are written
 * the same way: a temporary file of mode 0600 in the same directory, synced,
 * then renamed over the old one (rename(2) is atomic: a reader sees the old
 * file or the new one, never half of one), in directories of mode 0700.
 * Saving a profile keeps every other section and comment of the file as it
 * was. A file that is too large, has a line too long or a line that is not a
 * section, a `key = value` pair, a comment or blank, or names a profile
 * twice, is refused with a message naming the file and the line, never
 * rewritten.
 *
 * No other module uses this: it is linked into the binary with src/cli/ (and
 * compiled into tests/unit/test_cli_profile.c), and it reaches the rest of
 * Tessera only through core/ headers.
 */
#ifndef TS_CLI_PROFILE_H
#define TS_CLI_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_CLI_PROFILE_DEFAULT "default"
#define TS_CLI_PROFILE_NAME_MAX 64           /* bytes of a profile name */
#define TS_CLI_PROFILE_LINE_MAX 4096         /* bytes of one line of the config file */
#define TS_CLI_PROFILE_FILE_MAX (256 * 1024) /* bytes of the config file */
#define TS_CLI_PROFILE_LINES_MAX 4096        /* lines of the config file */
#define TS_CLI_TOKENS_FILE_MAX (64 * 1024)   /* bytes of one tokens file */
#define TS_CLI_PROFILE_CONFIG_NAME "config"  /* the file in the directory */
#define TS_CLI_PROFILE_TOKENS_DIR "tokens"   /* the tokens' directory in it */
#define TS_CLI_PROFILE_DIR_MODE 0700
#define TS_CLI_PROFILE_FILE_MODE 0600

/* One profile: what `tessera credentials` needs besides the tokens. */
struct ts_cli_profile {
	const char *name;      /* [A-Za-z0-9][A-Za-z0-9._-]* (ts_cli_profile_name_ok) */
	const char *start_url; /* {base}/start/{AccountId} */
	const char *account_id;
	const char *target_id;
	const char *permission_set_id;
};

/* A profile's tokens (RFC 6749 §5.1): secrets, never printed. */
struct ts_cli_tokens {
	const char *access_token;
	const char *refresh_token; /* NULL when the server gave none */
	int64_t expires_ms;        /* when the access token ends, ms since the epoch */
};

/*
 * Whether name may name a profile: 1..TS_CLI_PROFILE_NAME_MAX bytes of ASCII
 * letters, digits, '.', '_' and '-', the first a letter or digit (it is
 * also the tokens file's name: no '/', no "..", no hidden file).
 */
bool ts_cli_profile_name_ok(const char *name);

/*
 * The directory of the files: $XDG_CONFIG_HOME/tessera when that is set to
 * an absolute path (XDG Base Directory Specification), else
 * $HOME/.config/tessera. Arena memory. TS_ERR_BAD_REQUEST when neither is
 * usable.
 */
TS_MUST_USE ts_err ts_cli_profile_dir(ts_arena_t *a, const char **dir, struct ts_error *e);

/*
 * Reads profile name from dir's config file into *out (arena memory; keys
 * absent from the section stay NULL). TS_ERR_NOT_FOUND when the file or the
 * section does not exist; TS_ERR_BAD_REQUEST for a malformed file (the
 * message names the file and the line); TS_ERR_TOO_LARGE past the caps;
 * TS_ERR_IO when it cannot be read.
 */
TS_MUST_USE ts_err ts_cli_profile_load(ts_arena_t *a, const char *dir, const char *name,
                                       struct ts_cli_profile *out, struct ts_error *e);

/*
 * Writes p as the section `[profile p->name]` of dir's config file,
 * replacing that section where it stands or appending it, every other line
 * kept; creates dir (and its parent) with mode 0700 when missing. The
 * file is replaced atomically with mode 0600. Values must be UTF-8 text
 * without control characters, shorter than a line (TS_ERR_BAD_REQUEST). A
 * malformed existing file is refused as ts_cli_profile_load refuses it and
 * left as it was.
 */
TS_MUST_USE ts_err ts_cli_profile_save(ts_arena_t *a, const char *dir,
                                       const struct ts_cli_profile *p, struct ts_error *e);

/*
 * Reads dir/tokens/name.json into *out (arena memory). TS_ERR_NOT_FOUND
 * when there is none; TS_ERR_BAD_REQUEST when it is not what
 * ts_cli_tokens_save writes.
 */
TS_MUST_USE ts_err ts_cli_tokens_load(ts_arena_t *a, const char *dir, const char *name,
                                      struct ts_cli_tokens *out, struct ts_error *e);

/* Writes t to dir/tokens/name.json atomically, mode 0600, directories 0700. */
TS_MUST_USE ts_err ts_cli_tokens_save(ts_arena_t *a, const char *dir, const char *name,
                                      const struct ts_cli_tokens *t, struct ts_error *e);

/*
 * Takes the lock of profile name's tokens (dir/tokens/name.lock, 0600, made
 * when missing), waiting for another process that holds it: two `tessera
 * credentials` renewing at once would each spend the one refresh token, and
 * the server takes a spent token coming back for a stolen one (docs/oauth.md).
 * *fd is released with ts_cli_tokens_unlock.
 */
TS_MUST_USE ts_err ts_cli_tokens_lock(ts_arena_t *a, const char *dir, const char *name, int *fd,
                                      struct ts_error *e);
void ts_cli_tokens_unlock(int fd);

#endif
