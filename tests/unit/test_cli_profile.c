/*
 * Unit tests of src/cli/profile.c, the CLI's profiles and tokens on disk
 * (docs/cli-login.md): a profile written and read back; the file and
 * directory modes (0600, 0700); another profile's section, comments and
 * foreign sections kept byte for byte when one profile is replaced or
 * appended; the file replaced by a rename (a new inode, no temporary file
 * left behind); the caps on lines and size; malformed files refused with
 * the line named and never rewritten; symbolic links refused; the tokens
 * file; the directory from $XDG_CONFIG_HOME or $HOME.
 *
 * src/cli/ is linked into the binary, not the library, so the file under
 * test is compiled into this test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/profile.c"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	ts_arena_t *a;
	char root[64];   /* mkdtemp */
	const char *dir; /* root/tessera: not there until a save makes it */
	const char *config;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->a = ts_arena_new();
	snprintf(f->root, sizeof f->root, "/tmp/ts-cli-profile-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->dir = ts_arena_printf(f->a, "%s/tessera", f->root);
	f->config = ts_arena_printf(f->a, "%s/config", f->dir);
	*state = f;
	return 0;
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char sub[512];
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rm_tree(f->root);
	ts_arena_free(&f->a);
	free(f);
	return 0;
}

static void put(const char *path, const char *text, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* The file's bytes (NUL-terminated, arena memory). */
static char *get(ts_arena_t *a, const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = ts_arena_alloc(a, TS_CLI_PROFILE_FILE_MAX * 2);
	*n = fread(buf, 1, TS_CLI_PROFILE_FILE_MAX * 2 - 1, fp);
	fclose(fp);
	buf[*n] = '\0';
	return buf;
}

static void make_dir_of(struct fx *f)
{
	assert_int_equal(mkdir(f->dir, 0700), 0);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static const struct ts_cli_profile prof_a = {
        .name = "a",
        .start_url = "https://id.example.com/start/acct-1",
        .account_id = "acct-1",
        .target_id = "tgt-1",
        .permission_set_id = "ps-1",
};

static void test_name(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	        {"default", true},
	        {"dev.eu-west_1", true},
	        {"A", true},
	        {"9x", true},
	        {"", false},
	        {".hidden", false},
	        {"-x", false},
	        {"_x", false},
	        {"a/b", false},
	        {"..", false},
	        {"a b", false},
	        {"a]", false},
	        {"caf\xc3\xa9", false},
	        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
	        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++)
		if (ts_cli_profile_name_ok(cases[i].name) != cases[i].ok)
			fail_msg("name %s: expected %d", cases[i].name, cases[i].ok);
	assert_false(ts_cli_profile_name_ok(NULL));
}

static void test_roundtrip_modes(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	/* the directory does not exist yet: made 0700, the file 0600 */
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_OK);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->config), 0600);
	size_t n = 0;
	assert_string_equal(get(f->a, f->config, &n),
	                    "[profile a]\n"
	                    "start_url = https://id.example.com/start/acct-1\n"
	                    "account_id = acct-1\n"
	                    "target_id = tgt-1\n"
	                    "permission_set_id = ps-1\n");
	struct ts_cli_profile p;
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_OK);
	assert_string_equal(p.start_url, prof_a.start_url);
	assert_string_equal(p.account_id, "acct-1");
	assert_string_equal(p.target_id, "tgt-1");
	assert_string_equal(p.permission_set_id, "ps-1");
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "b", &p, &e), TS_ERR_NOT_FOUND);
	/* a directory that is there with group and other bits is made private */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_OK);
	assert_int_equal(mode_of(f->dir), 0700);
	/* a file made readable by others is replaced by a private one */
	assert_int_equal(chmod(f->config, 0644), 0);
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_OK);
	assert_int_equal(mode_of(f->config), 0600);
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	struct ts_cli_profile p;
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_NOT_FOUND);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "../a", &p, &e), TS_ERR_BAD_REQUEST);
}

