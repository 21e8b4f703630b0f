/* What the commands share: flag parsing, opening the store, local audit events. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/event.h"
#include "app/app.h"
#include "audit/sealer.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/crypto.h"
#include "core/utf8.h"

/* The longest escape ts_cli_text writes for one byte or code point: "\u009b". */
#define TEXT_ESCAPE_MAX 6
/* the decimal digits of any unsigned int, and a NUL */
#define UINT_TEXT_MAX (3 * sizeof(unsigned) + 1)

const char *ts_cli_text(ts_arena_t *a, const char *s)
{
	if (s == NULL)
		return "-";
	size_t n = strlen(s);
	char *out = ts_arena_alloc(a, n * TEXT_ESCAPE_MAX + 1);
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		uint32_t cp = 0;
		size_t len = ts_utf8_decode(p, &cp);
		if (len == 0) {
			/* not UTF-8: the byte, shown */
			o += (size_t)snprintf(out + o, TEXT_ESCAPE_MAX + 1, "\\x%02x", *p);
			p++;
		} else if (cp == '\\') {
			/* doubled, so that a name cannot spell an escape */
			memcpy(out + o, "\\\\", 2);
			o += 2;
			p++;
		} else if (ts_utf8_is_control(cp)) {
			/* ECMA-48: C0, DEL and C1 drive the terminal (ESC [ ..., CSI) */
			o += (size_t)snprintf(out + o, TEXT_ESCAPE_MAX + 1,
			                      cp < TS_ASCII_END ? "\\x%02x" : "\\u%04x",
			                      (unsigned)cp);
			p += len;
		} else {
			memcpy(out + o, p, len);
			o += len;
			p += len;
		}
	}
	out[o] = '\0';
	return out;
}

const char *ts_cli_db_shown(ts_arena_t *a, const char *db)
{
	const char *shown = db;
	const char *p = strstr(db, "://");
	if (p != NULL) {
		/* RFC 3986 §3.2.1: userinfo "user:password@" is in the authority */
		p += sizeof "://" - 1;
		const char *at = memrchr(p, '@', strcspn(p, "/?#"));
		const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
		if (colon != NULL)
			shown = ts_arena_printf(a, "%.*s" TS_AUDIT_REDACTED "%s",
			                        (int)(colon + 1 - db), db, at);
		/* libpq also takes password=... among the URI's parameters */
		const char *q = strchr(shown, '?');
		const char *rq = q ? ts_audit_redact_query(a, q + 1) : NULL;
		if (rq != NULL && rq != q + 1)
			shown = ts_arena_printf(a, "%.*s%s", (int)(q + 1 - shown), shown, rq);
		return shown;
	}
	/* a libpq keyword/value string: "host=h password=p" */
	const char *pw = strcasestr(db, "password=");
	if (pw != NULL) {
		pw += strlen("password=");
		shown = ts_arena_printf(a, "%.*s" TS_AUDIT_REDACTED "%s", (int)(pw - db), db,
		                        pw + strcspn(pw, " "));
	}
	return shown;
}

int ts_cli_fail(const char *fmt, ...)
{
	/* messages quote names from the store and the command line: escaped too */
	ts_arena_t *a = ts_arena_new();
	va_list ap;
	va_start(ap, fmt);
	const char *msg = ts_arena_vprintf(a, fmt, ap);
	va_end(ap);
	fprintf(stderr, "tessera: %s\n", ts_cli_text(a, msg));
	ts_arena_free(&a);
	return 1;
}

bool ts_cli_flags(const char *cmd, const struct ts_config_option *opts, int n, int argc,
                  char **argv, ts_arena_t *arena, const char **values)
{
	struct ts_error e = {0};
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fprintf(stderr, "usage: tessera %s [options]\n", cmd);
			ts_config_usage(opts, n);
			return false;
		}
	if (ts_config_parse(opts, n, argc, argv, arena, values, &e) != TS_ERR_OK) {
		ts_cli_fail("%s: %s", cmd, e.message);
		fprintf(stderr, "usage: tessera %s [options]\n", cmd);
		ts_config_usage(opts, n);
		return false;
	}
	/*
	 * What a command stores or sends is text: a value that is not UTF-8
	 * or holds a control character is refused here, once for every command, the
	 * way the HTTP surfaces refuse it (a stored \xff once vanished from listings).
	 */
	for (int i = 0; i < n; i++) {
		const char *v = values[i];
		if (v == NULL || opts[i].is_switch)
			continue;
		bool ok = ts_utf8_valid(v, strlen(v));
		for (const char *p = v; ok && *p; p++)
			ok = (unsigned char)*p >= TS_ASCII_SPACE &&
			     *p != TS_ASCII_DEL; /* no C0, no DEL */
		if (!ok) {
			ts_cli_fail("%s: --%s is not UTF-8 text without control characters", cmd,
			            opts[i].name);
			return false;
		}
	}
	return true;
}

