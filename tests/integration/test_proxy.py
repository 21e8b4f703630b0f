"""
Many nodes (docs/product.md §2a): behind a load balancer the TCP peer is the balancer,
and the client's address comes in X-Forwarded-For, which anybody can send.
`serve --trusted-proxy CIDR` names the balancers; only from those peers is
the header believed, for the audit sourceIPAddress and the access log. From
any other peer it is ignored: a client cannot write an address of its
choosing into the audit trail (it could before: there was no such flag, and
the header was never read, so nothing behind a balancer had a client address).
"""
import json

from tessera_itest import run_cli

ACCOUNTS = "/api/v1/accounts"


def _event(server, rid):
    evs = [e for e in server.events() if e.get("clientRequestID") == rid]
    assert len(evs) == 1, evs
    return evs[0]


def _access(server, rid):
    lines = [json.loads(l) for l in server.stderr().splitlines() if l.startswith("{") and rid in l]
    lines = [l for l in lines if l.get("client_request_id") == rid]
    assert lines, server.stderr()[-2000:]
    return lines[-1]


def test_forwarded_for_believed_from_trusted_proxy(start_server):
    srv = start_server(["--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1/32"], init=True)
    h = {"X-Request-Id": "xff-trusted", "X-Forwarded-For": "6.6.6.6, 203.0.113.5"}
    r = srv.post(ACCOUNTS, {"Name": "via-proxy"}, headers=h)
    assert r.status_code == 201, r.text
    # the right-most address our proxy appended; the client's own "6.6.6.6" is not believed
    assert _event(srv, "xff-trusted")["sourceIPAddress"] == "203.0.113.5"
    line = _access(srv, "xff-trusted")
    assert line["peer"] == "203.0.113.5" and line["via"] == "127.0.0.1", line
    # a chain of two trusted proxies (a 10/8 hop behind the loopback one)
    h = {"X-Request-Id": "xff-chain", "X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.2.3"}
    assert srv.post(ACCOUNTS, {"Name": "via-two"}, headers=h).status_code == 201
    assert _event(srv, "xff-chain")["sourceIPAddress"] == "198.51.100.7"
    # IPv6 in the header; a refused request is audited with it too
    h = {"X-Request-Id": "xff-v6", "X-Forwarded-For": "[2001:DB8::5]:443"}
    r = srv.post(ACCOUNTS, {"Name": "v6"}, headers=h, token="TSAK.bogus")
    assert r.status_code in (401, 403), r.text
    assert any(e.get("sourceIPAddress") == "2001:db8::5" for e in srv.events()), "refusal not audited with the client"
    # without the header: the peer
    assert srv.post(ACCOUNTS, {"Name": "direct"}, headers={"X-Request-Id": "no-xff"}).status_code == 201
    assert _event(srv, "no-xff")["sourceIPAddress"] == "127.0.0.1"
    assert "via" not in _access(srv, "no-xff")


def test_forwarded_for_ignored_from_untrusted_peer(start_server):
    """The peer (127.0.0.1) is outside every trusted range: the spoofed header changes nothing."""
    srv = start_server(["--trusted-proxy", "10.0.0.0/8,fd00::/8"], init=True)
    for rid, xff in (("spoof-1", "203.0.113.5"), ("spoof-2", "10.0.0.1"), ("spoof-3", "garbage")):
        r = srv.post(ACCOUNTS, {"Name": rid}, headers={"X-Request-Id": rid, "X-Forwarded-For": xff})
        assert r.status_code == 201, r.text
        assert _event(srv, rid)["sourceIPAddress"] == "127.0.0.1"
        line = _access(srv, rid)
        assert line["peer"] == "127.0.0.1" and "via" not in line, line


def test_forwarded_for_ignored_without_flag(server):
    r = server.post(ACCOUNTS, {"Name": "x"}, headers={"X-Request-Id": "noflag", "X-Forwarded-For": "203.0.113.5"})
    assert r.status_code == 201
    assert _event(server, "noflag")["sourceIPAddress"] == "127.0.0.1"


def test_trusted_proxy_refused_when_malformed(store):
    store.init()
    for bad in ("10.0.0.1/8", "bogus", "::/129"):
        p = run_cli("serve", "--listen", "127.0.0.1:0", "--db", store.db, "--master-key-file", store.key,
                    "--trusted-proxy", bad, timeout=30)
        assert p.returncode == 2, (bad, p.returncode, p.stderr)
        assert "--trusted-proxy" in p.stderr, p.stderr
    # the environment is read like every other flag's
    p = run_cli("serve", "--listen", "127.0.0.1:0", "--db", store.db, "--master-key-file", store.key,
                env={"TESSERA_TRUSTED_PROXY": "not-a-range"}, timeout=30)
    assert p.returncode == 2 and "not-a-range" in p.stderr, p.stderr


def test_forwarded_for_in_h2o_own_answers(start_server):
    """h2o's own 413 (body past --max-body) is logged with the forwarded client too."""
    srv = start_server(["--trusted-proxy", "127.0.0.1/32", "--max-body", "2048"], init=True)
    big = json.dumps({"Name": "n", "Pad": "p" * 4000})
    r = srv.request("POST", ACCOUNTS, data=big.encode(),
                    headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 413, r.text
    lines = [json.loads(l) for l in srv.stderr().splitlines() if l.startswith("{") and '"h2o"' in l]
    assert lines and lines[-1]["peer"] == "203.0.113.9" and lines[-1]["via"] == "127.0.0.1", lines
