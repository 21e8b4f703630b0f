/*
 * Hardened libxml2 parsing (xml.h). libxml2 2.9.14 (Debian 12) has no
 * XML_PARSE_NO_XXE, so the defence is structural: a document with any DTD
 * is refused outright, and the parser never substitutes entities
 * (no XML_PARSE_NOENT), loads no DTD, touches no network and keeps its
 * default depth and size limits (no XML_PARSE_HUGE). Whitespace is kept as
 * it came (no XML_PARSE_NOBLANKS): exclusive c14n digests it.
 */
#include "saml/xml.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <string.h>

static void doc_free(void *p)
{
	xmlFreeDoc(p);
}

/* Refuses entity reference nodes anywhere below n (none can exist without a DTD; belt and braces).
 */
static bool has_entity_ref(const xmlNode *n)
{
	for (const xmlNode *c = n; c; c = c->next) {
		if (c->type == XML_ENTITY_REF_NODE || c->type == XML_ENTITY_NODE ||
		    c->type == XML_ENTITY_DECL)
			return true;
		if (c->type == XML_ELEMENT_NODE && has_entity_ref(c->children))
			return true;
	}
	return false;
}

ts_err ts_saml_xml_parse(ts_arena_t *a, const char *xml, size_t len, size_t max, xmlDocPtr *doc,
                         struct ts_error *e)
{
	*doc = NULL;
	if (len > max)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "the XML document is longer than %zu bytes",
		               max);
	if (len == 0 || len > (size_t)INT32_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the XML document is empty");
	const int opts =
	        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	xmlDocPtr d = xmlReadMemory(xml, (int)len, NULL, NULL, opts);
	if (!d)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the XML document is not well-formed");
	ts_arena_defer(a, doc_free, d);
	if (d->intSubset || d->extSubset)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a DOCTYPE is not allowed");
	xmlNodePtr root = xmlDocGetRootElement(d);
	if (!root)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the XML document has no root element");
	if (has_entity_ref(d->children))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "entity references are not allowed");
	*doc = d;
	return TS_ERR_OK;
}

bool ts_saml_xml_is(const xmlNode *n, const char *ns, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, local) == 0;
}

xmlNodePtr ts_saml_xml_next(const xmlNode *after, const char *ns, const char *local)
{
	for (xmlNodePtr c = after ? after->next : NULL; c; c = c->next)
		if (ts_saml_xml_is(c, ns, local))
			return c;
	return NULL;
}

xmlNodePtr ts_saml_xml_child(const xmlNode *parent, const char *ns, const char *local)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (ts_saml_xml_is(c, ns, local))
			return c;
	return NULL;
}

size_t ts_saml_xml_count(const xmlNode *parent, const char *ns, const char *local)
{
	size_t n = 0;
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		n += ts_saml_xml_is(c, ns, local);
	return n;
}

const char *ts_saml_xml_attr(ts_arena_t *a, const xmlNode *n, const char *name)
{
	xmlAttrPtr at = xmlHasNsProp(n, (const xmlChar *)name, NULL);
	if (!at || !at->children)
		return at ? "" : NULL;
	xmlChar *v = xmlNodeListGetString(n->doc, at->children, 1);
	if (!v)
		return NULL;
	const char *out = ts_arena_strdup(a, (const char *)v);
	xmlFree(v);
	return out;
}

const char *ts_saml_xml_attr_raw(const xmlNode *n, const char *name)
{
	xmlAttrPtr at = n ? xmlHasNsProp(n, (const xmlChar *)name, NULL) : NULL;
	if (!at)
		return NULL;
	if (!at->children)
		return "";
	if (at->children->next || at->children->type != XML_TEXT_NODE)
		return NULL;
	return (const char *)at->children->content;
}

static bool xml_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

const char *ts_saml_xml_text(ts_arena_t *a, const xmlNode *n)
{
	size_t total = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return NULL;
		total += c->content ? strlen((const char *)c->content) : 0;
	}
	char *out = ts_arena_alloc(a, total + 1);
	size_t at = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		size_t k = c->content ? strlen((const char *)c->content) : 0;
		memcpy(out + at, c->content, k);
		at += k;
	}
	out[at] = 0;
	size_t s = 0;
	while (s < at && xml_space(out[s]))
		s++;
	while (at > s && xml_space(out[at - 1]))
		out[--at] = 0;
	return out + s;
}
