"""
The hostile fixtures of federation-security.md §1, each built from a valid
Response (samlforge), each changing one thing. A case is

  Case(name, build, check, lasso)

  build(c)  -> the Response XML (bytes), or str for a raw form value; c is a Ctx
               (forge, the InResponseTo of the request Tessera issued to this
               browser, the users)
  check     the audit errorCode(s) Tessera must name (contract: ts_saml_check_name
            values and the module checks), a tuple when the contract allows two
  lasso     None: Lasso (the second opinion) refuses it too; else why Tessera is
            stricter (Lasso accepts it): written beside the fixture, checked to be true.
            Lasso holds the SP private keys (samlseal), so the encrypted fixtures are
            decrypted and judged by it like the others

Victim = the user the attacker wants to be (provisioned, licensed, never signed
in); Mallory = the attacker's own account at the IdP (also provisioned).
"""
import copy
import time

from lxml import etree

import samlforge as F
import samlidp as I
from samlforge import A, DS, P

SKEW = 60
ROLE_DEV = "arn:aws:iam::123456789012:role/Dev,arn:aws:iam::123456789012:saml-provider/Okta"
ROLE_ADMIN = "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Okta"

# What Lasso (a fresh LassoLogin per message, as mod_auth_mellon uses it) leaves to its caller.
L_STATE = "browser binding and single use of the request are the caller's state: a fresh LassoLogin knows no request"
L_REPLAY = "the replay cache is the caller's (mellon am_validate_unique_assertion_id); a fresh LassoLogin has no session"
L_TIME = "Lasso does not check Conditions/SubjectConfirmationData times (mellon am_validate_conditions does)"
L_AUD = "Lasso does not check Audience (mellon am_validate_conditions does)"
L_DEST = "Lasso does not check Destination (mellon compares it with the URL)"
L_RCPT = "Lasso does not check Recipient or the bearer method (mellon am_validate_subject does)"
L_COUNT = "Lasso takes several assertions (mellon refuses 'More than one Assertion in response')"
L_TEXT = "Lasso reads the NameID/attribute text around a comment; Tessera refuses markup in values"
L_ROLE = "Lasso knows nothing of the AWS Role attribute"
L_IRT = "Lasso compares SCD InResponseTo only with a request it built itself"
L_SHA1 = "Debian's Lasso accepts SHA-1 (no --with-min-hash-algo); Tessera refuses weak algorithms by default"
L_DUP = "Lasso consumes Mallory's own signed assertion and ignores the Extensions copy; Tessera refuses any duplicate ID"
L_COND = "Lasso does not require Conditions/AudienceRestriction (neither does mellon)"
L_RSA15 = ("Lasso (xmlsec1 1.2.37) decrypts RSA-1_5 key transport; Tessera takes RSA-OAEP only "
           "(Bleichenbacher's padding oracle, deprecated by xmlenc 1.1 section 5.4.1)")


class Ctx:
    def __init__(self, forge, irt, victim, mallory, other_irt=None):
        self.forge = forge
        self.irt = irt
        self.victim = victim
        self.mallory = mallory
        self.other_irt = other_irt
        self.now = time.time()

    def draft(self, who=None, attributes=None, irt="default"):
        return self.forge.draft(who or self.victim, self.irt if irt == "default" else irt, attributes)


class Case:
    def __init__(self, name, build, check, lasso=None, sp_initiated=True, subject="victim"):
        self.name = name
        self.build = build
        self.check = check if isinstance(check, tuple) else (check,)
        self.lasso = lasso
        self.sp_initiated = sp_initiated
        self.subject = subject

    def __repr__(self):
        return self.name


def _signed_both(c, who=None, attributes=None):
    return F.reparse(c.forge.sign(c.draft(who, attributes), assertion=True, response=True))


def _mallory_signed_response(c):
    """Mallory's own valid Response, only the Response signed (the XSW1/2 starting point)."""
    return F.reparse(c.forge.sign(c.draft(c.mallory), assertion=False, response=True))


def _mallory_signed_assertion(c):
    return F.reparse(c.forge.sign(c.draft(c.mallory), assertion=True, response=False))


def _evil(assertion, victim):
    assertion.find(A + "Subject/" + A + "NameID").text = victim


# ---- 1a: signature wrapping


def xsw1(c):
    root = _mallory_signed_response(c)
    sig = F.signature_of(root)
    dup = F.strip_signatures(copy.deepcopy(root))
    sig.append(dup)
    root.set("ID", F.rand_id())
    _evil(root.find(A + "Assertion"), c.victim)
    return F.dump(root)


