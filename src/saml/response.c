/*
 * Reading a SAML 2.0 Response at the ACS (response.h): the checks in the
 * order the header gives, each failure naming its check. The xmlsec1 work
 * (signatures, decryption) is in sig.c; this file decides what is verified
 * and reads the verified assertion.
 *
 * The rule behind the structure (federation-security.md §1a, §1c): the
 * assertion read is the node the verified Reference resolved. IDs are
 * checked for duplicates across the whole document first (a SAML ID value
 * against ID, Id, id and xml:id alike, so XSW7's same-ID copy never
 * reaches xmlsec), libxml2's own ID table is then dropped, and only the
 * Response root and the one Assertion consumed are registered (xmlAddID):
 * a Reference can resolve
 * nothing else. Every value is read from the Response root or that Assertion
 * through direct-child steps, never by a document-wide search
 * (ruby-saml CVE-2024-45409).
 *
 * Order with encryption: a signed Response is verified before its
 * EncryptedAssertion is decrypted, since decryption replaces the ciphertext
 * its digest covers; a tampered ciphertext in a signed Response is thus a
 * Signature failure and never reaches the decryptor. An encrypted
 * assertion without its own signature is accepted when the Response
 * signature covered its ciphertext (as Lasso does): only the IdP's key made
 * that signature, so the plaintext is the IdP's. In an unsigned Response it
 * is refused (Signature).
 */
#include "saml/response.h"

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <stdlib.h>
#include <string.h>

#include "saml/internal.h"
#include "saml/xml.h"

#define SAML_STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"
#define SAML_CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define SAML_NAMEID_ENTITY "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
#define XML_NS "http://www.w3.org/XML/1998/namespace"
/* RoleSessionName: AWS STS AssumeRoleWithSAML, [\w+=,.@-]{2,64} */
#define ROLE_SESSION_NAME_MIN 2
#define ROLE_SESSION_NAME_MAX 64
/* An AWS account ID in an ARN: twelve digits. */
#define AWS_ACCOUNT_DIGITS 12
/* xs:dateTime limits (XML Schema 2 §3.2.7): offsets within ±14:00. */
#define TZ_HOURS_MAX 14
#define FRACTION_DIGITS_MAX 9
#define DAYS_PER_ERA 146097
#define YEARS_PER_ERA 400
#define EPOCH_SHIFT_DAYS 719468
#define S_PER_DAY INT64_C(86400)
#define S_PER_HOUR 3600

static const char *const check_names[TS_SAML__CHECKS] = {
        [TS_SAML_CHECK_NONE] = "None",
        [TS_SAML_CHECK_ENCODING] = "Encoding",
        [TS_SAML_CHECK_XML] = "Xml",
        [TS_SAML_CHECK_DUPLICATE_ID] = "DuplicateId",
        [TS_SAML_CHECK_STATUS] = "Status",
        [TS_SAML_CHECK_ASSERTION_COUNT] = "AssertionCount",
        [TS_SAML_CHECK_DECRYPTION] = "Decryption",
        [TS_SAML_CHECK_SIGNATURE] = "Signature",
        [TS_SAML_CHECK_ALGORITHM] = "Algorithm",
        [TS_SAML_CHECK_ISSUER] = "Issuer",
        [TS_SAML_CHECK_DESTINATION] = "Destination",
        [TS_SAML_CHECK_AUDIENCE] = "Audience",
        [TS_SAML_CHECK_RECIPIENT] = "Recipient",
        [TS_SAML_CHECK_BEARER] = "Bearer",
        [TS_SAML_CHECK_TIME] = "Time",
        [TS_SAML_CHECK_IN_RESPONSE_TO] = "InResponseTo",
        [TS_SAML_CHECK_SUBJECT] = "Subject",
        [TS_SAML_CHECK_ATTRIBUTE] = "Attribute",
};

const char *ts_saml_check_name(enum ts_saml_check c)
{
	return (unsigned)c < TS_SAML__CHECKS ? check_names[c] : "Unknown";
}

const struct ts_saml_attribute *ts_saml_attribute(const struct ts_saml_assertion *as,
                                                  const char *name)
{
	for (size_t i = 0; as && i < as->n_attributes; i++)
		if (strcmp(as->attributes[i].name, name) == 0)
			return &as->attributes[i];
	return NULL;
}

/* One verification: the caller's inputs and what is known so far. */
struct verify {
	ts_arena_t *a;
	const struct ts_saml_verify_config *cfg;
	struct ts_saml_assertion *out;
	enum ts_saml_check *failed;
	struct ts_error *e;
	int64_t skew;
};

