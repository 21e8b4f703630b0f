/* The JSON line logger. */
#include "core/log.h"

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/timeutil.h"

static _Atomic int min_level = TS_LOG_INFO;
/* written once at start-up, before the worker threads exist */
static bool (*redactor)(json_t *fields);
static const char *const names[] = {"debug", "info", "warn", "error"};

void ts_log_set_level(enum ts_log_level level)
{
	atomic_store(&min_level, (int)level);
}

void ts_log_set_redactor(bool (*redact)(json_t *fields))
{
	redactor = redact;
}

int ts_log_level_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int ts_log_enabled(enum ts_log_level level)
{
	return (int)level >= atomic_load(&min_level);
}

void ts_log(enum ts_log_level level, const char *msg, json_t *fields)
{
	if (!ts_log_enabled(level)) {
		json_decref(fields);
		return;
	}
	char when[TS_ISO8601_LEN + 1];
	ts_time_iso_ms(ts_now_ms(), when);
	json_t *line = json_object();
	json_object_set_new(line, "time", json_string(when));
	json_object_set_new(line, "level", json_string(names[level]));
	json_object_set_new(line, "msg", json_string(msg));
	if (fields != NULL) {
		if (redactor != NULL)
			(void)redactor(fields);
		json_object_update(line, fields);
		json_decref(fields);
	}
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (text == NULL)
		return;
	size_t n = strlen(text);
	text[n] = '\n'; /* overwrite the NUL: one write() for the whole line */
	ssize_t w = write(STDERR_FILENO, text, n + 1);
	(void)w;
	ts_free(text); /* jansson allocates with the C allocator, as ts_malloc does */
}
