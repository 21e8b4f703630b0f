/*
 * The CLI's profiles and tokens on disk (profile.h): a small INI reader that
 * refuses what it does not understand rather than guessing, a writer that
 * replaces one section and keeps the rest of the file byte for byte, and the
 * atomic, owner-only replacement of a file both share.
 */
#include "cli/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"

#define PROFILE_PREFIX "profile "
#define SECTION_FMT "[" PROFILE_PREFIX "%s]"
/* "key = value": what a line of ours adds around the value */
#define KV_OVERHEAD (sizeof " = " - 1)
#define TMP_SUFFIX ".XXXXXX"

/* The config file's keys, in the order they are written. */
enum { K_START_URL, K_ACCOUNT, K_TARGET, K_PERMISSION_SET, K__COUNT };
static const char *const keys[K__COUNT] = {
        [K_START_URL] = "start_url",
        [K_ACCOUNT] = "account_id",
        [K_TARGET] = "target_id",
        [K_PERMISSION_SET] = "permission_set_id",
};

bool ts_cli_profile_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > TS_CLI_PROFILE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum =
		        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

ts_err ts_cli_profile_dir(ts_arena_t *a, const char **dir, struct ts_error *e)
{
	/* XDG Base Directory Specification: a relative $XDG_CONFIG_HOME is invalid, ignored */
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg != NULL && xdg[0] == '/') {
		*dir = ts_arena_printf(a, "%s/tessera", xdg);
		return TS_ERR_OK;
	}
	const char *home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "neither XDG_CONFIG_HOME nor HOME is an absolute path");
	*dir = ts_arena_printf(a, "%s/.config/tessera", home);
	return TS_ERR_OK;
}

/*
 * path's bytes (at most cap; NUL-terminated, arena memory). A symbolic link
 * is refused (O_NOFOLLOW): another user's link must not make us read, and
 * later replace, a file of their choosing.
 */
static ts_err read_whole(ts_arena_t *a, const char *path, size_t cap, char **out, size_t *len,
                         struct ts_error *e)
{
	ts_err rc = TS_ERR_OK;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return TS_FAIL(e, TS_ERR_NOT_FOUND, "%s does not exist", path);
		return TS_FAIL(e, errno == ELOOP ? TS_ERR_BAD_REQUEST : TS_ERR_IO,
		               "cannot open %s: %s", path,
		               errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is not a regular file", path);
		goto out;
	}
	char *buf = ts_arena_alloc(a, cap + 2);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = TS_FAIL(e, TS_ERR_IO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > cap) {
			rc = TS_FAIL(e, TS_ERR_TOO_LARGE, "%s is larger than %zu bytes", path, cap);
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
out:
	close(fd);
	return rc;
}

/* Makes dir with mode 0700 when missing, its parents too (0700 each); a dir that is there keeps
 * its mode unless tighten, which takes group and other bits away from it. */
static ts_err make_dir(ts_arena_t *a, const char *dir, bool tighten, struct ts_error *e)
{
	char *p = ts_arena_strdup(a, dir);
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s != NULL)
			*s = '\0';
		if (mkdir(p, TS_CLI_PROFILE_DIR_MODE) != 0 && errno != EEXIST)
			return TS_FAIL(e, TS_ERR_IO, "cannot create %s: %s", p, strerror(errno));
		if (s == NULL)
			break;
		*s = '/';
	}
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return TS_FAIL(e, TS_ERR_IO, "%s is not a directory", dir);
	if (tighten && (st.st_mode & 077) != 0 && chmod(dir, TS_CLI_PROFILE_DIR_MODE) != 0)
		return TS_FAIL(e, TS_ERR_IO, "cannot make %s private: %s", dir, strerror(errno));
	return TS_ERR_OK;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/*
 * Replaces dir/name with data: a temporary file made by mkostemp (mode
 * 0600) in dir, written, fsynced, renamed over dir/name, then dir fsynced so
 * that the rename itself survives a crash (rename(2), fsync(2)).
 */