/* What surrounds the replaced section stays as it was, byte for byte. */
static void test_others_kept(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	make_dir_of(f);
	static const char before[] = "# my profiles\r\n"
	                             "[profile one]\n"
	                             "start_url = https://x.example/start/1\n"
	                             "region = eu  \n"
	                             "\n"
	                             "[profile a]\n"
	                             "start_url = https://old.example/start/0\n"
	                             "custom = dropped with its section\n"
	                             "\n"
	                             "; about two\n"
	                             "[profile two]\n"
	                             "target_id = t2\n"
	                             "[sso-session corp]\n"
	                             "k=v";
	put(f->config, before, sizeof before - 1);
	struct stat st0;
	assert_int_equal(stat(f->config, &st0), 0);
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_OK);
	size_t n = 0;
	assert_string_equal(get(f->a, f->config, &n),
	                    "# my profiles\r\n"
	                    "[profile one]\n"
	                    "start_url = https://x.example/start/1\n"
	                    "region = eu  \n"
	                    "\n"
	                    "[profile a]\n"
	                    "start_url = https://id.example.com/start/acct-1\n"
	                    "account_id = acct-1\n"
	                    "target_id = tgt-1\n"
	                    "permission_set_id = ps-1\n"
	                    "\n"
	                    "; about two\n"
	                    "[profile two]\n"
	                    "target_id = t2\n"
	                    "[sso-session corp]\n"
	                    "k=v\n");
	/* replaced by a rename: a new inode, and no temporary file left beside it */
	struct stat st1;
	assert_int_equal(stat(f->config, &st1), 0);
	assert_true(st0.st_ino != st1.st_ino);
	assert_int_equal(entries(f->dir), 1);
	/* a new profile is appended after a blank line; the others read as before */
	struct ts_cli_profile b = {.name = "b", .start_url = "http://127.0.0.1:8080/start/9"};
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &b, &e), TS_ERR_OK);
	char *text = get(f->a, f->config, &n);
	const char *tail = "k=v\n\n[profile b]\nstart_url = http://127.0.0.1:8080/start/9\n";
	assert_true(n > strlen(tail));
	assert_string_equal(text + n - strlen(tail), tail);
	struct ts_cli_profile p;
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "one", &p, &e), TS_ERR_OK);
	assert_string_equal(p.start_url, "https://x.example/start/1");
	assert_null(p.target_id);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "two", &p, &e), TS_ERR_OK);
	assert_string_equal(p.target_id, "t2");
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "b", &p, &e), TS_ERR_OK);
	assert_null(p.account_id);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_OK);
	assert_string_equal(p.permission_set_id, "ps-1");
	assert_int_equal(entries(f->dir), 1);
}