#define REFUSE(v, check, ...) \
	(*(v)->failed = (check), ts_error_set((v)->e, TS_ERR_UNAUTHORIZED, __func__, __VA_ARGS__))

/* ---- base64 (RFC 4648 §4; SAML bindings §3.5.4: the form value) ---------------------------- */

/*
 * Each byte's meaning: its 6-bit value (RFC 4648 Table 1), B64_SPACE for
 * space, TAB, CR and LF, B64_PAD for '=', B64_BAD for anything else.
 */
#define B64_SPACE 64
#define B64_PAD 65
#define B64_BAD 255
static const unsigned char b64_table[256] = {
        255, 255, 255, 255, 255, 255, 255, 255, 255, 64,  64,  255, 255, 64,  255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 64,  255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 62,  255, 255, 255, 63,  52,  53,  54,  55,  56,  57,
        58,  59,  60,  61,  255, 255, 255, 65,  255, 255, 255, 0,   1,   2,   3,   4,   5,   6,
        7,   8,   9,   10,  11,  12,  13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,  24,
        25,  255, 255, 255, 255, 255, 255, 26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,
        37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255,
};

/*
 * Decodes padded base64 with whitespace anywhere; NULL when malformed or longer than max.
 * Four data characters in a row take the fast path; a quantum with whitespace or
 * padding in it goes through the general one, a character at a time.
 */
static unsigned char *b64_decode(ts_arena_t *a, const char *in, size_t len, size_t max,
                                 size_t *out_len)
{
	/* four characters give three bytes; whitespace is allowed, but not without end */
	if (len / 2 > max)
		return NULL;
	const unsigned char *s = (const unsigned char *)in;
	unsigned char *out = ts_arena_alloc(a, len / 4 * 3 + 4);
	size_t n = 0, q = 0, pad = 0;
	uint32_t acc = 0;
	size_t i = 0;
	while (i < len) {
		if (q == 0 && len - i >= 4) {
			unsigned v0 = b64_table[s[i]], v1 = b64_table[s[i + 1]];
			unsigned v2 = b64_table[s[i + 2]], v3 = b64_table[s[i + 3]];
			if ((v0 | v1 | v2 | v3) < B64_SPACE) {
				uint32_t w = v0 << 18 | v1 << 12 | v2 << 6 | v3;
				out[n] = (unsigned char)(w >> 16);
				out[n + 1] = (unsigned char)(w >> 8);
				out[n + 2] = (unsigned char)w;
				n += 3;
				if (n > max)
					return NULL;
				i += 4;
				continue;
			}
		}
		unsigned v = b64_table[s[i]];
		if (v == B64_SPACE) {
			i++;
			continue;
		}
		if (v == B64_PAD) {
			if (q < 2)
				return NULL;
			pad++;
			v = 0;
		} else if (v == B64_BAD || pad) {
			return NULL;
		}
		i++;
		acc = acc << 6 | v;
		if (++q == 4) {
			out[n++] = (unsigned char)(acc >> 16);
			if (pad < 2)
				out[n++] = (unsigned char)(acc >> 8);
			if (pad < 1)
				out[n++] = (unsigned char)acc;
			if (n > max)
				return NULL;
			q = 0;
			acc = 0;
			if (pad)
				break;
		}
	}
	/* nothing but whitespace after the padding */
	for (; i < len; i++)
		if (b64_table[s[i]] != B64_SPACE)
			return NULL;
	if (q != 0 || n == 0)
		return NULL;
	*out_len = n;
	return out;
}

/* ---- xs:dateTime (XML Schema 2 §3.2.7; SAML core §1.3.3: UTC, no offset-less times) -------- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - (YEARS_PER_ERA - 1)) / YEARS_PER_ERA;
	int64_t yoe = y - era * YEARS_PER_ERA;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * DAYS_PER_ERA + doe - EPOCH_SHIFT_DAYS;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * "YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)", nothing before or after: a time
 * without a zone is refused (its meaning depends on the reader's clock).
 */
