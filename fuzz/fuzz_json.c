/*
 * libFuzzer target: the JSON parser every outside body goes through
 * (ts_json_parse), held against jansson's own (json_loadb with
 * JSON_REJECT_DUPLICATES), which it replaces. Besides crashes, leaks and
 * sanitizer reports, it aborts when one accepts what the other refuses, or
 * when the values differ in any way: types, numbers, strings, or the order of
 * an object's keys. Inputs past the caps (depth, string length) are the
 * caps' business and are not compared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ts_json_limits lim = {.max_depth = 512, .max_string = 1u << 30};
	json_t *ours = NULL;
	struct ts_error e = {0};
	ts_err rc = ts_json_parse((const char *)data, size, &lim, NULL, &ours, &e);
	if (rc == TS_ERR_TOO_LARGE)
		return 0;
	json_error_t jerr;
	json_t *theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	/*
	 * One accepts what the other refuses. The one exception: jansson skips a
	 * raw NUL byte read just after a number (its lookahead buffer takes NUL
	 * for "empty"), so "[1\0]" passes there; it is refused here.
	 */
	if (ours != NULL && theirs == NULL)
		abort();
	if (ours == NULL && theirs != NULL && memchr(data, 0, size) == NULL)
		abort();
	if (ours == NULL || theirs == NULL) {
		json_decref(ours);
		json_decref(theirs);
		return 0;
	}
	if (!json_equal(ours, theirs))
		abort();
	/* json_equal ignores key order; the compact texts do not */
	char *a = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
	char *b = json_dumps(theirs, JSON_COMPACT | JSON_ENCODE_ANY);
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	json_decref(ours);
	json_decref(theirs);
	return 0;
}
