/*
 * Structured logging: one JSON object per line on stderr, with time, level,
 * message and any fields the caller adds. Lines from several threads never
 * interleave (each is written with a single write).
 */
#ifndef TS_CORE_LOG_H
#define TS_CORE_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum ts_log_level { TS_LOG_DEBUG, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR };

void ts_log_set_level(enum ts_log_level level);
/* Parses "debug" | "info" | "warn" | "error"; returns -1 when unknown. */
int ts_log_level_parse(const char *s);
int ts_log_enabled(enum ts_log_level level);
/*
 * Sets the function that every line's fields pass through before they are
 * written (the audit redaction: no secret reaches the log, whoever logs).
 * Set once at start-up, before any other thread logs; NULL: none.
 */
void ts_log_set_redactor(bool (*redact)(json_t *fields));
/* Writes msg with the members of fields (a JSON object, stolen; may be NULL). */
void ts_log(enum ts_log_level level, const char *msg, json_t *fields);

#endif