static bool parse_datetime(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec;
	if (!s || strlen(s) < sizeof "YYYY-MM-DDThh:mm:ssZ" - 1 || !digits(s, 4, &Y) ||
	    s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
	    s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (Y < 1 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] + (M == 2 && leap(Y)) || h > 23 ||
	    m > 59 || sec > 59)
		return false;
	const char *p = s + sizeof "YYYY-MM-DDThh:mm:ss" - 1;
	int frac_ms = 0;
	if (*p == '.') {
		int n = 0, scale = 100;
		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			frac_ms += (*p - '0') * scale;
			scale /= 10;
		}
		if (n == 0 || n > FRACTION_DIGITS_MAX)
			return false;
	}
	int64_t off_s = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
		    oh > TZ_HOURS_MAX || om > 59 || (oh == TZ_HOURS_MAX && om != 0))
			return false;
		off_s = (int64_t)(oh * S_PER_HOUR + om * 60) * (*p == '-' ? -1 : 1);
		p += sizeof "+hh:mm" - 1;
	} else {
		return false;
	}
	if (*p)
		return false;
	int64_t t = days_from_civil(Y, M, D) * S_PER_DAY + h * S_PER_HOUR + m * 60 + sec - off_s;
	*ms = t * 1000 + frac_ms;
	return true;
}

/*
 * SAML core §2.5.1.2 / §2.4.1.2: valid from NotBefore (inclusive) until
 * NotOnOrAfter (exclusive), each widened by the skew. A present attribute
 * that does not parse fails. *noa gets NotOnOrAfter, when present.
 */
static bool time_window(struct verify *v, const xmlNode *n, bool need_noa, int64_t *noa)
{
	const char *nb = ts_saml_xml_attr_raw(n, "NotBefore");
	const char *na = ts_saml_xml_attr_raw(n, "NotOnOrAfter");
	int64_t t;
	if (nb && (!parse_datetime(nb, &t) || v->cfg->now_ms + v->skew < t))
		return false;
	if (!na)
		return !need_noa;
	if (!parse_datetime(na, &t) || v->cfg->now_ms - v->skew >= t)
		return false;
	*noa = t;
	return true;
}

/* ---- the document ------------------------------------------------------------------------- */

/* One ID-like attribute value; saml when it is a SAML ID attribute (no namespace, "ID"). */
struct id_value {
	const char *v;
	bool saml;
};

static int cmp_id(const void *x, const void *y)
{
	return strcmp(((const struct id_value *)x)->v, ((const struct id_value *)y)->v);
}

static bool is_id_attr(const xmlAttr *at)
{
	if (at->ns)
		return at->ns->href && strcmp((const char *)at->ns->href, XML_NS) == 0 &&
		       strcmp((const char *)at->name, "id") == 0;
	return strcmp((const char *)at->name, "ID") == 0 ||
	       strcmp((const char *)at->name, "Id") == 0 ||
	       strcmp((const char *)at->name, "id") == 0;
}

struct ids {
	struct id_value *v;
	size_t n, cap;
	bool entity; /* an entity node was seen */
	bool odd;    /* an ID attribute that is not plain text */
};

static ts_err collect_ids(ts_arena_t *a, const xmlNode *n, struct ids *ids)
{
	for (; n; n = n->next) {
		if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
		    n->type == XML_ENTITY_DECL)
			ids->entity = true;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (const xmlAttr *at = n->properties; at; at = at->next) {
			if (!is_id_attr(at))
				continue;
			if (!at->children || at->children->next ||
			    at->children->type != XML_TEXT_NODE) {
				ids->odd = true;
				continue;
			}
			ts_err rc = TS_ARENA_GROW(a, ids->v, ids->n, &ids->cap, SIZE_MAX / 2);
			if (rc != TS_ERR_OK)
				return rc;
			ids->v[ids->n++] = (struct id_value){
			        (const char *)at->children->content,
			        !at->ns && strcmp((const char *)at->name, "ID") == 0};
		}
		ts_err rc = collect_ids(a, n->children, ids);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

/*
 * No SAML ID value appears twice among the ID-like attributes anywhere
 * (federation-security.md §1a, XSW7 and XSW8): a Reference "#" + ID then
 * names one element whatever resolves it. Two xmldsig Id attributes alike
 * are left alone: pysaml2 names both Signatures of a Response with an
 * encrypted assertion "Signature1", and no Reference may point at them.
 */
static ts_err unique_ids(struct verify *v, xmlDocPtr doc)
{
	struct ids ids = {0};
	if (collect_ids(v->a, doc->children, &ids) != TS_ERR_OK)
		return REFUSE(v, TS_SAML_CHECK_XML, "too many ID attributes");
	if (ids.entity)
		return REFUSE(v, TS_SAML_CHECK_XML, "entity references are not allowed");
	if (ids.odd)
		return REFUSE(v, TS_SAML_CHECK_DUPLICATE_ID, "an ID attribute is not plain text");
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof *ids.v, cmp_id);
	for (size_t i = 0; i < ids.n;) {
		size_t j = i;
		bool saml = false;
		for (; j < ids.n && strcmp(ids.v[i].v, ids.v[j].v) == 0; j++)
			saml |= ids.v[j].saml;
		if (j - i > 1 && saml)
			return REFUSE(v, TS_SAML_CHECK_DUPLICATE_ID, "two elements share an ID");
		i = j;
	}
	return TS_ERR_OK;
}

