/*
 * Command-line configuration. Each option is looked up in order: the flag
 * (--name value or --name=value), then the environment (TESSERA_NAME, with
 * dashes as underscores), then the config file (--config FILE or
 * TESSERA_CONFIG: "name = value" lines, # comments), then the default.
 * Kept apart from the request path: it runs once at start.
 */
#ifndef TS_CORE_CONFIG_H
#define TS_CORE_CONFIG_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_CONFIG_MAX_OPTIONS 32
#define TS_CONFIG_FILE_MAX (64 * 1024)

struct ts_config_option {
	const char *name; /* without dashes: "listen" */
	const char *def;  /* NULL: unset unless given */
	bool is_switch;   /* takes no value; "1" when given */
	const char *help;
};

/*
 * Fills values[i] for each of the n options. Strings live in argv, the
 * environment or the arena. Unknown flags, a missing value or an unreadable
 * config file fail with TS_ERR_BAD_REQUEST and a message naming the problem.
 */
TS_MUST_USE ts_err ts_config_parse(const struct ts_config_option *opts, int n, int argc,
                                   char **argv, ts_arena_t *arena, const char **values,
                                   struct ts_error *e);
/* Prints "  --name  help (default: x)" lines to stderr. */
void ts_config_usage(const struct ts_config_option *opts, int n);

#endif
