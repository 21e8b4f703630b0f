"""
The IdP side of the SAML tests, all real parts (federation-security.md §1,
dependencies.md §5):

  keypair()        an RSA-2048 key and self-signed certificate from openssl
  Idp              a pysaml2 7.0.1 IdP (Debian python3-pysaml2, which shells out to
                   /usr/bin/xmlsec1): its metadata, Tessera's SP metadata loaded from
                   GET /saml/{AccountId}/metadata, Tessera's AuthnRequest read from the
                   302 Location (HTTP-Redirect binding, signature checked with the SP
                   certificate of that metadata) and answered; unsolicited responses;
                   RSA-SHA256 on the Response, the Assertion or both; EncryptedAssertion
                   to the SP's encryption certificate
  okta_metadata()  IdP metadata in Okta's shape (what the seeds' administrators upload)

The forge (samlforge.py) and the Lasso oracle (samllasso.py) work on what
this module produces.
"""
import base64
import os
import subprocess
import urllib.parse
import uuid
import zlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server as Saml2Server

XMLSEC1 = "/usr/bin/xmlsec1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}
PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def keypair(directory, name, cn, days=365):
    """(key path, cert path, cert PEM) of a new RSA-2048 key with a self-signed certificate."""
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", str(days), "-subj", "/CN=" + cn],
                   check=True, capture_output=True, timeout=60)
    with open(crt) as f:
        return key, crt, f.read()


def cert_b64(pem):
    """The base64 body of a PEM certificate (what metadata's X509Certificate holds)."""
    return "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))


def pem_of_b64(b64):
    body = "".join(b64.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


class SpMetadata:
    """Tessera's SP metadata as the IdP reads it."""

    def __init__(self, xml):
        self.xml = xml if isinstance(xml, bytes) else xml.encode()
        root = etree.fromstring(self.xml)
        assert etree.QName(root).localname == "EntityDescriptor", root.tag
        self.entity_id = root.get("entityID")
        sp = root.find("md:SPSSODescriptor", NS)
        assert sp is not None, "no SPSSODescriptor"
        acs = [a for a in sp.findall("md:AssertionConsumerService", NS) if a.get("Binding") == BINDING_HTTP_POST]
        assert acs, "no HTTP-POST AssertionConsumerService"
        self.acs_url = acs[0].get("Location")
        self.signing_certs = []
        self.encryption_certs = []
        for kd in sp.findall("md:KeyDescriptor", NS):
            for c in kd.findall(".//ds:X509Certificate", NS):
                pem = pem_of_b64(c.text)
                if kd.get("use") in (None, "signing"):
                    self.signing_certs.append(pem)
                if kd.get("use") in (None, "encryption"):
                    self.encryption_certs.append(pem)
        self.name_id_formats = [n.text for n in sp.findall("md:NameIDFormat", NS)]
        assert self.name_id_formats, "no NameIDFormat"


class AuthnRequest:
    """An AuthnRequest taken from the HTTP-Redirect Location (SAML Bindings §3.4.4)."""

    def __init__(self, location, sp):
        u = urllib.parse.urlsplit(location)
        self.sso_url = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "", ""))
        raw = {}
        for part in u.query.split("&"):
            k, _, v = part.partition("=")
            raw[k] = v
        self.raw = raw
        q = {k: urllib.parse.unquote_plus(v) for k, v in raw.items()}
        assert "SAMLRequest" in q, location
        self.relay_state = q.get("RelayState")
        self.sig_alg = q.get("SigAlg")
        # §3.4.4.1: the signature covers SAMLRequest, RelayState (when present) and SigAlg,
        # in that order, as they were URL-encoded in the query
        assert self.sig_alg == RSA_SHA256, "SigAlg %r" % self.sig_alg
        assert "Signature" in q, "unsigned AuthnRequest"
        signed = "SAMLRequest=" + raw["SAMLRequest"]
        if "RelayState" in raw:
            signed += "&RelayState=" + raw["RelayState"]
        signed += "&SigAlg=" + raw["SigAlg"]
        self.signed_by = self._verify(signed.encode(), base64.b64decode(q["Signature"]), sp.signing_certs)
        self.xml = zlib.decompress(base64.b64decode(q["SAMLRequest"]), -15)
        root = etree.fromstring(self.xml)
        assert etree.QName(root).localname == "AuthnRequest", root.tag
        self.id = root.get("ID")
        self.destination = root.get("Destination")
        self.acs_url = root.get("AssertionConsumerServiceURL")
        self.protocol_binding = root.get("ProtocolBinding")
        issuer = root.find("saml:Issuer", NS)
        self.issuer = issuer.text if issuer is not None else None
        self.query = q

    @staticmethod
    def _verify(data, sig, certs):
        for pem in certs:
            pub = x509.load_pem_x509_certificate(pem.encode()).public_key()
            try:
                pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
                return pem
            except Exception:  # another certificate of the rollover may match
                continue
        raise AssertionError("the AuthnRequest's signature matches no SP signing certificate")