/*
 * An xs:ID is an NCName (SAML core §1.3.4); this takes its ASCII part. It
 * matters beyond the schema: xmlsec resolves "#" + id as
 * xpointer(id('...')), whose id() splits on whitespace and whose quotes an
 * ID could otherwise close.
 */
static bool ncname(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* Registers el's ID attribute as the document's one way to resolve "#" + value. */
static bool register_id(xmlNodePtr el)
{
	xmlAttrPtr at = xmlHasNsProp(el, (const xmlChar *)"ID", NULL);
	const char *id = ts_saml_xml_attr_raw(el, "ID");
	return at && ncname(id) && xmlAddID(NULL, el->doc, (const xmlChar *)id, at) != NULL;
}

/* The one ds:Signature child of el, verified; *signed_ false when el has none. */
static ts_err verify_element(struct verify *v, xmlNodePtr el, xmlSecKeyPtr const *keys,
                             const char *const *pems, size_t n_keys, bool *signed_)
{
	*signed_ = false;
	size_t n = ts_saml_xml_count(el, TS_SAML_NS_DSIG, "Signature");
	if (n == 0)
		return TS_ERR_OK;
	if (n > 1)
		return REFUSE(v, TS_SAML_CHECK_SIGNATURE, "an element holds two Signatures");
	ts_err rc =
	        ts__saml_signature_verify(el, ts_saml_xml_child(el, TS_SAML_NS_DSIG, "Signature"),
	                                  ts_saml_xml_attr_raw(el, "ID"), keys, pems, n_keys,
	                                  v->cfg->allow_sha1, v->failed, v->e);
	*signed_ = rc == TS_ERR_OK;
	return rc;
}

/* The text of a text-only element equals want. */
static bool text_is(struct verify *v, const xmlNode *n, const char *want)
{
	const char *t = n ? ts_saml_xml_text(v->a, n) : NULL;
	return t && want && strcmp(t, want) == 0;
}

/* SAML profiles §4.1.4.2: the IdP's entity ID, with the entity Format when one is given. */
static bool issuer_is(struct verify *v, const xmlNode *n, const char *want)
{
	const char *format = ts_saml_xml_attr_raw(n, "Format");
	return text_is(v, n, want) && (!format || strcmp(format, SAML_NAMEID_ENTITY) == 0);
}

/* ---- the assertion ------------------------------------------------------------------------ */

/* SAML core §2.5.1: Conditions, required here (stricter than mellon) with an AudienceRestriction.
 */
static ts_err check_conditions(struct verify *v, xmlNodePtr as, int64_t *noa)
{
	xmlNodePtr c = ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "Conditions");
	if (!c || ts_saml_xml_next(c, TS_SAML_NS_ASSERTION, "Conditions"))
		return REFUSE(v, TS_SAML_CHECK_AUDIENCE,
		              "the assertion has no (or two) Conditions");
	size_t restrictions = 0;
	for (xmlNodePtr r = c->children; r; r = r->next) {
		if (r->type != XML_ELEMENT_NODE)
			continue;
		/* §2.5.1.5, §2.5.1.6: understood and harmless here */
		if (ts_saml_xml_is(r, TS_SAML_NS_ASSERTION, "OneTimeUse") ||
		    ts_saml_xml_is(r, TS_SAML_NS_ASSERTION, "ProxyRestriction"))
			continue;
		/* §2.5.1: a condition not understood makes the assertion Indeterminate */
		if (!ts_saml_xml_is(r, TS_SAML_NS_ASSERTION, "AudienceRestriction"))
			return REFUSE(v, TS_SAML_CHECK_AUDIENCE,
			              "the Conditions hold an unknown condition");
		/* §2.5.1.4: each restriction must name us; within one, any Audience may */
		bool ours = false;
		for (xmlNodePtr au = ts_saml_xml_child(r, TS_SAML_NS_ASSERTION, "Audience");
		     au && !ours; au = ts_saml_xml_next(au, TS_SAML_NS_ASSERTION, "Audience"))
			ours = text_is(v, au, v->cfg->sp_entity_id);
		if (!ours)
			return REFUSE(v, TS_SAML_CHECK_AUDIENCE,
			              "an AudienceRestriction does not name this SP");
		restrictions++;
	}
	if (restrictions == 0)
		return REFUSE(v, TS_SAML_CHECK_AUDIENCE,
		              "the Conditions have no AudienceRestriction");
	if (!time_window(v, c, false, noa))
		return REFUSE(v, TS_SAML_CHECK_TIME, "the Conditions are not valid now");
	return TS_ERR_OK;
}

