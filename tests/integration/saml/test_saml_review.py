"""
Findings of the adversarial review of SAML sign-in, each a test that failed
before its fix (the commit that fixes it names the test).
"""
import os
import time

from lxml import etree

import samlenv as E
import samlforge as F
import samlidp as I


EXC_NS = "{http://www.w3.org/2001/10/xml-exc-c14n#}"


def _sign_shaped(env, d, shape):
    """d's Assertion signed by the IdP key (xmlsec1) from a template that shape(Transforms)
    has changed: the signature is genuine, only its shape is hostile."""
    a = d.assertion
    sig = F.signature_template(ref_id=a.get("ID"))
    shape(sig.find(F.DS + "SignedInfo/" + F.DS + "Reference/" + F.DS + "Transforms"))
    F.insert_after_issuer(a, sig)
    src = env.forge._tmp(d.xml())
    out = src + ".signed"
    try:
        F._run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (env.forge.key[0], env.forge.key[1]), *F.IDS,
                "--node-id", a.get("ID"), "--output", out, src])
        with open(out, "rb") as f:
            return f.read()
    finally:
        for p in (src, out):
            if os.path.exists(p):
                os.unlink(p)


def test_repeated_reference_transforms_refused(env, browser):
    """A Reference with the enveloped transform twice (SAML core §5.4.4 allows enveloped and
    exclusive c14n, once each). Each repeat is one more pass of xmlsec over the signed node
    set, before the SignatureValue is checked: 700 repeats over 5,000 elements cost 0.35 s of
    CPU per unauthenticated POST (a normal response: under 1 ms). Refused on its shape."""
    user = env.new_user("xf")
    req = env.login(browser)
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id),
                       lambda tr: tr.insert(0, etree.Element(F.DS + "Transform", Algorithm=F.ENVELOPED)))
    assert env.forge.check_signature(xml, F.reparse(xml).find(F.A + "Assertion").get("ID"))
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_refused(env, r, rid, ("Algorithm",), browser, [user], before)


def _prefix_list(value):
    def shape(tr):
        for t in tr:
            if t.get("Algorithm") == F.EXC_C14N:
                etree.SubElement(t, EXC_NS + "InclusiveNamespaces").set("PrefixList", value)
    return shape


def test_long_prefix_list_refused(env, browser):
    """exc-c14n's InclusiveNamespaces PrefixList is compared with every namespace in scope
    of every signed element: 4,000 prefixes over 4,000 elements cost 1.3 s of CPU per
    unauthenticated POST (before the SignatureValue is checked). IdPs send a word or two
    (Okta: "xs"); one longer than TS_SAML's cap is refused on its shape."""
    user = env.new_user("pl")
    req = env.login(browser)
    value = " ".join("p%d" % i for i in range(100))
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id), _prefix_list(value))
    assert env.forge.check_signature(xml, F.reparse(xml).find(F.A + "Assertion").get("ID"))
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_refused(env, r, rid, ("Algorithm",), browser, [user], before)


def test_short_prefix_list_accepted(env, browser):
    """The positive control: Okta's PrefixList="xs" signs in."""
    user = env.new_user("pk")
    req = env.login(browser)
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id), _prefix_list("xs"))
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")


def test_refused_response_claims_bounded_in_audit(env, browser):
    """A refusal's audit event names the NameID the response claims, unverified (docs/saml.md):
    anyone can post one. A 100 KB NameID was kept whole in every such event, so that each
    anonymous POST added 100 KB to the audit trail; it is cut to the sign-in attempt's 512
    bytes, like the attempt itself."""
    d = env.forge.draft("n" * 100000 + "@example.com")
    r, rid = env.acs(browser, I.b64(d.xml()))  # unsigned: refused (Signature)
    ev = E.assert_refused(env, r, rid, ("Signature",), browser, [], {})
    name = ev["requestParameters"]["NameId"]
    assert name.startswith("nnnn") and len(name.encode()) <= 512, len(name)