/* Each malformed file: refused on load and on save with the line named, and left as it was. */
static void test_malformed(void **state)
{
	struct fx *f = *state;
	make_dir_of(f);
	static const struct {
		const char *text;
		ts_err code;
		const char *says;
		bool read_only; /* refused by the reader only: the writer replaces the section */
	} cases[] = {
	        {"start_url = x\n", TS_ERR_BAD_REQUEST, "line 1: a key outside any section", false},
	        {"[profile a]\nstart_url\n", TS_ERR_BAD_REQUEST, "line 2: neither", false},
	        {"[profile a\n", TS_ERR_BAD_REQUEST, "line 1: a section without its ']'", false},
	        {"[profile ../x]\n", TS_ERR_BAD_REQUEST, "line 1: not a valid profile name", false},
	        {"[profile a]\n = v\n", TS_ERR_BAD_REQUEST, "line 2: not a valid key", false},
	        {"[profile a]\n[x]\n[profile  a ]\n", TS_ERR_BAD_REQUEST,
	         "line 3: profile a appears a second time", false},
	        {"[profile a]\nk = \x1b[2J\n", TS_ERR_BAD_REQUEST, "line 2: not UTF-8", false},
	        {"[profile a]\nk = \xff\n", TS_ERR_BAD_REQUEST, "line 2: not UTF-8", false},
	        {"[profile b]\n\nk = v\x7f\n", TS_ERR_BAD_REQUEST, "line 3: not UTF-8", false},
	        {"[profile a]\ntarget_id = 1\ntarget_id = 2\n", TS_ERR_BAD_REQUEST,
	         "profile a sets target_id twice", true},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		put(f->config, cases[i].text, strlen(cases[i].text));
		struct ts_error e = {0};
		struct ts_cli_profile p;
		ts_err rc = ts_cli_profile_load(f->a, f->dir, "a", &p, &e);
		if (rc != cases[i].code || strstr(e.message, cases[i].says) == NULL ||
		    strstr(e.message, f->config) == NULL)
			fail_msg("case %zu: load %d \"%s\"", i, rc, e.message);
		if (cases[i].read_only)
			continue;
		memset(&e, 0, sizeof e);
		rc = ts_cli_profile_save(f->a, f->dir, &prof_a, &e);
		size_t n = 0;
		if (rc != cases[i].code || strstr(e.message, cases[i].says) == NULL ||
		    strcmp(get(f->a, f->config, &n), cases[i].text) != 0)
			fail_msg("case %zu: save %d \"%s\"", i, rc, e.message);
		assert_int_equal(entries(f->dir), 1);
	}
}

static void test_caps(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	struct ts_cli_profile p;
	make_dir_of(f);
	/* a line of exactly the cap is read; one byte more is refused, naming the line */
	size_t head = strlen("[profile a]\nk = ");
	char *text = ts_arena_alloc(f->a, TS_CLI_PROFILE_FILE_MAX + 16);
	memcpy(text, "[profile a]\nk = ", head);
	memset(text + head, 'v', TS_CLI_PROFILE_LINE_MAX - (head - strlen("[profile a]\n")));
	size_t n = strlen(text);
	text[n++] = '\n';
	put(f->config, text, n);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_OK);
	memmove(text + n, "\n", 1);
	text[n - 1] = 'v';
	put(f->config, text, n + 1);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_TOO_LARGE);
	assert_non_null(strstr(e.message, "line 2 is longer than 4096 bytes"));
	/* the file's size */
	memset(text, '#', TS_CLI_PROFILE_FILE_MAX + 1);
	put(f->config, text, TS_CLI_PROFILE_FILE_MAX + 1);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_TOO_LARGE);
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_TOO_LARGE);
	/* the number of lines */
	memset(text, '\n', TS_CLI_PROFILE_LINES_MAX + 1);
	put(f->config, text, TS_CLI_PROFILE_LINES_MAX + 1);
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_TOO_LARGE);
	unlink(f->config);
	/* values that would not read back as themselves are not written */
	char *longv = ts_arena_alloc(f->a, TS_CLI_PROFILE_LINE_MAX + 1);
	memset(longv, 'x', TS_CLI_PROFILE_LINE_MAX);
	const char *bad[] = {longv, "a\nb", "a\rb", " lead", "trail ", "", "\xc3"};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		struct ts_cli_profile q = prof_a;
		q.target_id = bad[i];
		assert_int_equal(ts_cli_profile_save(f->a, f->dir, &q, &e), TS_ERR_BAD_REQUEST);
		assert_int_equal(access(f->config, F_OK), -1);
	}
	struct ts_cli_profile q = prof_a;
	q.name = "x/y";
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &q, &e), TS_ERR_BAD_REQUEST);
}