/*
 * SAML profiles §4.1.4.2: a bearer SubjectConfirmation whose Data has the
 * ACS URL as Recipient, a NotOnOrAfter still ahead, and InResponseTo equal
 * to the Response's when both carry one. The first bearer confirmation that
 * passes is used; when none does, the first one's failure is reported.
 */
static ts_err check_bearer(struct verify *v, xmlNodePtr subject, const char *resp_irt, int64_t *noa,
                           const char **irt)
{
	enum ts_saml_check first = TS_SAML_CHECK_BEARER;
	const char *why = "the Subject has no bearer SubjectConfirmation";
	bool seen = false;
	for (xmlNodePtr sc =
	             ts_saml_xml_child(subject, TS_SAML_NS_ASSERTION, "SubjectConfirmation");
	     sc; sc = ts_saml_xml_next(sc, TS_SAML_NS_ASSERTION, "SubjectConfirmation")) {
		const char *method = ts_saml_xml_attr_raw(sc, "Method");
		if (!method || strcmp(method, SAML_CM_BEARER) != 0)
			continue;
		xmlNodePtr d =
		        ts_saml_xml_child(sc, TS_SAML_NS_ASSERTION, "SubjectConfirmationData");
		const char *rcpt = ts_saml_xml_attr_raw(d, "Recipient");
		const char *sc_irt = ts_saml_xml_attr_raw(d, "InResponseTo");
		enum ts_saml_check c = TS_SAML_CHECK_NONE;
		const char *w = NULL;
		int64_t t = 0;
		if (!d || !rcpt || strcmp(rcpt, v->cfg->acs_url) != 0) {
			c = TS_SAML_CHECK_RECIPIENT;
			w = "the bearer Recipient is not the ACS URL";
		} else if (!time_window(v, d, true, &t)) {
			c = TS_SAML_CHECK_TIME;
			w = "the bearer confirmation is not valid now";
		} else if (sc_irt && resp_irt && strcmp(sc_irt, resp_irt) != 0) {
			c = TS_SAML_CHECK_IN_RESPONSE_TO;
			w = "the Response and the assertion answer different requests";
		}
		if (c == TS_SAML_CHECK_NONE) {
			*noa = t;
			*irt = sc_irt;
			return TS_ERR_OK;
		}
		if (!seen) {
			seen = true;
			first = c;
			why = w;
		}
	}
	return REFUSE(v, first, "%s", why);
}

/* arn:<partition>:iam::<12 digits>:<kind><name>, name from [\w+=,.@/-] (IAM naming rules). */
static bool arn_ok(const char *s, size_t n, const char *kind)
{
	static const char prefix[] = "arn:";
	if (n < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1) != 0)
		return false;
	size_t i = sizeof prefix - 1, start = i;
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
		i++;
	static const char iam[] = ":iam::";
	if (i == start || n - i < sizeof iam - 1 || memcmp(s + i, iam, sizeof iam - 1) != 0)
		return false;
	i += sizeof iam - 1;
	for (int k = 0; k < AWS_ACCOUNT_DIGITS; k++, i++)
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
	size_t kl = strlen(kind);
	if (n - i < kl + 1 || memcmp(s + i, kind, kl) != 0)
		return false;
	for (i += kl; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_+=.@/-", s[i])))
			return false;
	return true;
}

