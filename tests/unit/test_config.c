/*
 * Unit tests of src/core/config.c: flags, switches, the environment
 * (TESSERA_<NAME>), the config file (--config FILE or TESSERA_CONFIG) and
 * defaults, in that order of precedence, and the errors for what is wrong.
 * Config files are written to a temporary directory by the tests themselves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

enum { O_LISTEN, O_DB, O_LOG_LEVEL, O_VERBOSE, O_MAX_BODY, O_N };

static const struct ts_config_option opts[O_N] = {
        [O_LISTEN] = {"listen", "127.0.0.1:8080", false, "address"},
        [O_DB] = {"db", NULL, false, "store"},
        [O_LOG_LEVEL] = {"log-level", "info", false, "log level"},
        [O_VERBOSE] = {"verbose", NULL, true, "more output"},
        [O_MAX_BODY] = {"max-body", "1048576", false, "bytes"},
};

static const char *const env_names[] = {"TESSERA_LISTEN",   "TESSERA_DB",       "TESSERA_LOG_LEVEL",
                                        "TESSERA_VERBOSE",  "TESSERA_MAX_BODY", "TESSERA_CONFIG",
                                        "TESSERA_LOG-LEVEL"};

static char tmpdir[64];

struct run {
	ts_arena_t *arena;
	const char *v[O_N];
	struct ts_error e;
	ts_err rc;
};

static int setup(void **state)
{
	for (size_t i = 0; i < N_ITEMS(env_names); i++)
		unsetenv(env_names[i]);
	struct run *r = calloc(1, sizeof *r);
	r->arena = ts_arena_new();
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct run *r = *state;
	ts_arena_free(&r->arena);
	free(r);
	for (size_t i = 0; i < N_ITEMS(env_names); i++)
		unsetenv(env_names[i]);
	return 0;
}

/* Parses a NULL-terminated argument list (without the program name). */
static ts_err parse_args(struct run *r, const char *const *args)
{
	int argc = 0;
	while (args[argc] != NULL)
		argc++;
	char **argv = calloc((size_t)argc + 1, sizeof *argv);
	for (int i = 0; i < argc; i++)
		argv[i] = ts_arena_strdup(r->arena, args[i]);
	memset(&r->e, 0, sizeof r->e);
	for (int i = 0; i < O_N; i++)
		r->v[i] = "(untouched)";
	r->rc = ts_config_parse(opts, O_N, argc, argv, r->arena, r->v, &r->e);
	free(argv);
	return r->rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ARGS ((const char *const[]){NULL})

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void **state)
{
	struct run *r = *state;
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "127.0.0.1:8080");
	assert_null(r->v[O_DB]);
	assert_string_equal(r->v[O_LOG_LEVEL], "info");
	assert_null(r->v[O_VERBOSE]);
	assert_string_equal(r->v[O_MAX_BODY], "1048576");
}

static void test_flags(void **state)
{
	struct run *r = *state;
	assert_int_equal(parse_args(r, ARGS("--db", "/tmp/x.db", "--listen=:9090", "--log-level",
	                                    "debug", "--max-body=")),
	                 TS_ERR_OK);
	assert_string_equal(r->v[O_DB], "/tmp/x.db");
	assert_string_equal(r->v[O_LISTEN], ":9090");
	assert_string_equal(r->v[O_LOG_LEVEL], "debug");
	assert_string_equal(r->v[O_MAX_BODY], ""); /* --name= gives an empty value */
	assert_null(r->v[O_VERBOSE]);

	/* a value may itself start with dashes or contain '=' */
	assert_int_equal(parse_args(r, ARGS("--db", "--weird", "--listen=a=b")), TS_ERR_OK);
	assert_string_equal(r->v[O_DB], "--weird");
	assert_string_equal(r->v[O_LISTEN], "a=b");

	/* the last one wins */
	assert_int_equal(parse_args(r, ARGS("--db", "one", "--db=two")), TS_ERR_OK);
	assert_string_equal(r->v[O_DB], "two");
}