class Idp:
    """A pysaml2 IdP for one Tessera account. Its metadata exists before Tessera's SP
    metadata does (the first PUT saml-config creates the SP keys); load_sp() then gives
    it the SP metadata and makes it able to answer."""

    def __init__(self, workdir, entity_id="https://idp.example.test/saml",
                 sso_url="https://idp.example.test/sso", key=None, name="idp"):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.name = name
        self.entity_id = entity_id
        self.sso_url = sso_url
        if key is None:
            key = keypair(self.workdir, name, "idp.example.test")
        self.key_file, self.cert_file, self.cert_pem = key
        self.sp = None
        self.config = self._config(None)
        self.server = None

    def _config(self, sp_md_file):
        conf = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC1,
            "key_file": self.key_file,
            "cert_file": self.cert_file,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT),
                                                         (self.sso_url, BINDING_HTTP_POST)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
            }},
            "delete_tmpfiles": True,
        }
        if sp_md_file:
            conf["metadata"] = {"local": [sp_md_file]}
        cfg = IdPConfig()
        cfg.load(conf)
        return cfg

    def load_sp(self, sp_metadata_xml):
        """Tessera's SP metadata (GET /saml/{AccountId}/metadata) into the IdP."""
        self.sp = SpMetadata(sp_metadata_xml)
        path = os.path.join(self.workdir, self.name + "-sp-metadata.xml")
        with open(path, "wb") as f:
            f.write(self.sp.xml)
        self.config = self._config(path)
        self.server = Saml2Server(config=self.config)
        return self

    def metadata(self):
        """This IdP's metadata, written by pysaml2."""
        return str(entity_descriptor(self.config)).encode()

    def read_request(self, location):
        """The AuthnRequest of a 302 Location, its signature checked; also parsed by pysaml2."""
        req = AuthnRequest(location, self.sp)
        assert req.destination == self.sso_url, (req.destination, self.sso_url)
        assert req.issuer == self.sp.entity_id, (req.issuer, self.sp.entity_id)
        parsed = self.server.parse_authn_request(req.query["SAMLRequest"],
                                                 BINDING_HTTP_REDIRECT)
        assert parsed.message.id == req.id
        return req

    def response(self, name_id, in_response_to=None, attributes=None, sign_response=True,
                 sign_assertion=True, encrypt=False, sign_alg=RSA_SHA256, digest_alg=SHA256,
                 destination=None, sp_entity_id=None):
        """A Response (XML bytes) from pysaml2's create_authn_response."""
        identity = {}
        for k, v in (attributes or {}).items():
            identity[k] = list(v) if isinstance(v, (list, tuple)) else [v]
        kw = {}
        if encrypt:
            kw = {"encrypt_assertion": True, "encrypt_cert_assertion": self.sp.encryption_certs[0]}
        resp = self.server.create_authn_response(
            identity=identity, in_response_to=in_response_to,
            destination=destination or self.sp.acs_url,
            sp_entity_id=sp_entity_id or self.sp.entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            authn={"class_ref": PASSWORD_CLASS},
            sign_response=sign_response, sign_assertion=sign_assertion,
            sign_alg=sign_alg, digest_alg=digest_alg, **kw)
        if not isinstance(resp, (str, bytes)):
            resp = str(resp)  # unsigned: pysaml2 hands back the object
        return resp.encode() if isinstance(resp, str) else resp


def b64(xml):
    return base64.b64encode(xml if isinstance(xml, bytes) else xml.encode()).decode()


def okta_metadata(cert_pems, sso_url, entity_id=None):
    """IdP metadata in the shape Okta's "Identity Provider metadata" link gives (one line,
    md: prefix, an http://www.okta.com/ entityID, unspecified and emailAddress NameID formats,
    POST and Redirect SSO endpoints); several certificates for a rollover."""
    entity_id = entity_id or "http://www.okta.com/exk" + uuid.uuid4().hex[:17]
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        "<ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>" % cert_b64(p) for p in cert_pems)
    xml = ('<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor entityID="%s" '
           'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:IDPSSODescriptor '
           'WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
           "%s<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"
           "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
           '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s"/>'
           '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>'
           "</md:IDPSSODescriptor></md:EntityDescriptor>") % (entity_id, keys, sso_url, sso_url)
    return entity_id, xml.encode()
