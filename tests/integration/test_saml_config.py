"""An account's SAML identity source over the admin API and the CLI (docs/saml.md "The admin API"),
on both store backends: PUT as XML, as JSON MetadataDocument and as MetadataUrl served by a
loopback HTTP server (and refreshed from it), GET's shape, DELETE, SP key rotation with both
certificates published, bad metadata refused with a message naming why, the policy actions, the
audit events (which never hold the document), `tessera saml configure`, the sign-in check's
LastSignInAttempts and Warnings, and the /metrics certificate gauge.

IdP metadata is written here from certificates made with the openssl CLI."""
import base64
import http.server
import json
import re
import subprocess
import threading
import time

import pytest

from tessera_itest import assert_error, check_cases, cli_json, run_cli, wait_for

ACCOUNTS = "/api/v1/accounts"
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def cfg_path(acct):
    return "%s/%s/saml-config" % (ACCOUNTS, acct)


class Cert:
    """A self-signed IdP certificate made by the openssl CLI, and what openssl says of it."""

    def __init__(self, directory, name, days, cn):
        key, crt = "%s/%s.key" % (directory, name), "%s/%s.crt" % (directory, name)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                        "-keyout", key, "-out", crt, "-days", str(days), "-subj", "/CN=" + cn],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.b64 = base64.b64encode(der).decode()
        fp = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint", "-sha256"],
                            check=True, capture_output=True, text=True).stdout
        self.sha256 = fp.split("=", 1)[1].strip().replace(":", "").lower()
        self.cn = cn
        self.days = days


def metadata(entity_id, certs, sso="https://idp.example.com/sso/saml", binding=REDIRECT):
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        "<ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>" % c.b64 for c in certs)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<md:EntityDescriptor xmlns:md="%s" entityID="%s">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            "%s<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
            '<md:SingleSignOnService Binding="%s" Location="%s"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>" % (MD_NS, entity_id, keys, binding, sso))


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("idp-certs"))
    return {
        "long": Cert(d, "long", 365, "idp.example.com"),
        "next": Cert(d, "next", 730, "idp-next.example.com"),
        "soon": Cert(d, "soon", 10, "expiring.example.com"),
    }


class MetadataServer:
    """A loopback HTTP server answering path -> (status, body) from a table tests change."""

    def __init__(self):
        self.routes = {}
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                status, body = outer.routes.get(self.path, (404, "not here"))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mdserver():
    s = MetadataServer()
    yield s
    s.stop()


def put_xml(server, acct, xml, token="root", content_type="application/xml"):
    return server.request("PUT", cfg_path(acct), token=token, data=xml.encode(),
                          headers={"Content-Type": content_type})


def check_shape(server, acct, sc):
    assert set(sc) == {"IdpEntityId", "IdpSsoUrl", "MetadataUrl", "MetadataFetchedOn",
                       "Certificates", "AllowIdpInitiated", "AllowSha1", "RelayStateAllowList",
                       "ServiceProvider", "UpdatedOn"}, sc
    base = "%s/saml/%s" % (server.url, acct)
    sp = sc["ServiceProvider"]
    assert sp["EntityId"] == base + "/metadata" == sp["MetadataUrl"]
    assert sp["AcsUrl"] == base + "/acs"
    assert sp["LoginUrl"] == base + "/login"
    assert ISO_RE.match(sc["UpdatedOn"]), sc
    for c in sc["Certificates"]:
        assert set(c) == {"Subject", "Sha256Fingerprint", "NotBefore", "NotAfter", "ExpiresInDays"}
        assert ISO_RE.match(c["NotBefore"]) and ISO_RE.match(c["NotAfter"])
    for c in sp["Certificates"]:
        assert set(c) == {"Subject", "Sha256Fingerprint", "NotBefore", "NotAfter", "Current"}
        assert re.fullmatch(r"[0-9a-f]{64}", c["Sha256Fingerprint"])
    assert [c["Current"] for c in sp["Certificates"]].count(True) == 1