/* docs/product.md §6: "role_arn,provider_arn" in either order. */
static bool parse_role(ts_arena_t *a, const char *val, struct ts_signin_aws_role *r)
{
	const char *comma = strchr(val, ',');
	if (!comma || strchr(comma + 1, ','))
		return false;
	const char *p[2] = {val, comma + 1};
	size_t n[2] = {(size_t)(comma - val), strlen(comma + 1)};
	for (int i = 0; i < 2; i++) {
		while (n[i] && *p[i] == ' ')
			p[i]++, n[i]--;
		while (n[i] && p[i][n[i] - 1] == ' ')
			n[i]--;
	}
	int role = arn_ok(p[0], n[0], ":role/") ? 0 : 1;
	if (!arn_ok(p[role], n[role], ":role/") ||
	    !arn_ok(p[1 - role], n[1 - role], ":saml-provider/"))
		return false;
	r->role_arn = ts_arena_strndup(a, p[role], n[role]);
	r->provider_arn = ts_arena_strndup(a, p[1 - role], n[1 - role]);
	return true;
}

static bool session_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < ROLE_SESSION_NAME_MIN || n > ROLE_SESSION_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_+=,.@-", s[i])))
			return false;
	return true;
}

/* SAML core §2.7.3: every Attribute of every AttributeStatement, values text only. */
static ts_err read_attributes(struct verify *v, xmlNodePtr as)
{
	size_t n = 0;
	for (xmlNodePtr st = ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "AttributeStatement"); st;
	     st = ts_saml_xml_next(st, TS_SAML_NS_ASSERTION, "AttributeStatement"))
		n += ts_saml_xml_count(st, TS_SAML_NS_ASSERTION, "Attribute");
	if (n > TS_SAML_ATTRIBUTES_MAX)
		return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE, "more than %d attributes",
		              TS_SAML_ATTRIBUTES_MAX);
	struct ts_saml_attribute *attrs = n ? ts_arena_alloc(v->a, n * sizeof *attrs) : NULL;
	size_t k = 0;
	for (xmlNodePtr st = ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "AttributeStatement"); st;
	     st = ts_saml_xml_next(st, TS_SAML_NS_ASSERTION, "AttributeStatement"))
		for (xmlNodePtr at = ts_saml_xml_child(st, TS_SAML_NS_ASSERTION, "Attribute"); at;
		     at = ts_saml_xml_next(at, TS_SAML_NS_ASSERTION, "Attribute")) {
			struct ts_saml_attribute *x = &attrs[k++];
			x->name = ts_saml_xml_attr_raw(at, "Name");
			if (!x->name || !*x->name)
				return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE,
				              "an Attribute has no Name");
			size_t nv = ts_saml_xml_count(at, TS_SAML_NS_ASSERTION, "AttributeValue");
			if (nv > TS_SAML_VALUES_MAX)
				return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE, "more than %d values",
				              TS_SAML_VALUES_MAX);
			x->values = nv ? ts_arena_alloc(v->a, nv * sizeof *x->values) : NULL;
			for (xmlNodePtr av =
			             ts_saml_xml_child(at, TS_SAML_NS_ASSERTION, "AttributeValue");
			     av;
			     av = ts_saml_xml_next(av, TS_SAML_NS_ASSERTION, "AttributeValue")) {
				/* comment injection (federation-security.md §1b) */
				const char *t = ts_saml_xml_text(v->a, av);
				if (!t)
					return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE,
					              "an AttributeValue holds markup");
				x->values[x->n_values++] = t;
			}
		}
	v->out->attributes = attrs;
	v->out->n_attributes = n;
	const struct ts_saml_attribute *role = ts_saml_attribute(v->out, TS_SAML_ATTR_ROLE);
	if (role && role->n_values) {
		struct ts_signin_aws_role *r = ts_arena_alloc(v->a, role->n_values * sizeof *r);
		for (size_t i = 0; i < role->n_values; i++)
			if (!parse_role(v->a, role->values[i], &r[i]))
				return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE,
				              "a Role value is malformed");
		v->out->roles = r;
		v->out->n_roles = role->n_values;
	}
	const struct ts_saml_attribute *rsn =
	        ts_saml_attribute(v->out, TS_SAML_ATTR_ROLE_SESSION_NAME);
	if (rsn) {
		if (rsn->n_values != 1 || !session_name_ok(rsn->values[0]))
			return REFUSE(v, TS_SAML_CHECK_ATTRIBUTE,
			              "the RoleSessionName is malformed");
		v->out->role_session_name = rsn->values[0];
	}
	return TS_ERR_OK;
}

