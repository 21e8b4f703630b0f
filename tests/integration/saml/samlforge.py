"""
The forge: hostile SAML Responses built from valid ones with lxml (libxml2)
and the xmlsec1 command line (dependencies.md §5a), one change per fixture
(federation-security.md §1).

A Draft is an unsigned pysaml2 Response (fresh IDs, the IdP's Issuer, the
SP's Audience, Destination and Recipient) parsed into lxml; a test edits it,
then sign() inserts ds:Signature templates (after each Issuer, SAML Core
§5.4.1) and has xmlsec1 fill them, the Assertion first, then the Response.
What is done after signing (the XSW moves, comment injection, DOCTYPE) does
not touch the signed bytes, so the original signatures still verify, which
is what makes each attack an attack; check_signature() proves it with
xmlsec1 itself.
"""
import os
import subprocess
import tempfile
import time
import uuid

from lxml import etree

import samlidp as I

P = "{urn:oasis:names:tc:SAML:2.0:protocol}"
A = "{urn:oasis:names:tc:SAML:2.0:assertion}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
XENC = "{http://www.w3.org/2001/04/xmlenc#}"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
IDS = ["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
       "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _run(args):
    p = subprocess.run(args, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (args[:2], p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout


class Draft:
    """An unsigned Response being edited."""

    def __init__(self, xml):
        self.root = etree.fromstring(xml)
        assert self.root.tag == P + "Response"

    @property
    def assertion(self):
        return self.root.find(A + "Assertion")

    def assertions(self):
        return self.root.findall(A + "Assertion")

    def find(self, path, node=None):
        n = (node if node is not None else self.assertion).find(path)
        assert n is not None, path
        return n

    @property
    def name_id(self):
        return self.find(A + "Subject/" + A + "NameID")

    @property
    def conditions(self):
        return self.find(A + "Conditions")

    @property
    def scd(self):
        return self.find(A + "Subject/" + A + "SubjectConfirmation/" + A + "SubjectConfirmationData")

    def attribute_value(self, name, i=0):
        for at in self.assertion.iter(A + "Attribute"):
            if at.get("Name") == name:
                return at.findall(A + "AttributeValue")[i]
        raise AssertionError("no attribute " + name)

    def xml(self):
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def signature_template(alg=I.RSA_SHA256, digest=I.SHA256, ref_id="", keyinfo=True):
    sig = etree.Element(DS + "Signature", nsmap={"ds": DS[1:-1]})
    si = etree.SubElement(sig, DS + "SignedInfo")
    etree.SubElement(si, DS + "CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(si, DS + "SignatureMethod", Algorithm=alg)
    ref = etree.SubElement(si, DS + "Reference", URI="#" + ref_id)
    tr = etree.SubElement(ref, DS + "Transforms")
    etree.SubElement(tr, DS + "Transform", Algorithm=ENVELOPED)
    etree.SubElement(tr, DS + "Transform", Algorithm=EXC_C14N)
    etree.SubElement(ref, DS + "DigestMethod", Algorithm=digest)
    etree.SubElement(ref, DS + "DigestValue")
    etree.SubElement(sig, DS + "SignatureValue")
    if keyinfo:
        ki = etree.SubElement(sig, DS + "KeyInfo")
        etree.SubElement(etree.SubElement(ki, DS + "X509Data"), DS + "X509Certificate")
    return sig


def insert_after_issuer(node, child):
    issuer = node.find(A + "Issuer")
    if issuer is not None:
        issuer.addnext(child)
    else:
        node.insert(0, child)


class Forge:
    """Signs, encrypts and checks with the xmlsec1 CLI; key = (key path, cert path, cert PEM)."""

    def __init__(self, idp, workdir):
        self.idp = idp
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.key = (idp.key_file, idp.cert_file, idp.cert_pem)
        self._attacker = None

    @property
    def attacker(self):
        if self._attacker is None:
            self._attacker = I.keypair(self.dir, "attacker", "idp.example.test")
        return self._attacker

    def draft(self, name_id, in_response_to=None, attributes=None, **kw):
        """A valid unsigned Response from the pysaml2 IdP, ready for edits."""
        xml = self.idp.response(name_id, in_response_to, attributes, sign_response=False, sign_assertion=False, **kw)
        return Draft(xml)

    def _tmp(self, data, suffix=".xml"):
        fd, path = tempfile.mkstemp(dir=self.dir, suffix=suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def sign(self, d, assertion=True, response=False, key=None, alg=I.RSA_SHA256, digest=I.SHA256,
             keyinfo=True, keyinfo_cert=None):
        """d (a Draft) with the chosen elements signed; returns the XML bytes. keyinfo_cert: the
        certificate written into KeyInfo instead of the signing one (None: the signing one)."""
        key = key or self.key
        targets = []
        if assertion:
            for a in d.assertions():
                targets.append(a)
        if response:
            targets.append(d.root)
        for node in targets:
            insert_after_issuer(node, signature_template(alg, digest, node.get("ID"), keyinfo))
        data = d.xml()
        for node in targets:  # inner first: the Response digest covers the signed Assertion
            src = self._tmp(data)
            out = src + ".signed"
            try:
                _run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (key[0], key[1]), *IDS,
                      "--node-id", node.get("ID"), "--output", out, src])
                with open(out, "rb") as f:
                    data = f.read()
            finally:
                for p in (src, out):
                    if os.path.exists(p):
                        os.unlink(p)
        if keyinfo_cert is not None:
            root = etree.fromstring(data)
            for c in root.iter(DS + "X509Certificate"):
                c.text = I.cert_b64(keyinfo_cert)
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return data

    def sign_hmac(self, d, alg="http://www.w3.org/2000/09/xmldsig#hmac-sha1"):
        """The Assertion "signed" with HMAC keyed by the IdP's public certificate (the
        key-confusion attack of federation-security.md §1b, "Weak algorithms")."""
        a = d.assertion
        insert_after_issuer(a, signature_template(alg, I.SHA256, a.get("ID"), keyinfo=False))
        src = self._tmp(d.xml())
        out = src + ".signed"
        try:
            _run(["xmlsec1", "--sign", "--hmackey", self.key[1], *IDS, "--node-id", a.get("ID"),
                  "--output", out, src])
            with open(out, "rb") as f:
                return f.read()
        finally:
            for p in (src, out):
                if os.path.exists(p):
                    os.unlink(p)

    def check_signature(self, xml, node_id, cert_pem=None):
        """True when xmlsec1 verifies the signature of node_id with cert (default the IdP's),
        reading no key from KeyInfo."""
        cert = self._tmp((cert_pem or self.key[2]).encode(), ".crt")
        src = self._tmp(xml)
        try:
            p = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", cert, "--enabled-key-data", "rsa",
                                *IDS, "--node-id", node_id, src], capture_output=True, timeout=60)
            return p.returncode == 0
        finally:
            os.unlink(cert)
            os.unlink(src)

    def encrypt(self, xml, cert_pem, data_alg=AES256_GCM, key_alg=RSA_OAEP):
        """The Response xml with its Assertion replaced by an EncryptedAssertion for cert_pem."""
        root = etree.fromstring(xml)
        a = root.find(A + "Assertion")
        assert a is not None
        doc = etree.tostring(a)
        tmpl = ('<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" '
                'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element">'
                '<xenc:EncryptionMethod Algorithm="%s"/><ds:KeyInfo><xenc:EncryptedKey>'
                '<xenc:EncryptionMethod Algorithm="%s"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData>'
                '</xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData>'
                '</xenc:EncryptedData>') % (data_alg, key_alg)
        session = "aes-256" if "aes256" in data_alg else ("aes-128" if "aes128" in data_alg else "des-192")
        cert = self._tmp(cert_pem.encode(), ".crt")
        src = self._tmp(doc)
        t = self._tmp(tmpl.encode())
        try:
            out = _run(["xmlsec1", "--encrypt", "--pubkey-cert-pem", cert, "--session-key", session,
                        "--xml-data", src, "--node-xpath", "/*", t])
        finally:
            for p in (cert, src, t):
                os.unlink(p)
        ed = etree.fromstring(out)
        assert ed.tag == XENC + "EncryptedData", ed.tag
        ea = etree.Element(A + "EncryptedAssertion")
        ea.append(ed)
        a.addprevious(ea)
        root.remove(a)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def reparse(xml):
    return etree.fromstring(xml)


def dump(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def rand_id():
    return "_" + uuid.uuid4().hex


def signature_of(node):
    s = node.find(DS + "Signature")
    assert s is not None, "no Signature on %s" % node.tag
    return s


def strip_signatures(node):
    for s in list(node.iter(DS + "Signature")):
        s.getparent().remove(s)
    return node