def xsw2(c):
    root = _mallory_signed_response(c)
    sig = F.signature_of(root)
    dup = F.strip_signatures(copy.deepcopy(root))
    sig.addprevious(dup)
    root.set("ID", F.rand_id())
    _evil(root.find(A + "Assertion"), c.victim)
    return F.dump(root)


def xsw3(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    evil = F.strip_signatures(copy.deepcopy(signed))
    evil.set("ID", F.rand_id())
    _evil(evil, c.victim)
    signed.addprevious(evil)
    return F.dump(root)


def xsw4(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    evil = F.strip_signatures(copy.deepcopy(signed))
    evil.set("ID", F.rand_id())
    _evil(evil, c.victim)
    signed.addprevious(evil)
    evil.append(signed)  # moves it
    return F.dump(root)


def xsw5(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    clean = F.strip_signatures(copy.deepcopy(signed))
    signed.set("ID", F.rand_id())
    _evil(signed, c.victim)
    root.append(clean)
    return F.dump(root)


def xsw6(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    clean = F.strip_signatures(copy.deepcopy(signed))
    signed.set("ID", F.rand_id())
    _evil(signed, c.victim)
    F.signature_of(signed).append(clean)
    return F.dump(root)


def xsw7(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    evil = F.strip_signatures(copy.deepcopy(signed))
    _evil(evil, c.victim)
    ext = etree.Element(P + "Extensions")
    ext.append(evil)  # same ID as the signed one
    root.find(A + "Issuer").addnext(ext)
    return F.dump(root)


def xsw8(c):
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    clean = F.strip_signatures(copy.deepcopy(signed))
    signed.set("ID", F.rand_id())
    _evil(signed, c.victim)
    obj = etree.SubElement(F.signature_of(signed), DS + "Object")
    obj.append(clean)
    return F.dump(root)


def xsw10(c):
    # CVE-2021-28091: an unsigned Response, two Assertions, only the first signed
    root = _mallory_signed_assertion(c)
    signed = root.find(A + "Assertion")
    evil = F.strip_signatures(copy.deepcopy(signed))
    evil.set("ID", F.rand_id())
    _evil(evil, c.victim)
    signed.addnext(evil)
    return F.dump(root)


def signed_error_plus_object(c):
    # oneuptime#2981: a genuine signed error Response, a forged Assertion in a ds:Object
    d = c.draft(c.mallory)
    d.root.find(P + "Status/" + P + "StatusCode").set("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
    forged = d.assertion
    d.root.remove(forged)
    root = F.reparse(c.forge.sign(d, assertion=False, response=True))
    extra = F.signature_template()
    obj = etree.SubElement(extra, DS + "Object")
    _evil(forged, c.victim)
    obj.append(forged)
    root.append(extra)
    return F.dump(root)


# ---- 1b: other cases


def comment_in_name_id(c):
    d = c.draft(c.victim + ".evil.example")
    root = F.reparse(c.forge.sign(d, assertion=True, response=True))
    nid = root.find(A + "Assertion/" + A + "Subject/" + A + "NameID")
    nid.text = c.victim
    nid.append(etree.Comment(""))
    nid[-1].tail = ".evil.example"
    return F.dump(root)


def child_in_name_id(c):
    d = c.draft()
    nid = d.name_id
    nid.text = ""
    b = etree.SubElement(nid, A + "NameID")
    b.text = c.victim
    return c.forge.sign(d, assertion=True, response=True)


def _comment_in_attribute(c, name, signed_value, head, tail):
    d = c.draft(attributes={I.ROLE_ATTR: [ROLE_DEV], I.SESSION_ATTR: "victim"})
    d.attribute_value(name).text = signed_value
    root = F.reparse(c.forge.sign(d, assertion=True, response=True))
    for at in root.iter(A + "Attribute"):
        if at.get("Name") == name:
            v = at.find(A + "AttributeValue")
            v.text = head
            v.append(etree.Comment(""))
            v[-1].tail = tail
    return F.dump(root)


def comment_in_role(c):
    # signed: a pair whose provider is "Okta-evil"; read up to the comment: the Admin pair
    return _comment_in_attribute(c, I.ROLE_ATTR, ROLE_ADMIN + "-evil", ROLE_ADMIN, "-evil")


def comment_in_session_name(c):
    return _comment_in_attribute(c, I.SESSION_ATTR, "admin.evil", "admin", ".evil")


def stripped(c):
    return F.dump(F.strip_signatures(_signed_both(c)))


def unsigned_assertion_tampered(c):
    d = c.draft(c.mallory)
    root = F.reparse(c.forge.sign(d, assertion=False, response=True))
    _evil(root.find(A + "Assertion"), c.victim)
    return F.dump(root)


def assertion_tampered(c):
    root = F.reparse(c.forge.sign(c.draft(c.mallory), assertion=True, response=False))
    _evil(root.find(A + "Assertion"), c.victim)
    return F.dump(root)


def unsigned_response_destination_changed(c):
    root = F.reparse(c.forge.sign(c.draft(), assertion=True, response=False))
    root.set("Destination", "https://sp.evil.example/acs")
    return F.dump(root)


def unsigned_response_status_changed(c):
    root = F.reparse(c.forge.sign(c.draft(), assertion=True, response=False))
    root.find(P + "Status/" + P + "StatusCode").set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
    return F.dump(root)


def unsigned_response_irt_changed(c):
    root = F.reparse(c.forge.sign(c.draft(), assertion=True, response=False))
    root.set("InResponseTo", c.other_irt)
    return F.dump(root)


XXE_DOCTYPE = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS = ("<!DOCTYPE r [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
          "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
          "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">]>")


def _with_doctype(c, doctype, ref):
    xml = _signed_both(c)
    body = etree.tostring(xml).decode()
    body = body.replace(">" + c.victim + "</", ">" + ref + "</", 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + "\n" + body).encode()


def xxe(c):
    return _with_doctype(c, XXE_DOCTYPE, "&x;")


def billion_laughs(c):
    return _with_doctype(c, LAUGHS, "&f;")


def _timed(c, where, attr, delta, literal=None):
    d = c.draft()
    node = d.conditions if where == "conditions" else d.scd
    if literal is not None:
        node.set(attr, literal)
    else:
        t = c.now + delta
        node.set(attr, F.iso(int(t) + 1 if delta > 0 else int(t)))
    return c.forge.sign(d, assertion=True, response=True)


def audience(value=None, remove=False, extra_wrong=False, no_conditions=False):
    def build(c):
        d = c.draft()
        cond = d.conditions
        if no_conditions:
            d.assertion.remove(cond)
        elif remove:
            for ar in cond.findall(A + "AudienceRestriction"):
                cond.remove(ar)
        elif extra_wrong:
            ar = etree.SubElement(cond, A + "AudienceRestriction")
            etree.SubElement(ar, A + "Audience").text = "https://other-sp.example/"
        else:
            d.find(A + "Conditions/" + A + "AudienceRestriction/" + A + "Audience").text = value
        return c.forge.sign(d, assertion=True, response=True)
    return build


def response_destination(c):
    d = c.draft()
    d.root.set("Destination", d.root.get("Destination").replace("/acs", "/acs2"))
    return c.forge.sign(d, assertion=True, response=True)


def recipient(c):
    d = c.draft()
    d.scd.set("Recipient", "https://sp.evil.example/acs")
    return c.forge.sign(d, assertion=True, response=True)


def not_bearer(c):
    d = c.draft()
    d.find(A + "Subject/" + A + "SubjectConfirmation").set("Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
    return c.forge.sign(d, assertion=True, response=True)


def issuer(where):
    def build(c):
        d = c.draft()
        node = d.root if where == "response" else d.assertion
        node.find(A + "Issuer").text = "https://idp.evil.example/saml"
        return c.forge.sign(d, assertion=True, response=True)
    return build


def irt(which):
    def build(c):
        if which == "unknown":
            d = c.draft(irt=F.rand_id())
        else:  # the request another browser was given
            d = c.draft(irt=c.other_irt)
        return c.forge.sign(d, assertion=True, response=True)
    return build


def scd_irt_mismatch(c):
    d = c.draft()
    d.scd.set("InResponseTo", F.rand_id())
    return c.forge.sign(d, assertion=True, response=True)


def attacker_key(c):
    return c.forge.sign(c.draft(), assertion=True, response=True, key=c.forge.attacker)


def attacker_key_metadata_cert_in_keyinfo(c):
    return c.forge.sign(c.draft(), assertion=True, response=True, key=c.forge.attacker,
                        keyinfo_cert=c.forge.key[2])


def sha1(c):
    return c.forge.sign(c.draft(), assertion=True, response=True, alg=I.RSA_SHA1, digest=I.SHA1)


def sha1_digest(c):
    return c.forge.sign(c.draft(), assertion=True, response=True, digest=I.SHA1)


def two_assertions(c):
    d = c.draft()
    second = copy.deepcopy(d.assertion)
    second.set("ID", F.rand_id())
    d.assertion.addnext(second)
    return c.forge.sign(d, assertion=True, response=True)


def two_assertions_two_issuers(c):
    d = c.draft()
    second = copy.deepcopy(d.assertion)
    second.set("ID", F.rand_id())
    second.find(A + "Issuer").text = "https://idp.evil.example/saml"
    d.assertion.addnext(second)
    return c.forge.sign(d, assertion=True, response=True)


def hmac_public_key(c):
    return c.forge.sign_hmac(c.draft())


def no_assertion(c):
    d = c.draft()
    d.root.remove(d.assertion)
    return c.forge.sign(d, assertion=False, response=True)


def no_name_id(c):
    d = c.draft()
    d.name_id.getparent().remove(d.name_id)
    return c.forge.sign(d, assertion=True, response=True)


def malformed_role(c):
    d = c.draft(attributes={I.ROLE_ATTR: ["arn:aws:iam::123456789012:role/Dev"]})
    return c.forge.sign(d, assertion=True, response=True)


def session_name(value):
    def build(c):
        return c.forge.sign(c.draft(attributes={I.ROLE_ATTR: [ROLE_DEV], I.SESSION_ATTR: value}),
                            assertion=True, response=True)
    return build


def not_base64(c):
    return "this is %% not base64 !!"


def not_xml(c):
    return I.b64(b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'><unclosed>")


def _encrypted(c, signed=True, cert=None, data_alg=F.AES256_GCM, key_alg=F.RSA_OAEP):
    xml = c.forge.sign(c.draft(), assertion=signed, response=False)
    return c.forge.encrypt(xml, cert or c.forge.idp.sp.encryption_certs[0], data_alg, key_alg)


def enc_unsigned(c):
    return _encrypted(c, signed=False)


def enc_other_key(c):
    return _encrypted(c, cert=c.forge.attacker[2])


def enc_rsa15(c):
    return _encrypted(c, key_alg=F.RSA_1_5)


def enc_garbage(c):
    root = F.reparse(_encrypted(c))
    for cv in root.iter("{http://www.w3.org/2001/04/xmlenc#}CipherValue"):
        cv.text = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    return F.dump(root)


def enc_mixed(c):
    xml = c.forge.sign(c.draft(), assertion=True, response=False)
    enc = F.reparse(c.forge.encrypt(xml, c.forge.idp.sp.encryption_certs[0]))
    plain = F.reparse(xml).find(A + "Assertion")
    plain.set("ID", F.rand_id())
    enc.find(A + "EncryptedAssertion").addnext(plain)
    return F.dump(enc)

CASES = [
    Case("XSW1", xsw1, "DuplicateId"),
    Case("XSW2", xsw2, "DuplicateId"),
    Case("XSW3", xsw3, "AssertionCount"),
    Case("XSW4", xsw4, "Signature"),
    Case("XSW5", xsw5, "AssertionCount"),
    Case("XSW6", xsw6, "Signature"),
    Case("XSW7", xsw7, "DuplicateId", L_DUP),
    Case("XSW8", xsw8, "Signature"),
    Case("XSW10", xsw10, "AssertionCount"),
    Case("signed-error-plus-object", signed_error_plus_object, "Status"),
    Case("comment-in-NameID", comment_in_name_id, "Subject", L_TEXT),
    Case("child-element-in-NameID", child_in_name_id, "Subject"),
    Case("comment-in-Role", comment_in_role, "Attribute", L_ROLE),
    Case("comment-in-RoleSessionName", comment_in_session_name, "Attribute", L_TEXT),
    Case("signatures-stripped", stripped, "Signature"),
    Case("unsigned-assertion-tampered-in-signed-response", unsigned_assertion_tampered, "Signature"),
    Case("signed-assertion-tampered", assertion_tampered, "Signature"),
    Case("unsigned-response-Destination-changed", unsigned_response_destination_changed, "Destination", L_DEST),
    Case("unsigned-response-Status-changed", unsigned_response_status_changed, "Status"),
    Case("unsigned-response-InResponseTo-changed", unsigned_response_irt_changed, "InResponseTo", L_IRT),
    Case("XXE", xxe, "Xml"),
    Case("entity-expansion", billion_laughs, "Xml"),
    Case("Conditions-NotBefore-future", lambda c: _timed(c, "conditions", "NotBefore", SKEW + 2), "Time", L_TIME),
    Case("Conditions-NotOnOrAfter-past", lambda c: _timed(c, "conditions", "NotOnOrAfter", -(SKEW + 2)), "Time", L_TIME),
    Case("SCD-NotOnOrAfter-past", lambda c: _timed(c, "scd", "NotOnOrAfter", -(SKEW + 2)), "Time", L_TIME),
    Case("NotBefore-without-Z", lambda c: _timed(c, "conditions", "NotBefore", 0, F.iso(c.now - 10)[:-1]), "Time", L_TIME),
    Case("NotBefore-garbage-digits", lambda c: _timed(c, "conditions", "NotBefore", 0, "2026-13-45T99:61:00Z"), "Time", L_TIME),
    Case("NotBefore-year-9999", lambda c: _timed(c, "conditions", "NotBefore", 0, "9999-01-01T00:00:00Z"), "Time", L_TIME),
    Case("Audience-wrong", audience("https://other-sp.example/"), "Audience", L_AUD),
    Case("AudienceRestriction-missing", audience(remove=True), "Audience", L_COND),
    Case("Conditions-missing", audience(no_conditions=True), "Audience", L_COND),
    Case("two-AudienceRestrictions-one-wrong", audience(extra_wrong=True), "Audience", L_AUD),
    Case("Destination-wrong", response_destination, "Destination", L_DEST),
    Case("Recipient-wrong", recipient, "Recipient", L_RCPT),
    Case("not-bearer", not_bearer, "Bearer", L_RCPT),
    Case("Issuer-wrong-on-Response", issuer("response"), "Issuer"),
    Case("Issuer-wrong-on-Assertion", issuer("assertion"), "Issuer"),
    Case("InResponseTo-unknown", irt("unknown"), "RequestUnknown", L_STATE),
    Case("InResponseTo-of-another-browser", irt("other"), "RequestUnknown", L_STATE),
    Case("SCD-InResponseTo-mismatch", scd_irt_mismatch, "InResponseTo", L_IRT),
    Case("attacker-key-in-KeyInfo", attacker_key, "Signature"),
    Case("attacker-key-metadata-cert-in-KeyInfo", attacker_key_metadata_cert_in_keyinfo, "Signature"),
    Case("rsa-sha1", sha1, "Algorithm", L_SHA1),
    Case("sha1-digest", sha1_digest, "Algorithm", L_SHA1),
    Case("two-assertions", two_assertions, "AssertionCount", L_COUNT),
    Case("two-assertions-two-issuers", two_assertions_two_issuers, "AssertionCount"),
    Case("hmac-sha1-keyed-with-the-public-cert", hmac_public_key, "Algorithm"),
    Case("no-assertion", no_assertion, "AssertionCount"),
    Case("no-NameID", no_name_id, "Subject"),
    Case("Role-malformed", malformed_role, "Attribute", L_ROLE),
    Case("RoleSessionName-with-a-space", session_name("pat dev"), "Attribute", L_ROLE),
    Case("RoleSessionName-one-character", session_name("p"), "Attribute", L_ROLE),
    Case("RoleSessionName-65-characters", session_name("p" * 65), "Attribute", L_ROLE),
    Case("not-base64", not_base64, "Encoding"),
    Case("not-XML", not_xml, "Xml"),
    Case("encrypted-unsigned-inside", enc_unsigned, "Signature"),
    Case("encrypted-to-another-key", enc_other_key, "Decryption"),
    Case("encrypted-RSA1_5-key-transport", enc_rsa15, "Algorithm", L_RSA15),
    Case("encrypted-garbage", enc_garbage, "Decryption"),
    Case("encrypted-and-plain-assertion", enc_mixed, "AssertionCount"),
]

# Both sides of each time boundary: the accepted side (a valid sign-in).
ACCEPTED_TIMES = [
    ("Conditions-NotBefore-within-skew", lambda c: _timed(c, "conditions", "NotBefore", SKEW - 5)),
    ("Conditions-NotOnOrAfter-within-skew", lambda c: _timed(c, "conditions", "NotOnOrAfter", -(SKEW - 5))),
    ("SCD-NotOnOrAfter-within-skew", lambda c: _timed(c, "scd", "NotOnOrAfter", -(SKEW - 5))),
]