/* Everything read from the verified assertion, in the header's order. */
static ts_err check_assertion(struct verify *v, xmlNodePtr root, xmlNodePtr as)
{
	const struct ts_saml_verify_config *cfg = v->cfg;
	struct ts_saml_assertion *out = v->out;
	/* SAML core §3.2.2: the Response's Issuer is optional, the Assertion's is not */
	xmlNodePtr ri = ts_saml_xml_child(root, TS_SAML_NS_ASSERTION, "Issuer");
	if (ri && !issuer_is(v, ri, cfg->idp_entity_id))
		return REFUSE(v, TS_SAML_CHECK_ISSUER, "the Response Issuer is not the IdP");
	if (!issuer_is(v, ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "Issuer"),
	               cfg->idp_entity_id))
		return REFUSE(v, TS_SAML_CHECK_ISSUER, "the Assertion Issuer is not the IdP");
	out->issuer = ts_arena_strdup(v->a, cfg->idp_entity_id);
	/*
	 * SAML bindings §3.5.5.2: a signed message over POST must carry Destination;
	 * an unsigned Response (its Assertion signed) may leave it out, and proves
	 * nothing with it: the Recipient inside the signed assertion is checked below
	 */
	const char *dest = ts_saml_xml_attr_raw(root, "Destination");
	if (dest ? strcmp(dest, cfg->acs_url) != 0 : out->response_signed)
		return REFUSE(v, TS_SAML_CHECK_DESTINATION, "the Destination is not the ACS URL");
	int64_t cond_noa = INT64_MAX;
	ts_err rc = check_conditions(v, as, &cond_noa);
	if (rc != TS_ERR_OK)
		return rc;
	xmlNodePtr subject = ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "Subject");
	if (!subject)
		return REFUSE(v, TS_SAML_CHECK_SUBJECT, "the assertion has no Subject");
	/* the Response's InResponseTo counts only when a verified signature covers it */
	const char *resp_irt = ts_saml_xml_attr_raw(root, "InResponseTo");
	int64_t scd_noa = 0;
	const char *scd_irt = NULL;
	rc = check_bearer(v, subject, resp_irt, &scd_noa, &scd_irt);
	if (rc != TS_ERR_OK)
		return rc;
	out->in_response_to = scd_irt ? scd_irt : out->response_signed ? resp_irt : NULL;
	out->not_on_or_after_ms = scd_noa < cond_noa ? scd_noa : cond_noa;
	/* SAML core §2.4.1: the NameID, text only (comment injection, §1b) */
	xmlNodePtr nid = ts_saml_xml_child(subject, TS_SAML_NS_ASSERTION, "NameID");
	const char *name = nid ? ts_saml_xml_text(v->a, nid) : NULL;
	if (!name || !*name || ts_saml_xml_next(nid, TS_SAML_NS_ASSERTION, "NameID"))
		return REFUSE(v, TS_SAML_CHECK_SUBJECT, "the NameID is missing or holds markup");
	out->name_id = name;
	out->name_id_format = ts_saml_xml_attr_raw(nid, "Format");
	out->session_index = ts_saml_xml_attr_raw(
	        ts_saml_xml_child(as, TS_SAML_NS_ASSERTION, "AuthnStatement"), "SessionIndex");
	return read_attributes(v, as);
}