static ts_err replace_file(ts_arena_t *a, const char *dir, const char *name, const char *data,
                           size_t len, struct ts_error *e)
{
	ts_err rc = make_dir(a, dir, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *path = ts_arena_printf(a, "%s/%s", dir, name);
	char *tmp = ts_arena_printf(a, "%s/.%s" TMP_SUFFIX, dir, name);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return TS_FAIL(e, TS_ERR_IO, "cannot create a file in %s: %s", dir,
		               strerror(errno));
	bool ok = fchmod(fd, TS_CLI_PROFILE_FILE_MODE) == 0 && write_all(fd, data, len) &&
	          fsync(fd) == 0;
	int err = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		err = errno;
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return TS_FAIL(e, TS_ERR_IO, "cannot write %s: %s", path, strerror(err));
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* the data is in place whatever this answers; a crash just now could lose the
		 * rename */
		(void)fsync(dfd);
		close(dfd);
	}
	return TS_ERR_OK;
}

/* ---- the INI file ---- */

enum line_kind { L_BLANK, L_COMMENT, L_SECTION, L_PAIR };

struct line {
	const char *text; /* the line as it is in the file */
	size_t len;       /* without its end (LF, or CR LF) */
	size_t raw;       /* with a CR before the LF, copied as it was */
	enum line_kind kind;
	const char *profile;     /* L_SECTION of a profile: its name; else NULL */
	const char *key, *value; /* L_PAIR, trimmed */
};

struct ini {
	const char *path;
	struct line *lines;
	size_t n, cap;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..*n) without blanks at either end */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && is_blank(*s))
		s++, (*n)--;
	while (*n > 0 && is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

static bool key_ok(const char *k, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-' || k[i] == '.'))
			return false;
	return true;
}

/* Sorts line number no into one of the four kinds; TS_ERR_BAD_REQUEST when it is none. */
static ts_err classify(ts_arena_t *a, const struct ini *ini, size_t no, struct line *l,
                       struct ts_error *e)
{
	size_t n = l->len;
	const char *s = trim(l->text, &n);
	if (n == 0) {
		l->kind = L_BLANK;
		return TS_ERR_OK;
	}
	if (s[0] == '#' || s[0] == ';') {
		l->kind = L_COMMENT;
		return TS_ERR_OK;
	}
	if (s[0] == '[') {
		if (s[n - 1] != ']')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s line %zu: a section without its ']'", ini->path, no);
		size_t in = n - 2;
		const char *name = trim(s + 1, &in);
		l->kind = L_SECTION;
		size_t pl = strlen(PROFILE_PREFIX);
		if (in > pl && memcmp(name, PROFILE_PREFIX, pl) == 0) {
			size_t pn = in - pl;
			const char *p = trim(name + pl, &pn);
			l->profile = ts_arena_strndup(a, p, pn);
			if (!ts_cli_profile_name_ok(l->profile))
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "%s line %zu: not a valid profile name", ini->path,
				               no);
		}
		return TS_ERR_OK;
	}
	const char *eq = memchr(s, '=', n);
	if (eq == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s line %zu: neither [section], key = value, comment nor blank",
		               ini->path, no);
	size_t kn = (size_t)(eq - s), vn = n - kn - 1;
	const char *k = trim(s, &kn);
	const char *v = trim(eq + 1, &vn);
	if (!key_ok(k, kn))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s line %zu: not a valid key", ini->path,
		               no);
	l->kind = L_PAIR;
	l->key = ts_arena_strndup(a, k, kn);
	l->value = ts_arena_strndup(a, v, vn);
	return TS_ERR_OK;
}

/*
 * Splits and checks text (len bytes): UTF-8 without NUL or control
 * characters but tab, lines of at most TS_CLI_PROFILE_LINE_MAX bytes ending
 * in LF (CRLF taken too), pairs only inside a section, no profile twice.
 */
