/*
 * PATCH path parser (RFC 7644 §3.5.2):
 *
 *   PATH = attrPath / valuePath [subAttr]
 *
 * The attribute path and the bracketed value filter are read with the filter
 * parser's own routines (scim/internal.h), so a path and a filter can never
 * disagree about what a name or a value filter is. Syntax errors outside the
 * brackets are invalidPath; errors inside them are invalidFilter.
 */
#include "scim/path.h"

#include <string.h>

#include "scim/internal.h"

ts_err ts_scim_path_parse(ts_arena_t *arena, const char *text, size_t len,
                          struct ts_scim_path **out, const char **scim_type, struct ts_error *e)
{
	struct ts__scim_parser p;
	struct ts_scim_attr_path ap;
	struct ts_scim_filter *filter = NULL;
	const char *sub = NULL;
	struct ts_scim_path *path = NULL;
	*out = NULL;
	if (scim_type != NULL)
		*scim_type = NULL;
	ts_err rc = ts__scim_parser_init(&p, arena, text, len, 0, "path", TS_SCIM_INVALID_PATH, e);
	if (rc != TS_ERR_OK)
		goto out;
	if (len > TS_SCIM_PATH_MAX_LEN) {
		rc = ts__scim_fail(&p, "longer than %d bytes", TS_SCIM_PATH_MAX_LEN);
		goto out;
	}
	if (len == 0) {
		rc = ts__scim_fail(&p, "the path is empty");
		goto out;
	}
	rc = ts__scim_parse_attr_path(&p, false, &ap);
	if (rc != TS_ERR_OK)
		goto out;
	sub = ap.sub;
	if (p.pos < p.len && p.text[p.pos] == '[') {
		if (ap.sub != NULL) {
			rc = ts__scim_fail(&p,
			                   "a value filter applies to an attribute, not to "
			                   "sub-attribute '%s'",
			                   ap.sub);
			goto out;
		}
		/* RFC 7644 §3.12: a bad filter inside a PATCH path is invalidFilter */
		p.scim_type = TS_SCIM_INVALID_FILTER;
		rc = ts__scim_parse_bracket(&p, &filter);
		if (rc != TS_ERR_OK)
			goto out;
		p.scim_type = TS_SCIM_INVALID_PATH;
		if (p.pos < p.len && p.text[p.pos] == '.') {
			p.pos++;
			rc = ts__scim_parse_sub_name(&p, &sub);
			if (rc != TS_ERR_OK)
				goto out;
		}
	}
	if (p.pos < p.len) {
		char c = p.text[p.pos];
		if (c == ']')
			rc = ts__scim_fail(&p, "unbalanced ']'");
		else if (c >= 0x20 && c < 0x7f)
			rc = ts__scim_fail(&p, "unexpected '%c' after the attribute path", c);
		else
			rc = ts__scim_fail(&p, "unexpected byte 0x%02x after the attribute path",
			                   (unsigned char)c);
		goto out;
	}
	path = ts_arena_alloc(arena, sizeof *path);
	path->urn = ap.urn;
	path->attr = ap.attr;
	path->filter = filter;
	path->sub = sub;
	*out = path;
out:
	if (rc != TS_ERR_OK && scim_type != NULL)
		*scim_type = p.scim_type;
	return rc;
}

char *ts_scim_path_format(ts_arena_t *arena, const struct ts_scim_path *p)
{
	const char *head = p->urn ? ts_arena_printf(arena, "%s:%s", p->urn, p->attr) : p->attr;
	const char *tail = p->sub ? ts_arena_printf(arena, ".%s", p->sub) : "";
	if (p->filter == NULL)
		return ts_arena_printf(arena, "%s%s", head, tail);
	return ts__scim_filter_format_into(arena, ts_arena_printf(arena, "%s[", head), p->filter,
	                                   ts_arena_printf(arena, "]%s", tail));
}