ts_err ts_saml_response_verify(ts_arena_t *a, const char *b64, size_t len,
                               const struct ts_saml_verify_config *cfg,
                               struct ts_saml_assertion *out, enum ts_saml_check *failed,
                               struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	*failed = TS_SAML_CHECK_NONE;
	struct verify v = {.a = a,
	                   .cfg = cfg,
	                   .out = out,
	                   .failed = failed,
	                   .e = e,
	                   .skew = cfg->skew_ms > 0 ? cfg->skew_ms : TS_SAML_SKEW_DEFAULT_MS};
	struct ts_saml_assertion empty = {0};
	ts_err rc = TS_ERR_OK;
	size_t n = 0;
	unsigned char *xml = b64 ? b64_decode(a, b64, len, TS_SAML_RESPONSE_MAX, &n) : NULL;
	if (!xml) {
		rc = REFUSE(&v, TS_SAML_CHECK_ENCODING,
		            "the SAMLResponse is not base64 of 1 to %d bytes",
		            TS_SAML_RESPONSE_MAX);
		goto out;
	}
	xmlDocPtr doc = NULL;
	struct ts_error pe = {0};
	if (ts_saml_xml_parse(a, (const char *)xml, n, TS_SAML_RESPONSE_MAX, &doc, &pe) !=
	    TS_ERR_OK) {
		rc = REFUSE(&v, TS_SAML_CHECK_XML, "%s", pe.message);
		goto out;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!ts_saml_xml_is(root, TS_SAML_NS_PROTOCOL, "Response")) {
		rc = REFUSE(&v, TS_SAML_CHECK_XML, "the root is not a samlp:Response");
		goto out;
	}
	if ((rc = unique_ids(&v, doc)) != TS_ERR_OK)
		goto out;
	/* only the IDs registered below resolve a Reference (xml:id ones are dropped) */
	xmlFreeIDTable(doc->ids);
	doc->ids = NULL;
	const char *resp_id = ts_saml_xml_attr_raw(root, "ID");
	if (!ncname(resp_id)) {
		rc = REFUSE(&v, TS_SAML_CHECK_XML, "the Response has no ID, or not an NCName");
		goto out;
	}
	/* SAML core §3.2.2.2 */
	xmlNodePtr status = ts_saml_xml_child(root, TS_SAML_NS_PROTOCOL, "Status");
	const char *code = ts_saml_xml_attr_raw(
	        ts_saml_xml_child(status, TS_SAML_NS_PROTOCOL, "StatusCode"), "Value");
	if (!code || strcmp(code, SAML_STATUS_SUCCESS) != 0 ||
	    ts_saml_xml_next(status, TS_SAML_NS_PROTOCOL, "Status")) {
		rc = REFUSE(&v, TS_SAML_CHECK_STATUS, "the Status is not Success");
		goto out;
	}
	/* exactly one assertion, a direct child (Lasso CVE-2021-28091, XSW3, XSW5, XSW10) */
	size_t n_plain = ts_saml_xml_count(root, TS_SAML_NS_ASSERTION, "Assertion");
	size_t n_enc = ts_saml_xml_count(root, TS_SAML_NS_ASSERTION, "EncryptedAssertion");
	if (n_plain + n_enc != 1) {
		rc = REFUSE(&v, TS_SAML_CHECK_ASSERTION_COUNT, "the Response holds %zu assertions",
		            n_plain + n_enc);
		goto out;
	}
	xmlSecKeyPtr *idp_keys = NULL;
	size_t n_idp_keys = 0;
	const char **idp_pems = NULL;
	ts__saml_keys_load(a, cfg->idp_certs_pem, cfg->n_idp_certs, true, &idp_keys, &idp_pems,
	                   &n_idp_keys);
	if (!register_id(root)) {
		rc = REFUSE(&v, TS_SAML_CHECK_XML, "the Response ID cannot be registered");
		goto out;
	}
	if ((rc = verify_element(&v, root, idp_keys, idp_pems, n_idp_keys,
	                         &out->response_signed)) != TS_ERR_OK)
		goto out;
	xmlNodePtr as = ts_saml_xml_child(root, TS_SAML_NS_ASSERTION, "Assertion");
	if (n_enc) {
		xmlSecKeyPtr *sp_keys = NULL;
		size_t n_sp_keys = 0;
		ts__saml_keys_load(a, cfg->sp_keys_pem, cfg->n_sp_keys, false, &sp_keys, NULL,
		                   &n_sp_keys);
		rc = ts__saml_decrypt(
		        ts_saml_xml_child(root, TS_SAML_NS_ASSERTION, "EncryptedAssertion"),
		        sp_keys, n_sp_keys, &as, failed, e);
		if (rc != TS_ERR_OK)
			goto out;
		out->encrypted = true;
		/* the plaintext joins the document: its IDs are checked like the rest */
		if ((rc = unique_ids(&v, doc)) != TS_ERR_OK)
			goto out;
	}
	if (!register_id(as)) {
		rc = REFUSE(&v, TS_SAML_CHECK_XML, "the Assertion has no usable ID");
		goto out;
	}
	if ((rc = verify_element(&v, as, idp_keys, idp_pems, n_idp_keys, &out->assertion_signed)) !=
	    TS_ERR_OK)
		goto out;
	if (!out->response_signed && !out->assertion_signed) {
		rc = REFUSE(&v, TS_SAML_CHECK_SIGNATURE,
		            "neither the Response nor the Assertion is signed");
		goto out;
	}
	out->response_id = resp_id;
	out->assertion_id = ts_saml_xml_attr_raw(as, "ID");
	rc = check_assertion(&v, root, as);
out:
	if (rc != TS_ERR_OK && rc != TS_ERR_UNAUTHORIZED)
		*failed = TS_SAML_CHECK_NONE;
	if (rc != TS_ERR_OK)
		*out = empty;
	return rc;
}
