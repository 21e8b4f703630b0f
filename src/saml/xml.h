/*
 * Hardened libxml2 parsing for everything SAML reads from outside (responses,
 * metadata): one parser, one DOM (federation-security.md §1c, the
 * ruby-saml parser-differential lesson). No DOCTYPE of any kind (so no
 * entity, internal or external: XXE and "billion laughs" are refused before
 * they exist), no network, no XInclude, no huge-document mode, and the
 * caller's size cap. Shared by the module's files only.
 */
#ifndef TS_SAML_XML_H
#define TS_SAML_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_SAML_NS_PROTOCOL "urn:oasis:names:tc:SAML:2.0:protocol"
#define TS_SAML_NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"
#define TS_SAML_NS_METADATA "urn:oasis:names:tc:SAML:2.0:metadata"
#define TS_SAML_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define TS_SAML_NS_XMLENC "http://www.w3.org/2001/04/xmlenc#"

/*
 * Parses xml[0..len) (len at most max) into a document freed with the arena.
 * TS_ERR_TOO_LARGE past max; TS_ERR_BAD_REQUEST when it is not well-formed,
 * has a DOCTYPE, or holds an entity reference. The message names the
 * problem without quoting the input.
 */
TS_MUST_USE ts_err ts_saml_xml_parse(ts_arena_t *a, const char *xml, size_t len, size_t max,
                                     xmlDocPtr *doc, struct ts_error *e);

/* Whether n is an element named local in namespace ns. */
bool ts_saml_xml_is(const xmlNode *n, const char *ns, const char *local);
/* The first element child of parent named (ns, local), or NULL; and the next sibling so named. */
xmlNodePtr ts_saml_xml_child(const xmlNode *parent, const char *ns, const char *local);
xmlNodePtr ts_saml_xml_next(const xmlNode *after, const char *ns, const char *local);
/* How many element children of parent are named (ns, local). */
size_t ts_saml_xml_count(const xmlNode *parent, const char *ns, const char *local);
/* An attribute (no namespace) copied into the arena, or NULL when absent. */
const char *ts_saml_xml_attr(ts_arena_t *a, const xmlNode *n, const char *name);
/*
 * An attribute (no namespace) as it is in the tree, without a copy: valid
 * while the document lives; NULL when absent or not a single text value.
 */
const char *ts_saml_xml_attr_raw(const xmlNode *n, const char *name);
/*
 * The text of an element that must hold only text (NameID, AttributeValue,
 * Issuer, Audience): NULL when it has a comment, a processing instruction or
 * an element child (comment injection, federation-security.md §1b), else the
 * concatenated text (CDATA included) in the arena, trimmed of XML whitespace.
 */
const char *ts_saml_xml_text(ts_arena_t *a, const xmlNode *n);

#endif