def test_put_xml_get_delete(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    assert_error(server.get(cfg_path(acct)), 404, "NotFoundException")
    xml = metadata("http://www.okta.com/exk1", [certs["long"], certs["next"]])
    r = put_xml(server, acct, xml)
    assert r.status_code == 200, r.text
    sc = r.json()["SamlConfig"]
    check_shape(server, acct, sc)
    assert sc["IdpEntityId"] == "http://www.okta.com/exk1"
    assert sc["IdpSsoUrl"] == "https://idp.example.com/sso/saml"
    assert sc["MetadataUrl"] is None and sc["MetadataFetchedOn"] is None
    # both signing certificates, as openssl reads them (rollover)
    assert sorted(c["Sha256Fingerprint"] for c in sc["Certificates"]) == sorted(
        [certs["long"].sha256, certs["next"].sha256])
    days = {c["Sha256Fingerprint"]: c["ExpiresInDays"] for c in sc["Certificates"]}
    assert days[certs["long"].sha256] in (364, 365) and days[certs["next"].sha256] in (729, 730)
    assert any("CN=idp.example.com" in c["Subject"] for c in sc["Certificates"])
    assert sc["AllowIdpInitiated"] is False and sc["AllowSha1"] is False
    assert sc["RelayStateAllowList"] == []
    assert len(sc["ServiceProvider"]["Certificates"]) == 1
    # GET answers the same body
    g = server.get(cfg_path(acct))
    assert g.status_code == 200 and g.json()["SamlConfig"] == sc
    # a second import keeps the SP key pair; text/xml is XML too
    r2 = put_xml(server, acct, metadata("http://www.okta.com/exk2", [certs["long"]]),
                 content_type="text/xml; charset=utf-8")
    assert r2.status_code == 200, r2.text
    sc2 = r2.json()["SamlConfig"]
    assert sc2["IdpEntityId"] == "http://www.okta.com/exk2"
    assert sc2["ServiceProvider"]["Certificates"] == sc["ServiceProvider"]["Certificates"]
    # audit: the IdP named, the document never copied
    ev = server.events(eventName="PutSamlConfig")
    assert len(ev) == 2
    assert ev[0]["requestParameters"]["IdpEntityId"] == "http://www.okta.com/exk2"
    for e in ev:
        text = json.dumps(e)
        assert certs["long"].b64[:200] not in text and "EntityDescriptor" not in text, e
    assert server.events(eventName="GetSamlConfig")
    # DELETE: 204, then gone
    d = server.delete(cfg_path(acct))
    assert d.status_code == 204, d.text
    assert_error(server.get(cfg_path(acct)), 404, "NotFoundException")
    assert_error(server.delete(cfg_path(acct)), 404, "NotFoundException")
    assert server.events(eventName="DeleteSamlConfig")
    # an account that does not exist
    assert_error(put_xml(server, "no-such-account", xml), 404, "NotFoundException")


def test_put_json_and_settings(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    xml = metadata("https://idp.example.org/metadata", [certs["long"]],
                   sso="https://idp.example.org/sso/post", binding=POST)
    r = server.put(cfg_path(acct), {"MetadataDocument": xml, "AllowIdpInitiated": True,
                                    "RelayStateAllowList": ["https://App.Example.com:443",
                                                            "https://other.example.net:8443"]})
    assert r.status_code == 200, r.text
    sc = r.json()["SamlConfig"]
    check_shape(server, acct, sc)
    assert sc["IdpSsoUrl"] == "https://idp.example.org/sso/post"
    assert sc["AllowIdpInitiated"] is True and sc["AllowSha1"] is False
    assert sc["RelayStateAllowList"] == ["https://app.example.com", "https://other.example.net:8443"]
    # settings are kept by an XML import, and by JSON that leaves them out
    sc = put_xml(server, acct, xml).json()["SamlConfig"]
    assert sc["AllowIdpInitiated"] is True
    assert sc["RelayStateAllowList"] == ["https://app.example.com", "https://other.example.net:8443"]
    sc = server.put(cfg_path(acct), {"MetadataDocument": xml, "AllowSha1": True}).json()["SamlConfig"]
    assert sc["AllowIdpInitiated"] is True and sc["AllowSha1"] is True
    sc = server.put(cfg_path(acct), {"MetadataDocument": xml, "AllowIdpInitiated": False,
                                     "RelayStateAllowList": []}).json()["SamlConfig"]
    assert sc["AllowIdpInitiated"] is False and sc["RelayStateAllowList"] == []
    ev = server.events(eventName="PutSamlConfig")[-1]
    assert ev["requestParameters"]["AllowIdpInitiated"] is True
    assert "MetadataDocument" not in json.dumps(ev)


def test_rotate_sp_key(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    rot = "%s?operation=rotate-sp-key" % cfg_path(acct)
    assert_error(server.post(rot), 404, "NotFoundException")
    sc = put_xml(server, acct, metadata("https://idp.example.org", [certs["long"]])).json()["SamlConfig"]
    first = sc["ServiceProvider"]["Certificates"]
    assert len(first) == 1 and first[0]["Current"] is True
    r = server.post(rot)
    assert r.status_code == 200, r.text
    after = r.json()["SamlConfig"]["ServiceProvider"]["Certificates"]
    assert len(after) == 2
    current = [c for c in after if c["Current"]]
    old = [c for c in after if not c["Current"]]
    assert len(current) == 1 and len(old) == 1
    assert old[0]["Sha256Fingerprint"] == first[0]["Sha256Fingerprint"]
    assert current[0]["Sha256Fingerprint"] != first[0]["Sha256Fingerprint"]
    assert after[0]["Current"] is True  # newest first
    assert server.get(cfg_path(acct)).json()["SamlConfig"]["ServiceProvider"]["Certificates"] == after
    ev = server.events(eventName="RotateSamlSpKey")
    assert [e.get("errorCode") for e in ev] == [None, "NotFoundException"]
    # a third pair: the two older ones stay published during their overlap
    third = server.post(rot).json()["SamlConfig"]["ServiceProvider"]["Certificates"]
    assert len(third) == 3 and [c["Current"] for c in third].count(True) == 1
    # the rows as stored: the private keys sealed, never in the clear
    rows, _ = server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'saml_sp'")
    assert len(rows) == 3 and all("PRIVATE KEY" not in r[0] for r in rows)


def test_metadata_url(server, certs, mdserver):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    xml = metadata("https://idp.loopback.test", [certs["long"]], sso="http://127.0.0.1:9/sso")
    mdserver.routes["/md.xml"] = (200, xml)
    url = mdserver.url("/md.xml")
    r = server.put(cfg_path(acct), {"MetadataUrl": url})
    assert r.status_code == 200, r.text
    sc = r.json()["SamlConfig"]
    check_shape(server, acct, sc)
    assert sc["MetadataUrl"] == url and ISO_RE.match(sc["MetadataFetchedOn"])
    assert sc["IdpEntityId"] == "https://idp.loopback.test"
    assert sc["IdpSsoUrl"] == "http://127.0.0.1:9/sso"
    assert server.events(eventName="PutSamlConfig")[0]["requestParameters"]["MetadataUrl"] == url

    def refused(case):
        body, word = case
        b = assert_error(server.put(cfg_path(acct), body), 400, "BadRequestException")
        assert word in b["Message"], b["Message"]

    check_cases([
        ({"MetadataUrl": mdserver.url("/missing.xml")}, "404"),
        ({"MetadataUrl": "http://idp.example.com/metadata"}, "https"),
        ({"MetadataUrl": "ftp://idp.example.com/metadata"}, "https"),
        ({"MetadataUrl": "http://127.0.0.1:1/md.xml"}, "could not be fetched"),
        ({"MetadataUrl": "not a url"}, "URL"),
    ], refused)
    mdserver.routes["/empty.xml"] = (200, "")
    mdserver.routes["/bad.xml"] = (200, "<md:EntityDescriptor xmlns:md='%s'/>" % MD_NS)
    assert_error(server.put(cfg_path(acct), {"MetadataUrl": mdserver.url("/empty.xml")}), 400)
    assert_error(server.put(cfg_path(acct), {"MetadataUrl": mdserver.url("/bad.xml")}), 400)
    # the refusals changed nothing
    assert server.get(cfg_path(acct)).json()["SamlConfig"]["MetadataUrl"] == url


def test_metadata_url_refresh(start_server, certs, mdserver):
    server = start_server(extra_args=["--saml-metadata-refresh", "1"], init=True)
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    mdserver.routes["/md.xml"] = (200, metadata("https://idp.one.test", [certs["long"]]))
    url = mdserver.url("/md.xml")
    first = server.put(cfg_path(acct), {"MetadataUrl": url}).json()["SamlConfig"]
    # the IdP rolls its certificate over: the refresher takes the new document
    mdserver.routes["/md.xml"] = (200, metadata("https://idp.one.test", [certs["long"], certs["next"]]))

    def refreshed():
        sc = server.get(cfg_path(acct)).json()["SamlConfig"]
        return len(sc["Certificates"]) == 2 and sc
    sc = wait_for(refreshed, timeout=15, what="the metadata refresh")
    assert sc["MetadataFetchedOn"] >= first["MetadataFetchedOn"]
    assert sc["ServiceProvider"] == first["ServiceProvider"]
    # the URL fails: the metadata in force stays
    mdserver.routes["/md.xml"] = (500, "down")
    hits = mdserver.hits
    wait_for(lambda: mdserver.hits > hits, timeout=15, what="a refresh attempt")
    wait_for(lambda: "refresh failed" in server.stderr(), timeout=15, what="the failure logged")
    kept = server.get(cfg_path(acct)).json()["SamlConfig"]
    assert len(kept["Certificates"]) == 2 and kept["IdpEntityId"] == "https://idp.one.test"


def test_bad_metadata(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    good = metadata("https://idp.example.org", [certs["long"]])

    def refused(case):
        kind, body, word = case
        if kind == "xml":
            r = put_xml(server, acct, body)
        elif kind == "raw":
            r = server.request("PUT", cfg_path(acct), data=body.encode(),
                               headers={"Content-Type": "application/json"})
        else:
            r = server.put(cfg_path(acct), body)
        b = assert_error(r, 400, "BadRequestException")
        assert word.lower() in b["Message"].lower(), b["Message"]

    check_cases([
        ("xml", "", "empty"),
        ("xml", "not xml at all", ""),
        ("xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]>' + good[len('<?xml version="1.0" encoding="UTF-8"?>'):], ""),
        ("xml", metadata("", [certs["long"]]), "entityID"),
        ("xml", metadata("https://idp.example.org", []), "certificate"),
        ("xml", metadata("https://idp.example.org", [certs["long"]], sso="http://idp.example.org/sso"), ""),
        ("xml", good.replace("SingleSignOnService", "ArtifactResolutionService"), ""),
        # SAML Metadata §2.3.2: an expired document is not to be used; a malformed date neither
        ("xml", good.replace('entityID=', 'validUntil="2020-01-01T00:00:00Z" entityID=', 1), "validUntil"),
        ("xml", good.replace('entityID=', 'validUntil="soon" entityID=', 1), "validUntil"),
        ("raw", "", "body"),
        ("raw", "[1]", "object"),
        ("json", {}, "exactly one"),
        ("json", {"MetadataDocument": good, "MetadataUrl": "https://idp.example.org/md"}, "exactly one"),
        ("json", {"MetadataDocument": 7}, "string"),
        ("json", {"MetadataDocument": good, "AllowSha1": "yes"}, "AllowSha1"),
        ("json", {"MetadataDocument": good, "RelayStateAllowList": ["javascript:alert(1)"]}, "origin"),
        ("json", {"MetadataDocument": good, "RelayStateAllowList": "https://a.example"}, "array"),
        ("json", {"MetadataDocument": good, "Extra": 1}, "unknown member"),
    ], refused, name=lambda c: "%s %.60r" % (c[0], c[1]))
    # past the metadata cap (512 KiB): too large
    assert_error(server.put(cfg_path(acct), {"MetadataDocument": "x" * (600 * 1024)}), 413)
    assert_error(put_xml(server, acct, "x" * (600 * 1024)), 400)
    assert_error(server.get(cfg_path(acct)), 404)  # nothing was stored
    assert not server.store.sql("SELECT key_id FROM saml_sp_keys")[0]
    # a JSON document past 64 KiB (the JSON reader's usual string cap) is read: Entra ID's are
    big = good.replace("</md:EntityDescriptor>", "<!--%s--></md:EntityDescriptor>" % ("x" * 100000))
    r = server.put(cfg_path(acct), {"MetadataDocument": big})
    assert r.status_code == 200, r.text


def test_policies(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    xml = metadata("https://idp.example.org", [certs["long"]])
    assert put_xml(server, acct, xml).status_code == 200
    for policy in ("ReadOnly", "UserManagement"):
        tok = server.create_key([policy])["Token"]
        assert server.get(cfg_path(acct), token=tok).status_code == 200
        assert_error(put_xml(server, acct, xml, token=tok), 403, "ForbiddenException")
        assert_error(server.delete(cfg_path(acct), token=tok), 403, "ForbiddenException")
        assert_error(server.post(cfg_path(acct) + "?operation=rotate-sp-key", token=tok), 403)
    full = server.create_key(["FullAccess"])["Token"]
    assert put_xml(server, acct, xml, token=full).status_code == 200
    assert server.post(cfg_path(acct) + "?operation=rotate-sp-key", token=full).status_code == 200
    assert server.delete(cfg_path(acct), token=full).status_code == 204
    assert_error(server.get(cfg_path(acct), token=None), 401)
    refused = [e for e in server.events(eventName="PutSamlConfig") if e.get("errorCode")]
    assert len(refused) == 2 and all(e["errorCode"] == "ForbiddenException" for e in refused)


def test_cli_configure(server, certs, mdserver, tmp_path):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    f = tmp_path / "idp.xml"
    f.write_text(metadata("https://idp.cli.test", [certs["long"]]))
    base = ["--db", server.store.db, "--master-key-file", server.store.key, "--account", acct,
            "--base-url", server.url]
    out = cli_json("saml", "configure", *base, "--idp-metadata", str(f), "--allow-idp-initiated")
    sc = out["SamlConfig"]
    check_shape(server, acct, sc)
    assert sc["IdpEntityId"] == "https://idp.cli.test" and sc["AllowIdpInitiated"] is True
    assert server.get(cfg_path(acct)).json() == out
    ev = server.events(eventName="PutSamlConfig")
    assert ev[0]["userIdentity"]["type"] == "LocalOperator"
    assert "EntityDescriptor" not in json.dumps(ev[0])
    # from a URL; the setting kept
    mdserver.routes["/cli.xml"] = (200, metadata("https://idp.cli2.test", [certs["next"]]))
    out = cli_json("saml", "configure", *base, "--idp-metadata", mdserver.url("/cli.xml"))
    assert out["SamlConfig"]["MetadataUrl"] == mdserver.url("/cli.xml")
    assert out["SamlConfig"]["AllowIdpInitiated"] is True
    assert out["SamlConfig"]["ServiceProvider"]["Certificates"] == sc["ServiceProvider"]["Certificates"]
    # failures: exit status, a message, nothing printed, nothing changed
    bad = tmp_path / "bad.xml"
    bad.write_text("<nope/>")
    for meta in (str(bad), str(tmp_path / "missing.xml"), "http://idp.example.com/md",
                 mdserver.url("/none.xml")):
        p = run_cli("saml", "configure", *base, "--idp-metadata", meta)
        assert p.returncode != 0 and p.stderr.strip() and p.stdout.strip() == "", meta
    p = run_cli("saml", "configure", "--db", server.store.db, "--master-key-file",
                server.store.key, "--account", "no-such", "--idp-metadata", str(f))
    assert p.returncode != 0
    assert server.get(cfg_path(acct)).json()["SamlConfig"]["IdpEntityId"] == "https://idp.cli2.test"
    assert run_cli("audit", "verify", "--db", server.store.db, "--master-key-file",
                   server.store.key).returncode == 0


def test_signin_check_attempts_and_warnings(server, certs):
    acct = server.create_account("team")["AccountId"]
    inv = server.post("%s/%s/users" % (ACCOUNTS, acct), {"UserEmailList": ["ann@example.com"]},
                      params={"operation": "add"})
    assert inv.status_code in (200, 201), inv.text
    uid = inv.json()["Invites"][0]["UserId"]
    chk_path = "%s/%s/users/%s/sign-in-check" % (ACCOUNTS, acct, uid)
    chk = server.get(chk_path).json()["SignInCheck"]
    assert chk["LastSignInAttempts"] == [] and chk["Warnings"] == []
    # attempts as the SAML module records them (store/signins.h)
    t0 = int(time.time() * 1000) - 60000
    rows = [(t0, "Refused", "'Audience'"), (t0 + 1000, "Refused", "'Signature'"),
            (t0 + 2000, "Allowed", "NULL")]
    for i in range(12):
        rows.append((t0 - 100000 - i, "Refused", "'Time'"))
    for t, outcome, check in rows:
        server.store.sql(
            "INSERT INTO signin_attempts (account_id, user_id, identity, time_ms, outcome, "
            "check_name, source) VALUES ('%s', '%s', 'ann@example.com', %d, '%s', %s, 'saml')"
            % (acct, uid, t, outcome, check))
    chk = server.get(chk_path).json()["SignInCheck"]
    got = chk["LastSignInAttempts"]
    assert len(got) == 10
    assert [(a["Outcome"], a["Check"]) for a in got[:3]] == [
        ("Allowed", None), ("Refused", "Signature"), ("Refused", "Audience")]
    assert all(a["Source"] == "saml" and ISO_RE.match(a["Time"]) for a in got)
    # an IdP certificate that expires in 10 days
    assert put_xml(server, acct, metadata("https://idp.example.org",
                                          [certs["long"], certs["soon"]])).status_code == 200
    w = server.get(chk_path).json()["SignInCheck"]["Warnings"]
    assert len(w) == 1 and "expiring.example.com" in w[0], w
    assert re.search(r"expires in (9|10) days", w[0]), w


def metric(server, name, account):
    text = server.get("/metrics", token=None).text
    m = re.search(r'^%s\{account="%s"\} (-?\d+)$' % (name, account), text, re.M)
    return int(m.group(1)) if m else None


def test_metrics_gauge(server, certs):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    name = "tessera_saml_idp_cert_expiry_seconds"
    assert "# TYPE %s gauge" % name in server.get("/metrics", token=None).text
    assert metric(server, name, acct) is None
    assert put_xml(server, acct, metadata("https://idp.example.org",
                                          [certs["long"], certs["soon"]])).status_code == 200
    v = wait_for(lambda: metric(server, name, acct), timeout=15, what="the gauge")
    # the soonest of the two: about 10 days
    assert 9 * 86400 < v <= 10 * 86400, v
    assert put_xml(server, acct, metadata("https://idp.example.org", [certs["long"]])).status_code == 200
    wait_for(lambda: metric(server, name, acct) > 300 * 86400, timeout=15, what="the gauge moved")
    assert server.delete(cfg_path(acct)).status_code == 204
    wait_for(lambda: metric(server, name, acct) is None, timeout=15, what="the gauge gone")
