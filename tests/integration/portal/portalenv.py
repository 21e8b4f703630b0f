"""
The portal tests' set-up, on the SAML and OIDC tests' own (samlenv, oidcenv): one Tessera
server per backend with two accounts, one signing in over SAML (the pysaml2 IdP) and one
over OpenID Connect (oidc-provider), each with example.com verified and SCIM groups mapped
to Pro and Basic. The start URL is followed by hand (requests, no redirect followed
automatically): /start/{AccountId} -> the protocol's own start -> the IdP -> back to
Tessera -> next. Targets, permission sets and assignments go in through the admin API
(SPEC §8 shapes).
"""
import os
import sys
import urllib.parse
import uuid
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "saml"))
sys.path.insert(0, os.path.join(HERE, "..", "oidc"))
with warnings.catch_warnings():
    # pysaml2 7.0.1 on Python 3.11 warns about its own schema loading at import
    warnings.simplefilter("ignore", DeprecationWarning)
    import samlenv as S  # noqa: E402
import oidcenv as OE  # noqa: E402
import oidcop as O  # noqa: E402

HTTP_TIMEOUT = S.HTTP_TIMEOUT
Browser = S.Browser


def follow_start(env, browser, acct, next_=None, raw_query=None):
    """GET /start/{acct} (next given, or a raw query string); the response, not followed."""
    url = env.base + "/start/" + acct
    if raw_query is not None:
        url += "?" + raw_query
    elif next_ is not None:
        url += "?" + urllib.parse.urlencode({"next": next_})
    return browser.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def saml_sign_in(env, browser, user, next_=None):
    """The start URL of the SAML account through pysaml2 and the ACS: (ACS response, rid)."""
    r = follow_start(env, browser, env.acct, next_)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    loc = r.headers["Location"]
    assert loc.startswith("/saml/%s/login?RelayState=" % env.acct), loc
    r = browser.get(env.base + loc, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    req = env.idp.read_request(r.headers["Location"])
    return env.acs(browser, env.idp.response(user["name"], req.id), relay_state=req.relay_state)


def oidc_sign_in(env, browser, user, next_=None):
    """The start URL of the OIDC account through oidc-provider: (callback response, rid)."""
    r = follow_start(env, browser, env.acct, next_)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    loc = r.headers["Location"]
    assert loc.startswith("/auth/%s/oidc?target_link_uri=" % env.acct), loc
    r = browser.get(env.base + loc, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    cb = O.at_provider(env.op, browser, r.headers["Location"], user["sub"], env.base + OE.CALLBACK)
    return env.callback(browser, cb)


class Access:
    """Targets, permission sets and assignments of one account, through the admin API."""

    def __init__(self, env, acct=None):
        self.env = env
        self.acct = acct or env.acct
        # names are unique in an account, and the env's account lives for the whole session
        self.tag = uuid.uuid4().hex[:6]

    def _call(self, method, path, body=None):
        r = S.requests.request(method, self.env.base + "/api/v1/accounts/%s/%s" % (self.acct, path), json=body,
                               headers={"Authorization": "Bearer " + self.env.srv.root_token}, timeout=HTTP_TIMEOUT)
        assert r.status_code in (200, 201, 204), (method, path, r.status_code, r.text[:300])
        return r.json() if r.content else None

    def _post(self, what, body):
        return self._call("POST", what, body)

    def target(self, name=None, url="https://console.example.org/home", kind="Console"):
        name = (name or "t") + "-" + self.tag
        return self._post("targets", {"Name": name, "Kind": kind, "Url": url})["Target"]

    def permission_set(self, name=None, duration=3600, policies=None):
        name = (name or "ps-" + uuid.uuid4().hex[:8]) + "-" + self.tag
        pol = policies or [{"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}]
        return self._post("permission-sets", {"Name": name, "Policies": pol,
                                              "SessionDuration": duration})["PermissionSet"]

    def assign(self, principal_type, principal_id, target, pset):
        return self._post("assignments", {"PrincipalType": principal_type, "PrincipalId": principal_id,
                                          "TargetId": target["TargetId"],
                                          "PermissionSetId": pset["PermissionSetId"]})["Assignment"]

    def unassign(self, assignment):
        self._call("DELETE", "assignments/" + assignment["AssignmentId"])

    def group(self, members):
        """A new SCIM group (no licence) with members: its id."""
        g = self.env.scim("POST", "/Groups", {"schemas": [S.GROUP], "displayName": "g-" + uuid.uuid4().hex[:8],
                                              "members": [{"value": m["id"]} for m in members]})
        return g["id"]
