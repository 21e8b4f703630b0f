/* Flags, environment and config file, in that order of precedence. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_PREFIX "--"
#define CONFIG_FLAG "config"
/* "TESSERA_" and a flag name in capitals; longer names are cut and never match */
#define ENV_NAME_MAX 64

static int find(const struct ts_config_option *opts, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return i;
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static ts_err read_file(const struct ts_config_option *opts, int n, const char *path, ts_arena_t *a,
                        const char **from_file, struct ts_error *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "cannot read config file %s: %s", path,
		               strerror(errno));
	char *buf = ts_arena_alloc(a, TS_CONFIG_FILE_MAX + 1);
	size_t len = fread(buf, 1, TS_CONFIG_FILE_MAX + 1, f);
	fclose(f);
	if (len > TS_CONFIG_FILE_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "config file %s is larger than %d bytes",
		               path, TS_CONFIG_FILE_MAX);
	buf[len] = '\0';
	int lineno = 0;
	for (char *line = buf, *next = NULL; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		char *l = trim(line);
		if (*l == '\0' || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (eq == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s:%d: expected name = value", path,
			               lineno);
		*eq = '\0';
		char *key = trim(l), *val = trim(eq + 1);
		int i = find(opts, n, key, strlen(key));
		if (i < 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s:%d: unknown option %s", path,
			               lineno, key);
		from_file[i] = ts_arena_strdup(a, val);
	}
	return TS_ERR_OK;
}

ts_err ts_config_parse(const struct ts_config_option *opts, int n, int argc, char **argv,
                       ts_arena_t *arena, const char **values, struct ts_error *e)
{
	if (n > TS_CONFIG_MAX_OPTIONS)
		return TS_FAIL(e, TS_ERR_INTERNAL, "too many options");
	const char *from_flag[TS_CONFIG_MAX_OPTIONS] = {0};
	const char *from_file[TS_CONFIG_MAX_OPTIONS] = {0};
	const char *config_path = getenv("TESSERA_CONFIG");
	for (int k = 0; k < argc; k++) {
		const char *arg = argv[k];
		if (strncmp(arg, FLAG_PREFIX, sizeof FLAG_PREFIX - 1) != 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unexpected argument %s", arg);
		const char *name = arg + sizeof FLAG_PREFIX - 1, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		if (len == sizeof CONFIG_FLAG - 1 && strncmp(name, CONFIG_FLAG, len) == 0) {
			if (eq == NULL && k + 1 >= argc)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--config needs a value");
			config_path = eq ? eq + 1 : argv[++k];
			continue;
		}
		int i = find(opts, n, name, len);
		if (i < 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown option --%.*s", (int)len,
			               name);
		if (opts[i].is_switch) {
			if (eq != NULL)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--%s takes no value",
				               opts[i].name);
			from_flag[i] = "1";
		} else if (eq != NULL) {
			from_flag[i] = eq + 1;
		} else if (k + 1 < argc) {
			from_flag[i] = argv[++k];
		} else {
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--%s needs a value", opts[i].name);
		}
	}
	if (config_path != NULL && config_path[0] != '\0') {
		ts_err rc = read_file(opts, n, config_path, arena, from_file, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	for (int i = 0; i < n; i++) {
		char env[ENV_NAME_MAX] = "TESSERA_";
		size_t o = strlen(env);
		for (const char *p = opts[i].name; *p && o + 1 < sizeof env; p++)
			env[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		env[o] = '\0';
		const char *from_env = getenv(env);
		values[i] = from_flag[i]   ? from_flag[i]
		            : from_env     ? from_env
		            : from_file[i] ? from_file[i]
		                           : opts[i].def;
	}
	return TS_ERR_OK;
}

void ts_config_usage(const struct ts_config_option *opts, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(stderr, "  --%-18s %s", opts[i].name, opts[i].help ? opts[i].help : "");
		if (opts[i].def)
			fprintf(stderr, " (default: %s)", opts[i].def);
		fputc('\n', stderr);
	}
}