ts_err ts_cli_keys_load(const char *key_path, bool create, struct ts_audit_keys *keys,
                        bool *created, struct ts_error *e)
{
	unsigned char master[TS_MASTER_KEY_LEN];
	bool made = false;
	ts_err rc = ts_app_master_key_load(key_path, create, master, &made, e);
	if (rc == TS_ERR_OK)
		ts_audit_keys_derive(master, keys);
	sodium_memzero(master, sizeof master);
	if (created != NULL)
		*created = made;
	return rc;
}

/*
 * Without a master key file (key_path names none) a command still opens the
 * store for reading; what it appends to the audit trail then fails with the
 * store's "needs the master key". A key that is there must be the store's.
 */
ts_err ts_cli_open(const char *db, const char *key_path, bool create, struct ts_cli_store *s,
                   struct ts_error *e)
{
	*s = (struct ts_cli_store){.arena = ts_arena_new()};
	struct ts_audit_keys keys;
	bool keyed = false;
	ts_err rc = TS_ERR_OK;
	if (key_path != NULL && access(key_path, F_OK) == 0) {
		rc = ts_cli_keys_load(key_path, false, &keys, NULL, e);
		keyed = rc == TS_ERR_OK;
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_open(db, create, NULL, &s->store, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_connect(s->store, &s->conn, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_migrate(s->conn, e);
	if (rc == TS_ERR_OK && keyed) {
		ts_store_audit_keys_set(s->store, &keys);
		rc = ts_store_audit_keys_check(s->conn, e);
		s->keyed = rc == TS_ERR_OK;
	}
	ts_audit_keys_wipe(&keys);
	if (rc != TS_ERR_OK)
		ts_cli_close(s);
	return rc;
}

void ts_cli_close(struct ts_cli_store *s)
{
	/* what the command appended is sealed now rather than at the next server start */
	struct ts_error ignored = {0};
	if (s->keyed && s->conn != NULL &&
	    ts_audit_seal_pending(s->conn, false, NULL, &ignored) != TS_ERR_OK)
		fprintf(stderr, "tessera: warning: audit events not sealed yet: %s\n",
		        ignored.message);
	s->keyed = false;
	ts_store_disconnect(&s->conn);
	ts_store_free(&s->store);
	ts_arena_free(&s->arena);
}

ts_err ts_cli_audit_event(struct ts_cli_store *s, const char *event, const char *account_id,
                          const json_t *params, const json_t *response, struct ts_error *e)
{
	char who[sizeof "uid:" + UINT_TEXT_MAX];
	snprintf(who, sizeof who, "uid:%u", (unsigned)getuid());
	struct ts_audit_entry entry = {
	        .who = {.type = "LocalOperator", .principal_id = who},
	        .event_source = TS_AUDIT_SOURCE_CLI,
	        .event_name = event,
	        .account_id = account_id,
	        .source_ip = "local",
	        .user_agent = "tessera-cli",
	        .request_parameters = params,
	        .response_elements = response,
	};
	return ts_audit_append(s->conn, s->arena, &entry, e);
}

static void print_json(json_t *j, size_t flags)
{
	/*
	 * jansson escapes C0 in strings (RFC 8259 §7); ENSURE_ASCII escapes C1
	 * too. DEL may stand raw in JSON, and only inside strings: escaped here.
	 */
	char *text = json_dumps(j, flags | JSON_ENSURE_ASCII);
	json_decref(j);
	if (text != NULL) {
		for (const char *t = text; *t != '\0'; t++) {
			if (*t == TS_ASCII_DEL)
				fputs("\\u007f", stdout);
			else
				putchar(*t);
		}
		putchar('\n');
		ts_free(text);
	}
	fflush(stdout);
}

void ts_cli_print_json(json_t *j)
{
	print_json(j, JSON_COMPACT);
}

void ts_cli_print_json_indented(json_t *j)
{
	print_json(j, JSON_INDENT(2));
}