static ts_err ini_parse(ts_arena_t *a, const char *path, const char *text, size_t len,
                        struct ini *ini, struct ts_error *e)
{
	*ini = (struct ini){.path = path};
	size_t no = 0;
	bool in_section = false;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		no++;
		if (no > TS_CLI_PROFILE_LINES_MAX)
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "%s has more than %d lines", path,
			               TS_CLI_PROFILE_LINES_MAX);
		size_t raw = end - at, n = raw;
		if (n > 0 && text[at + n - 1] == '\r')
			n--;
		if (n > TS_CLI_PROFILE_LINE_MAX)
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "%s line %zu is longer than %d bytes",
			               path, no, TS_CLI_PROFILE_LINE_MAX);
		const char *s = text + at;
		bool ok = ts_utf8_valid(s, n);
		for (size_t i = 0; ok && i < n; i++)
			ok = s[i] == '\t' ||
			     ((unsigned char)s[i] >= TS_ASCII_SPACE && s[i] != TS_ASCII_DEL);
		if (!ok)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s line %zu: not UTF-8 text without control characters",
			               path, no);
		ts_err rc =
		        TS_ARENA_GROW(a, ini->lines, ini->n, &ini->cap, TS_CLI_PROFILE_LINES_MAX);
		if (rc != TS_ERR_OK)
			return TS_FAIL(e, rc, "%s has too many lines", path);
		struct line *l = &ini->lines[ini->n];
		*l = (struct line){.text = s, .len = n, .raw = raw};
		rc = classify(a, ini, no, l, e);
		if (rc != TS_ERR_OK)
			return rc;
		if (l->kind == L_PAIR && !in_section)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s line %zu: a key outside any section", path, no);
		if (l->kind == L_SECTION) {
			in_section = true;
			for (size_t i = 0; l->profile && i < ini->n; i++)
				if (ini->lines[i].profile &&
				    strcmp(ini->lines[i].profile, l->profile) == 0)
					return TS_FAIL(
					        e, TS_ERR_BAD_REQUEST,
					        "%s line %zu: profile %s appears a second time",
					        path, no, l->profile);
		}
		ini->n++;
		at = end + 1;
	}
	return TS_ERR_OK;
}

/* Reads and parses the config file; an absent file is an empty one when missing_ok. */
static ts_err ini_load(ts_arena_t *a, const char *dir, bool missing_ok, struct ini *ini,
                       struct ts_error *e)
{
	const char *path = ts_arena_printf(a, "%s/%s", dir, TS_CLI_PROFILE_CONFIG_NAME);
	char *text = NULL;
	size_t len = 0;
	ts_err rc = read_whole(a, path, TS_CLI_PROFILE_FILE_MAX, &text, &len, e);
	if (rc == TS_ERR_NOT_FOUND && missing_ok) {
		*ini = (struct ini){.path = path};
		return TS_ERR_OK;
	}
	if (rc != TS_ERR_OK)
		return rc;
	return ini_parse(a, path, text, len, ini, e);
}

/* The lines [*from, *to) of profile name's section (header included); false when absent. */
static bool section_of(const struct ini *ini, const char *name, size_t *from, size_t *to)
{
	for (size_t i = 0; i < ini->n; i++) {
		if (ini->lines[i].profile == NULL || strcmp(ini->lines[i].profile, name) != 0)
			continue;
		size_t j = i + 1;
		while (j < ini->n && ini->lines[j].kind != L_SECTION)
			j++;
		/* blank lines and comments just above the next section belong to it */
		while (j < ini->n && j > i + 1 && ini->lines[j - 1].kind != L_PAIR)
			j--;
		*from = i;
		*to = j;
		return true;
	}
	return false;
}

