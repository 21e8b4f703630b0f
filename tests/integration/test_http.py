"""The HTTP surface: request ids, health, metrics, limits, routing errors."""
import json
import re
import socket
import time

import pytest
import requests

from tessera_itest import HTTP_TIMEOUT, SCALE, UUID_RE, assert_error, check_cases

ACCOUNTS = "/api/v1/accounts"


def test_request_id_echoed_when_well_formed(server):
    for rid in ("abc-123", "A.b_c:d-9", "x" * 128):
        r = server.get("/healthz", headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid
        r = server.get(ACCOUNTS, headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid


def test_request_id_replaced_when_malformed(server):
    def one(rid):
        r = server.request("GET", ACCOUNTS, headers={"X-Request-Id": rid.encode("utf-8")})
        got = r.headers["X-Request-Id"]
        assert got != rid
        assert UUID_RE.match(got), got

    check_cases(["has space", "semi;colon", "x" * 129, 'quote"d', "slash/ed", "ünï", ""], one)


def test_request_id_generated(server):
    ids = set()
    for path in ("/healthz", "/readyz", ACCOUNTS, "/nope"):
        r = server.get(path)
        assert UUID_RE.match(r.headers["X-Request-Id"]), r.headers
        ids.add(r.headers["X-Request-Id"])
    assert len(ids) == 4


def test_health_endpoints(server):
    r = server.get("/healthz", token=None)
    assert r.status_code == 200
    r = server.get("/readyz", token=None)
    assert r.status_code == 200, r.text
    r = server.request("HEAD", "/healthz", token=None)
    assert r.status_code == 200
    assert r.content == b""


def _metric(text, name, **labels):
    """The value of one sample, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def test_metrics(server):
    server.create_account("m1")
    server.create_account("m2")
    server.get(ACCOUNTS, token=None)
    server.get("/nope")
    r = server.get("/metrics", token=None)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    for family in ("tessera_http_requests_total", "tessera_http_request_duration_seconds", "tessera_store_errors_total"):
        assert "# TYPE " + family in text, family
    assert _metric(text, "tessera_http_requests_total", route="CreateAccount", status="201") == 2
    assert _metric(text, "tessera_http_requests_total", route="ListAccounts", status="401") == 1
    assert _metric(text, "tessera_http_requests_total", route="healthz", status="200") >= 1
    assert _metric(text, "tessera_http_request_duration_seconds_bucket", route="CreateAccount", le="+Inf") == 2
    assert _metric(text, "tessera_http_request_duration_seconds_count", route="CreateAccount") == 2
    assert _metric(text, "tessera_store_errors_total") == 0
    # every sample line parses as Prometheus text
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? [-+0-9.eInf]+$', line), line


def test_unknown_path(server):
    for path in ("/nope", "/api/v1/nope", "/api/v1/accounts/x/y/z", "/api/v2/accounts"):
        assert_error(server.get(path), 404, "NotFoundException")


def test_wrong_method(server):
    for method, path in (("PATCH", ACCOUNTS), ("DELETE", ACCOUNTS), ("PUT", ACCOUNTS + "/x"), ("POST", "/healthz"), ("DELETE", "/api/v1/audit-events")):
        r = server.request(method, path, data=b"{}")
        assert r.status_code == 405, (method, path, r.status_code, r.text)
        assert r.json()["Code"]


def test_error_bodies_are_json(server):
    r = server.get(ACCOUNTS, token=None)
    assert r.headers["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"Code", "Message"}


def test_body_over_max_body(start_server):
    srv = start_server(init=True, extra_args=["--max-body", "2048"])
    name = "n" * 90
    ok = json.dumps({"Name": name, "Pad": "p" * 1500})
    assert len(ok) < 2048
    assert srv.request("POST", ACCOUNTS, data=ok.encode(), headers={"Content-Type": "application/json"}).status_code == 201
    big = json.dumps({"Name": name, "Pad": "p" * 4000})
    r = srv.request("POST", ACCOUNTS, data=big.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    # chunked, without a length up front: 413, or the connection is cut
    status = _raw_chunked_post(srv, ACCOUNTS, [big[:1000].encode(), big[1000:].encode()])
    assert status in (413, None), status
    assert len(srv.get(ACCOUNTS).json()["Accounts"]) == 1
    assert srv.get("/healthz").status_code == 200


def _raw_chunked_post(srv, path, chunks):
    """POSTs a chunked body over a raw socket; the status line's code, or None if cut off."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * SCALE)
    head = (
        "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % (path, srv.root_token)
    ).encode()
    data = b""
    try:
        s.sendall(head)
        for c in chunks:
            s.sendall(b"%x\r\n%s\r\n" % (len(c), c))
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    try:
        while b"\r\n" not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(m.group(1)) if m else None


def test_deep_json(server):
    for depth in (33, 100, 100000):
        body = '{"Name":' + "[" * depth + "]" * depth + "}"
        r = server.request("POST", ACCOUNTS, data=body.encode(), headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 413), (depth, r.status_code)
        assert r.json()["Code"] in ("BadRequestException", "RequestTooLargeException"), r.text
    # 32 levels are fine for the parser (the Name is still wrong)
    body = '{"Name":' + "[" * 31 + "]" * 31 + "}"
    r = server.request("POST", ACCOUNTS, data=body.encode(), headers={"Content-Type": "application/json"})
    assert_error(r, 400, "BadRequestException")
    assert server.get("/healthz").status_code == 200


def test_long_json_string(server):
    body = json.dumps({"Name": "a", "Pad": "z" * (64 * 1024 + 10)})
    r = server.request("POST", ACCOUNTS, data=body.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["Code"]
    assert server.get(ACCOUNTS).json()["Accounts"] == []


def test_long_path(server):
    r = server.get("/api/v1/accounts/" + "a" * 5000)
    assert r.status_code in (404, 414), r.status_code
    assert server.get("/healthz").status_code == 200


def test_garbage_on_the_wire(server):
    """A client speaking nonsense gets an error or a closed socket; the server lives on."""
    for junk in (b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10 * SCALE)
        try:
            s.sendall(junk)
            try:
                s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                pass
        finally:
            s.close()
    assert server.get("/healthz").status_code == 200
    assert server.get(ACCOUNTS).status_code == 200


def test_keepalive_many_requests(server):
    s = requests.Session()
    for i in range(50):
        r = s.get(server.url + "/healthz", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200
    s.close()


@pytest.mark.parametrize("backend", ["postgres"])  # a SQLite file cannot go away under the server
def test_readyz_follows_the_store(start_server, store, backend):
    """/readyz is 503 while PostgreSQL refuses the server, and 200 again once it is back."""
    srv = start_server(init=True)
    assert srv.get("/readyz").status_code == 200
    srv.create_account("before")
    cluster, db = store.cluster, store.dbname
    cluster.admin("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false" % db)
    cluster.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid()" % db)
    try:
        statuses = [srv.get("/readyz").status_code for _ in range(20)]
        assert all(s == 503 for s in statuses), statuses
        r = srv.get("/readyz")
        assert r.status_code == 503 and r.json()
        r = srv.post(ACCOUNTS, {"Name": "while down"})
        assert r.status_code in (500, 503), r.text
        assert r.json()["Code"] in ("ServiceFailureException", "ServiceUnavailableException")
        m = srv.get("/metrics").text
        assert _metric(m, "tessera_store_errors_total") >= 1
    finally:
        cluster.admin("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true" % db)
    deadline = time.monotonic() + 20 * SCALE
    while time.monotonic() < deadline:
        if srv.get("/readyz").status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("/readyz did not recover after the store came back")
    # every worker gets its connection back (a call may fail once per broken connection)
    ok = 0
    for _ in range(40):
        r = srv.post(ACCOUNTS, {"Name": "after"})
        ok += r.status_code == 201
    assert ok >= 30, ok
    statuses = [srv.post(ACCOUNTS, {"Name": "after2"}).status_code for _ in range(20)]
    assert statuses == [201] * 20, statuses
