"""
oidc_flows: the untimed first phase of bench/oidc_bench.sh. Starts N sign-ins
at Tessera (GET /auth/{AccountId}/oidc, each as a new browser, over keep-alive
connections on THREADS threads) and writes, for flow i:
  NONCES  "user%07d@DOMAIN <nonce>"   (what the stub signs into ID token i)
  FLOWS   "/auth/oidc/callback?code=c<i>&state=<state> tessera_oidc=<cookie>"
          (what bench/saml_post.c GETs in the timed phase)
User i mod USERS signs in, as bench/scim_load.c provisions them.

  /usr/bin/python3 oidc_flows.py BASE_URL ACCOUNT N USERS DOMAIN NONCES FLOWS [THREADS]
"""
import http.client
import sys
import threading
import urllib.parse


def main():
    base, acct, n, users, domain, nonces_path, flows_path = sys.argv[1:8]
    n, users = int(n), int(users)
    threads = int(sys.argv[8]) if len(sys.argv) > 8 else 8
    u = urllib.parse.urlsplit(base)
    out = [None] * n
    errors = []

    def run(part):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        for i in range(part, n, threads):
            conn.request("GET", "/auth/%s/oidc" % acct)
            r = conn.getresponse()
            r.read()
            loc = r.getheader("Location") or ""
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
            cookie = None
            for name, value in r.getheaders():
                if name.lower() == "set-cookie" and "tessera_oidc=" in value:
                    cookie = value.split(";", 1)[0].strip()
            if r.status != 302 or "state" not in q or "nonce" not in q or cookie is None:
                errors.append("flow %d: %d %s" % (i, r.status, loc[:200]))
                return
            out[i] = (q["state"][0], q["nonce"][0], cookie)

    ts = [threading.Thread(target=run, args=(p,)) for p in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("oidc_flows: " + errors[0])
    with open(nonces_path, "w") as fn, open(flows_path, "w") as ff:
        for i, (state, nonce, cookie) in enumerate(out):
            fn.write("user%07d@%s %s\n" % (i % users, domain, nonce))
            ff.write("/auth/oidc/callback?code=c%d&state=%s %s\n"
                     % (i, urllib.parse.quote(state, safe=""), cookie))


if __name__ == "__main__":
    main()
