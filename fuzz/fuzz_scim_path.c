/*
 * libFuzzer target for the SCIM PATCH path parser (src/scim/path.c), which
 * reads the `path` of every PATCH operation from outside. Whatever parses
 * must print to a canonical form that parses back to the same parts, and its
 * value filter must evaluate identically after the round trip against fixed
 * multi-valued attribute values. Failures must carry invalidPath or
 * invalidFilter. Any mismatch aborts; memory lives in one arena per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "scim/path.h"

static json_t *values[3];

static bool same_name(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (values[0] == NULL) {
		values[0] = json_loads("{\"type\":\"work\",\"value\":\"a@b\",\"primary\":true}", 0,
		                       NULL);
		values[1] = json_loads("{\"value\":\"U1\",\"display\":\"Alice\",\"$ref\":null}", 0,
		                       NULL);
		values[2] = json_loads("{\"type\":\"home\",\"n\":3.5}", 0, NULL);
		for (int i = 0; i < 3; i++)
			if (values[i] == NULL)
				abort();
	}
	char *text = ts_malloc(size + 1);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_path *p = NULL, *q = NULL;
	const char *type = NULL;
	struct ts_error e = {0};
	if (ts_scim_path_parse(a, text, size, &p, &type, &e) != TS_ERR_OK) {
		if (p != NULL || type == NULL ||
		    (strcmp(type, TS_SCIM_INVALID_PATH) != 0 &&
		     strcmp(type, TS_SCIM_INVALID_FILTER) != 0) ||
		    e.code != TS_ERR_BAD_REQUEST || e.message[0] == '\0')
			abort();
		goto out;
	}
	if (p == NULL || p->attr == NULL || type != NULL)
		abort();
	char *canon = ts_scim_path_format(a, p);
	if (strlen(canon) <= TS_SCIM_PATH_MAX_LEN) {
		if (ts_scim_path_parse(a, canon, strlen(canon), &q, &type, &e) != TS_ERR_OK)
			abort();
		if (!same_name(p->urn, q->urn) || !same_name(p->attr, q->attr) ||
		    !same_name(p->sub, q->sub) || !ts_scim_filter_equal(p->filter, q->filter))
			abort();
		if (strcmp(ts_scim_path_format(a, q), canon) != 0)
			abort();
	}
	if (p->filter != NULL) {
		for (int i = 0; i < 3; i++) {
			bool m = ts_scim_filter_match(p->filter, values[i], NULL);
			if (q != NULL && m != ts_scim_filter_match(q->filter, values[i], NULL))
				abort();
		}
	}
out:
	ts_arena_free(&a);
	ts_free(text);
	return 0;
}