ts_err ts_cli_profile_load(ts_arena_t *a, const char *dir, const char *name,
                           struct ts_cli_profile *out, struct ts_error *e)
{
	*out = (struct ts_cli_profile){.name = name};
	if (!ts_cli_profile_name_ok(name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a valid profile name");
	struct ini ini;
	ts_err rc = ini_load(a, dir, false, &ini, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t from = 0, to = 0;
	if (!section_of(&ini, name, &from, &to))
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "%s has no profile %s", ini.path, name);
	const char **fields[K__COUNT] = {
	        [K_START_URL] = &out->start_url,
	        [K_ACCOUNT] = &out->account_id,
	        [K_TARGET] = &out->target_id,
	        [K_PERMISSION_SET] = &out->permission_set_id,
	};
	for (size_t i = from + 1; i < to; i++) {
		const struct line *l = &ini.lines[i];
		for (int k = 0; l->kind == L_PAIR && k < K__COUNT; k++) {
			if (strcmp(l->key, keys[k]) != 0)
				continue;
			if (*fields[k] != NULL)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "%s: profile %s sets %s twice", ini.path, name,
				               keys[k]);
			*fields[k] = l->value[0] ? l->value : NULL;
		}
	}
	return TS_ERR_OK;
}

/* A value we write must read back as itself: text, no control character, no blank at either
 * end (trimmed on reading), short enough for a line. */
static bool value_ok(const char *key, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n + strlen(key) + KV_OVERHEAD > TS_CLI_PROFILE_LINE_MAX ||
	    !ts_utf8_valid(v, n) || is_blank(v[0]) || is_blank(v[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < TS_ASCII_SPACE || v[i] == TS_ASCII_DEL)
			return false;
	return true;
}

ts_err ts_cli_profile_save(ts_arena_t *a, const char *dir, const struct ts_cli_profile *p,
                           struct ts_error *e)
{
	if (!ts_cli_profile_name_ok(p->name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a valid profile name");
	const char *values[K__COUNT] = {
	        [K_START_URL] = p->start_url,
	        [K_ACCOUNT] = p->account_id,
	        [K_TARGET] = p->target_id,
	        [K_PERMISSION_SET] = p->permission_set_id,
	};
	for (int k = 0; k < K__COUNT; k++)
		if (values[k] != NULL && !value_ok(keys[k], values[k]))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "the %s of profile %s is not one line of text", keys[k],
			               p->name);
	struct ini ini;
	ts_err rc = ini_load(a, dir, true, &ini, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t from = ini.n, to = ini.n;
	bool found = section_of(&ini, p->name, &from, &to);
	/* the new section */
	char *sec = ts_arena_printf(a, SECTION_FMT "\n", p->name);
	for (int k = 0; k < K__COUNT; k++)
		if (values[k] != NULL)
			sec = ts_arena_printf(a, "%s%s = %s\n", sec, keys[k], values[k]);
	/* the file: what stood before the section, the section, what stood after */
	size_t total = strlen(sec) + 1;
	for (size_t i = 0; i < ini.n; i++)
		total += ini.lines[i].raw + 1;
	char *out = ts_arena_alloc(a, total + 1);
	size_t o = 0;
	for (size_t i = 0; i < from; i++) {
		memcpy(out + o, ini.lines[i].text, ini.lines[i].raw);
		o += ini.lines[i].raw;
		out[o++] = '\n';
	}
	if (!found && from > 0 && ini.lines[from - 1].kind != L_BLANK)
		out[o++] = '\n'; /* a blank line before an appended section */
	size_t sl = strlen(sec);
	memcpy(out + o, sec, sl);
	o += sl;
	for (size_t i = to; i < ini.n; i++) {
		memcpy(out + o, ini.lines[i].text, ini.lines[i].raw);
		o += ini.lines[i].raw;
		out[o++] = '\n';
	}
	if (o > TS_CLI_PROFILE_FILE_MAX)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "%s would be larger than %d bytes", ini.path,
		               TS_CLI_PROFILE_FILE_MAX);
	return replace_file(a, dir, TS_CLI_PROFILE_CONFIG_NAME, out, o, e);
}

/* ---- tokens ---- */

#define TOK_ACCESS "AccessToken"
#define TOK_REFRESH "RefreshToken"
#define TOK_EXPIRES "ExpiresAt"

ts_err ts_cli_tokens_load(ts_arena_t *a, const char *dir, const char *name,
                          struct ts_cli_tokens *out, struct ts_error *e)
{
	*out = (struct ts_cli_tokens){0};
	if (!ts_cli_profile_name_ok(name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a valid profile name");
	const char *path =
	        ts_arena_printf(a, "%s/" TS_CLI_PROFILE_TOKENS_DIR "/%s.json", dir, name);
	char *text = NULL;
	size_t len = 0;
	ts_err rc = read_whole(a, path, TS_CLI_TOKENS_FILE_MAX, &text, &len, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *j = NULL;
	struct ts_error pe = {0};
	rc = ts_json_parse(text, len, NULL, a, &j, &pe);
	sodium_memzero(text, len);
	if (rc != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is not JSON: %s", path, pe.message);
	const char *access = ts_json_str(j, TOK_ACCESS);
	const char *refresh = ts_json_str(j, TOK_REFRESH);
	const char *expires = ts_json_str(j, TOK_EXPIRES);
	int64_t ms = 0;
	if (access == NULL || access[0] == '\0' || expires == NULL || !ts_time_parse(expires, &ms))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s lacks %s or %s", path, TOK_ACCESS,
		               TOK_EXPIRES);
	out->access_token = ts_arena_strdup(a, access);
	out->refresh_token = refresh && refresh[0] ? ts_arena_strdup(a, refresh) : NULL;
	out->expires_ms = ms;
	return TS_ERR_OK;
}

ts_err ts_cli_tokens_lock(ts_arena_t *a, const char *dir, const char *name, int *fd,
                          struct ts_error *e)
{
	*fd = -1;
	if (!ts_cli_profile_name_ok(name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a valid profile name");
	const char *tdir = ts_arena_printf(a, "%s/" TS_CLI_PROFILE_TOKENS_DIR, dir);
	ts_err rc = make_dir(a, tdir, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *path = ts_arena_printf(a, "%s/%s.lock", tdir, name);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return TS_FAIL(e, TS_ERR_IO, "%s: %s", path, strerror(errno));
	while (flock(f, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int err = errno;
			close(f);
			return TS_FAIL(e, TS_ERR_IO, "%s: %s", path, strerror(err));
		}
	}
	*fd = f;
	return TS_ERR_OK;
}

void ts_cli_tokens_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor releases the flock */
}

ts_err ts_cli_tokens_save(ts_arena_t *a, const char *dir, const char *name,
                          const struct ts_cli_tokens *t, struct ts_error *e)
{
	if (!ts_cli_profile_name_ok(name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a valid profile name");
	if (t->access_token == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "no access token to save");
	/* the directory holding the config is made (and kept) private first */
	ts_err rc = make_dir(a, dir, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	char expires[TS_ISO8601_LEN + 1];
	ts_time_iso_ms(t->expires_ms, expires);
	json_t *j = ts_json_own(a, json_object());
	ts_json_set_str(j, TOK_ACCESS, t->access_token);
	if (t->refresh_token != NULL)
		ts_json_set_str(j, TOK_REFRESH, t->refresh_token);
	ts_json_set_str(j, TOK_EXPIRES, expires);
	size_t len = 0;
	char *text = ts_json_dump(a, j, &len);
	const char *tdir = ts_arena_printf(a, "%s/" TS_CLI_PROFILE_TOKENS_DIR, dir);
	const char *file = ts_arena_printf(a, "%s.json", name);
	rc = replace_file(a, tdir, file, text, len, e);
	sodium_memzero(text, len);
	return rc;
}