static void test_switches(void **state)
{
	struct run *r = *state;
	assert_int_equal(parse_args(r, ARGS("--verbose", "--db", "x")), TS_ERR_OK);
	assert_string_equal(r->v[O_VERBOSE], "1");
	assert_string_equal(r->v[O_DB], "x");
	/* a switch does not swallow the next argument */
	assert_int_equal(parse_args(r, ARGS("--verbose", "--listen", "y")), TS_ERR_OK);
	assert_string_equal(r->v[O_VERBOSE], "1");
	assert_string_equal(r->v[O_LISTEN], "y");
	assert_int_equal(parse_args(r, ARGS("--verbose=1")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--verbose"));
}

static void test_unknown_flag(void **state)
{
	struct run *r = *state;
	assert_int_equal(parse_args(r, ARGS("--nope", "1")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--nope"));
	assert_int_equal(parse_args(r, ARGS("--db=x", "--nope=1")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--nope"));
	/* a prefix of an option is not the option */
	assert_int_equal(parse_args(r, ARGS("--d", "x")), TS_ERR_BAD_REQUEST);
	assert_int_equal(parse_args(r, ARGS("--dbx", "x")), TS_ERR_BAD_REQUEST);
	/* underscores are not dashes on the command line */
	assert_int_equal(parse_args(r, ARGS("--log_level", "x")), TS_ERR_BAD_REQUEST);
	/* positional arguments and single dashes */
	assert_int_equal(parse_args(r, ARGS("stray")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "stray"));
	assert_int_equal(parse_args(r, ARGS("-db", "x")), TS_ERR_BAD_REQUEST);
	assert_int_equal(parse_args(r, ARGS("--")), TS_ERR_BAD_REQUEST);
}

static void test_missing_value(void **state)
{
	struct run *r = *state;
	assert_int_equal(parse_args(r, ARGS("--db")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--db"));
	assert_int_equal(parse_args(r, ARGS("--listen", "x", "--log-level")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--log-level"));
	assert_int_equal(parse_args(r, ARGS("--config")), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "--config"));
}

static void test_env(void **state)
{
	struct run *r = *state;
	/* dashes become underscores, names upper case */
	setenv("TESSERA_LOG_LEVEL", "warn", 1);
	setenv("TESSERA_MAX_BODY", "10", 1);
	setenv("TESSERA_DB", "/env.db", 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "warn");
	assert_string_equal(r->v[O_MAX_BODY], "10");
	assert_string_equal(r->v[O_DB], "/env.db");
	assert_string_equal(r->v[O_LISTEN], "127.0.0.1:8080");
	/* the flag wins over the environment */
	assert_int_equal(parse_args(r, ARGS("--log-level", "error", "--db=/flag.db")), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "error");
	assert_string_equal(r->v[O_DB], "/flag.db");
	assert_string_equal(r->v[O_MAX_BODY], "10");
	/* a switch from the environment */
	setenv("TESSERA_VERBOSE", "1", 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_VERBOSE], "1");
	/* the dashed spelling is not the variable */
	unsetenv("TESSERA_LOG_LEVEL");
	setenv("TESSERA_LOG-LEVEL", "nope", 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "info");
}

static void test_file(void **state)
{
	struct run *r = *state;
	const char *path = write_file("basic.conf", "# Tessera config\n"
	                                            "\n"
	                                            "   # indented comment\n"
	                                            "listen = 0.0.0.0:1234\n"
	                                            "db=postgresql://u:p@h/db?sslmode=disable\n"
	                                            "\t log-level \t=\t debug \t\n"
	                                            "\n"
	                                            "verbose = 1\n");
	char *flag = ts_arena_printf(r->arena, "--config=%s", path);
	assert_int_equal(parse_args(r, ARGS(flag)), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "0.0.0.0:1234");
	assert_string_equal(r->v[O_DB], "postgresql://u:p@h/db?sslmode=disable");
	assert_string_equal(r->v[O_LOG_LEVEL], "debug");
	assert_string_equal(r->v[O_VERBOSE], "1");
	assert_string_equal(r->v[O_MAX_BODY], "1048576"); /* default: not in the file */

	/* --config FILE, the separate form */
	assert_int_equal(parse_args(r, ARGS("--config", path)), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "0.0.0.0:1234");

	/* TESSERA_CONFIG */
	setenv("TESSERA_CONFIG", path, 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "debug");
	/* the flag names another file and wins over TESSERA_CONFIG */
	const char *other = write_file("other.conf", "log-level = error\n");
	assert_int_equal(parse_args(r, ARGS("--config", other)), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "error");
	assert_string_equal(r->v[O_LISTEN], "127.0.0.1:8080");
	/* an empty TESSERA_CONFIG means none */
	setenv("TESSERA_CONFIG", "", 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_OK);
	assert_string_equal(r->v[O_LOG_LEVEL], "info");

	/* CRLF line ends and a missing final newline */
	const char *crlf = write_file("crlf.conf", "listen = a:1\r\nlog-level = warn");
	assert_int_equal(parse_args(r, ARGS("--config", crlf)), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "a:1");
	assert_string_equal(r->v[O_LOG_LEVEL], "warn");
}

static void test_precedence(void **state)
{
	struct run *r = *state;
	const char *path = write_file("prec.conf", "listen = file:1\n"
	                                           "log-level = file\n"
	                                           "db = file.db\n");
	/* file < environment < flag; default only when none */
	setenv("TESSERA_LOG_LEVEL", "env", 1);
	setenv("TESSERA_DB", "env.db", 1);
	assert_int_equal(parse_args(r, ARGS("--config", path, "--db", "flag.db")), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "file:1");
	assert_string_equal(r->v[O_LOG_LEVEL], "env");
	assert_string_equal(r->v[O_DB], "flag.db");
	assert_string_equal(r->v[O_MAX_BODY], "1048576");
	/* the order of flags does not matter: --config after the flag */
	assert_int_equal(parse_args(r, ARGS("--listen", "flag:2", "--config", path)), TS_ERR_OK);
	assert_string_equal(r->v[O_LISTEN], "flag:2");
	assert_string_equal(r->v[O_DB], "env.db");
}

static void test_file_line_numbers(void **state)
{
	struct run *r = *state;
	/* the line number counts every line, blank ones included */
	const char *path = write_file("unknown.conf", "# comment\n"
	                                              "\n"
	                                              "listen = x\n"
	                                              "\n"
	                                              "bogus = 1\n"
	                                              "db = y\n");
	assert_int_equal(parse_args(r, ARGS("--config", path)), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "bogus"));
	if (strstr(r->e.message, ":5:") == NULL)
		fail_msg("the message should name line 5: %s", r->e.message);
}

static void test_file_errors(void **state)
{
	struct run *r = *state;

	const char *noeq = write_file("noeq.conf", "listen = x\njust words\n");
	assert_int_equal(parse_args(r, ARGS("--config", noeq)), TS_ERR_BAD_REQUEST);
	if (strstr(r->e.message, ":2:") == NULL)
		fail_msg("the message should name line 2: %s", r->e.message);

	/* "config" is not a key the file may set */
	const char *nested = write_file("nested.conf", "config = /etc/other\n");
	assert_int_equal(parse_args(r, ARGS("--config", nested)), TS_ERR_BAD_REQUEST);

	char *missing = ts_arena_printf(r->arena, "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(parse_args(r, ARGS("--config", missing)), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(r->e.message, "does-not-exist.conf"));
	setenv("TESSERA_CONFIG", missing, 1);
	assert_int_equal(parse_args(r, NO_ARGS), TS_ERR_BAD_REQUEST);
	unsetenv("TESSERA_CONFIG");

	/* over the size cap */
	size_t n = TS_CONFIG_FILE_MAX + 10;
	char *big = calloc(n + 1, 1);
	memset(big, '#', n);
	const char *bigpath = write_file("big.conf", big);
	free(big);
	assert_int_equal(parse_args(r, ARGS("--config", bigpath)), TS_ERR_BAD_REQUEST);
}

static void test_too_many_options(void **state)
{
	struct run *r = *state;
	struct ts_config_option many[TS_CONFIG_MAX_OPTIONS + 1];
	const char *vals[TS_CONFIG_MAX_OPTIONS + 1];
	for (int i = 0; i <= TS_CONFIG_MAX_OPTIONS; i++)
		many[i] = (struct ts_config_option){"x", NULL, false, NULL};
	struct ts_error e = {0};
	assert_int_not_equal(
	        ts_config_parse(many, TS_CONFIG_MAX_OPTIONS + 1, 0, NULL, r->arena, vals, &e),
	        TS_ERR_OK);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ts-unit-config-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	static const char *const files[] = {"basic.conf",  "other.conf",   "crlf.conf",
	                                    "prec.conf",   "unknown.conf", "noeq.conf",
	                                    "nested.conf", "big.conf"};
	char path[256];
	for (size_t i = 0; i < N_ITEMS(files); i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_switches, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_flag, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_value, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_file_line_numbers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_too_many_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
