/*
 * The router: routes are matched segment by segment against the path; a
 * "{}" segment captures one percent-decoded segment, which must be UTF-8
 * (ts_http_decode). The table is small
 * (tens of routes), so a linear scan with early exit is cheaper than a trie.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "http/http.h"

enum capture { CAPTURE_NONE, CAPTURE_DECODED, CAPTURE_RAW };

/* Compares one literal pattern segment with one path segment. */
static bool seg_equal(const char *pat, size_t plen, const char *seg, size_t slen)
{
	return plen == slen && memcmp(pat, seg, plen) == 0;
}

static bool match(const char *pattern, const char *path, enum capture mode, ts_arena_t *arena,
                  const char **params, int *nparams)
{
	int n = 0;
	const char *p = pattern, *s = path;
	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		/* most routes differ from the path in a literal segment's first byte: no scan then
		 */
		bool p_end = *p == '/' || *p == '\0', s_end = *s == '/' || *s == '\0';
		if (*p != '{' && *p != *s && !(p_end && s_end))
			return false;
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t plen = pe ? (size_t)(pe - p) : strlen(p);
		size_t slen = se ? (size_t)(se - s) : strlen(s);
		if (plen == 2 && p[0] == '{' && p[1] == '}') {
			if (slen == 0 || n >= TS_HTTP_MAX_PARAMS)
				return false;
			if (mode == CAPTURE_DECODED) {
				const char *v = ts_http_decode(arena, s, slen, false);
				if (v == NULL)
					return false;
				params[n] = v;
			} else if (mode == CAPTURE_RAW) {
				params[n] = ts_text_escape(arena, ts_arena_strndup(arena, s, slen));
			}
			n++;
		} else if (!seg_equal(p, plen, s, slen)) {
			return false;
		}
		p += plen;
		s += slen;
	}
	if (*p != '\0' || *s != '\0')
		return false;
	*nparams = n;
	return true;
}

enum ts_http_match ts_http_route_find(const struct ts_http_route *routes, int nroutes,
                                      const char *method, const char *path, ts_arena_t *arena,
                                      const struct ts_http_route **route, const char **params,
                                      int *nparams)
{
	enum ts_http_match found = TS_HTTP_MATCH_NONE;
	bool head = strcmp(method, "HEAD") == 0;
	for (int i = 0; i < nroutes; i++) {
		int n = 0;
		if (!match(routes[i].pattern, path, CAPTURE_NONE, NULL, NULL, &n))
			continue;
		if (strcmp(routes[i].method, method) != 0 &&
		    !(head && strcmp(routes[i].method, "GET") == 0)) {
			found = TS_HTTP_MATCH_METHOD_ONLY;
			continue;
		}
		/*
		 * Second pass with captures. A segment that does not decode (a broken
		 * escape, a NUL, bytes that are not UTF-8) names a resource that
		 * cannot exist: 400, never passed on decoded. The route and the raw
		 * segments are given, for a handler that audits the refusal.
		 */
		*route = &routes[i];
		if (!match(routes[i].pattern, path, CAPTURE_DECODED, arena, params, &n)) {
			(void)match(routes[i].pattern, path, CAPTURE_RAW, arena, params, &n);
			*nparams = n;
			return TS_HTTP_MATCH_BAD_PARAM;
		}
		*nparams = n;
		return TS_HTTP_MATCH_OK;
	}
	return found;
}

struct ts_http_route *ts_http_modules_routes(const struct ts_http_module *modules, int n,
                                             int *nroutes)
{
	int total = 0;
	for (int i = 0; i < n; i++)
		total += modules[i].nroutes;
	struct ts_http_route *table = ts_calloc((size_t)total + 1, sizeof *table);
	int k = 0;
	for (int i = 0; i < n; i++)
		for (int r = 0; r < modules[i].nroutes; r++)
			table[k++] = modules[i].routes[r];
	*nroutes = total;
	return table;
}

struct ts_http_surface *ts_http_modules_surfaces(const struct ts_http_module *modules, int n,
                                                 int *nsurfaces)
{
	size_t total = 1;
	for (int i = 0; i < n; i++)
		for (const struct ts_http_surface *s = modules[i].surface; s != NULL; s = s->next)
			total++;
	struct ts_http_surface *list = ts_calloc(total, sizeof *list);
	int k = 0;
	for (int i = 0; i < n; i++)
		for (const struct ts_http_surface *s = modules[i].surface; s != NULL; s = s->next)
			list[k++] = *s;
	*nsurfaces = k;
	return list;
}