static void test_symlink_refused(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	make_dir_of(f);
	const char *victim = ts_arena_printf(f->a, "%s/victim", f->root);
	put(victim, "[profile a]\n", strlen("[profile a]\n"));
	assert_int_equal(symlink(victim, f->config), 0);
	struct ts_cli_profile p;
	assert_int_equal(ts_cli_profile_load(f->a, f->dir, "a", &p, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "symbolic link"));
	assert_int_equal(ts_cli_profile_save(f->a, f->dir, &prof_a, &e), TS_ERR_BAD_REQUEST);
	size_t n = 0;
	assert_string_equal(get(f->a, victim, &n), "[profile a]\n");
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	struct ts_cli_tokens t;
	assert_int_equal(ts_cli_tokens_load(f->a, f->dir, "a", &t, &e), TS_ERR_NOT_FOUND);
	struct ts_cli_tokens in = {.access_token = "tss_access",
	                           .refresh_token = "tsr_refresh",
	                           .expires_ms = INT64_C(1796000000123)};
	assert_int_equal(ts_cli_tokens_save(f->a, f->dir, "a", &in, &e), TS_ERR_OK);
	const char *tdir = ts_arena_printf(f->a, "%s/tokens", f->dir);
	const char *file = ts_arena_printf(f->a, "%s/a.json", tdir);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(tdir), 0700);
	assert_int_equal(mode_of(file), 0600);
	assert_int_equal(ts_cli_tokens_load(f->a, f->dir, "a", &t, &e), TS_ERR_OK);
	assert_string_equal(t.access_token, "tss_access");
	assert_string_equal(t.refresh_token, "tsr_refresh");
	assert_int_equal(t.expires_ms, in.expires_ms);
	/* rotated: replaced, no temporary file left; without a refresh token, none read back */
	in = (struct ts_cli_tokens){.access_token = "tss_second", .expires_ms = 1000};
	assert_int_equal(ts_cli_tokens_save(f->a, f->dir, "a", &in, &e), TS_ERR_OK);
	assert_int_equal(entries(tdir), 1);
	assert_int_equal(ts_cli_tokens_load(f->a, f->dir, "a", &t, &e), TS_ERR_OK);
	assert_string_equal(t.access_token, "tss_second");
	assert_null(t.refresh_token);
	/* what is not ours is refused */
	static const char *const bad[] = {
	        "not json",
	        "{\"RefreshToken\":\"x\",\"ExpiresAt\":\"2026-01-01T00:00:00Z\"}",
	        "{\"AccessToken\":\"x\",\"ExpiresAt\":\"tomorrow\"}",
	        "{\"AccessToken\":7,\"ExpiresAt\":\"2026-01-01T00:00:00Z\"}",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		put(file, bad[i], strlen(bad[i]));
		if (ts_cli_tokens_load(f->a, f->dir, "a", &t, &e) != TS_ERR_BAD_REQUEST)
			fail_msg("case %zu read", i);
	}
	assert_int_equal(ts_cli_tokens_load(f->a, f->dir, "..", &t, &e), TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_cli_tokens_save(f->a, f->dir, "a/b", &in, &e), TS_ERR_BAD_REQUEST);
}

static void test_dir(void **state)
{
	struct fx *f = *state;
	struct ts_error e = {0};
	const char *dir = NULL;
	char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("XDG_CONFIG_HOME", "/x/conf", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(ts_cli_profile_dir(f->a, &dir, &e), TS_ERR_OK);
	assert_string_equal(dir, "/x/conf/tessera");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* invalid: ignored */
	assert_int_equal(ts_cli_profile_dir(f->a, &dir, &e), TS_ERR_OK);
	assert_string_equal(dir, "/home/u/.config/tessera");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(ts_cli_profile_dir(f->a, &dir, &e), TS_ERR_OK);
	assert_string_equal(dir, "/home/u/.config/tessera");
	unsetenv("HOME");
	assert_int_equal(ts_cli_profile_dir(f->a, &dir, &e), TS_ERR_BAD_REQUEST);
	if (old_xdg)
		setenv("XDG_CONFIG_HOME", old_xdg, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_xdg);
	free(old_home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_name),
	        cmocka_unit_test_setup_teardown(test_roundtrip_modes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_others_kept, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
