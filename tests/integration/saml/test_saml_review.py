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


def _sign_with_transforms(env, d, extra):
    """d's Assertion signed by the IdP key (xmlsec1) with `extra` more enveloped-signature
    transforms in its Reference: the signature is genuine, only its shape is hostile."""
    a = d.assertion
    sig = F.signature_template(ref_id=a.get("ID"))
    tr = sig.find(F.DS + "SignedInfo/" + F.DS + "Reference/" + F.DS + "Transforms")
    for _ in range(extra):
        tr.insert(0, etree.Element(F.DS + "Transform", Algorithm=F.ENVELOPED))
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
    xml = _sign_with_transforms(env, env.forge.draft(user["name"], req.id), 1)
    assert env.forge.check_signature(xml, F.reparse(xml).find(F.A + "Assertion").get("ID"))
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_refused(env, r, rid, ("Algorithm",), browser, [user], before)
