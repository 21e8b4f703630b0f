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


# ---- Text that is not UTF-8, error shapes, request ids, response headers

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _scim_key(server):
    acct = server.create_account("utf8-" + str(server.port))
    r = server.post(ACCOUNTS + "/" + acct["AccountId"] + "/api-keys", {"Description": "scim"})
    assert r.status_code == 201, r.text
    return acct, r.json()["ApiKey"]["Token"]


def assert_scim_error(r, status, scim_type=None):
    """An error under /scim/v2: RFC 7644 §3.12, status as a string."""
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/scim+json"), r.headers
    body = r.json()
    assert body["schemas"] == [SCIM_ERROR], body
    assert body["status"] == str(status), body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


def _raw(srv, request_bytes):
    """Sends raw bytes; returns (status or None, headers text, body bytes)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * SCALE)
    data = b""
    try:
        s.sendall(request_bytes)
        while True:
            try:
                got = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not got:
                break
            data += got
            head, sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            if sep and m and len(body) >= int(m.group(1)):
                break
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
    return (int(m.group(1)) if m else None), head.decode("latin-1"), body


def _log_lines(srv, needle):
    return [json.loads(l) for l in srv.stderr().splitlines() if l.startswith("{") and needle in l]


def test_non_utf8_path_parameter_admin(server):
    """%ff in a path parameter crashed the server (json_pack NULL); now a 400 for any key."""
    acct = server.create_account("owner")
    other = server.create_account("other")
    ro = server.create_key(["ReadOnly"])
    r = server.post("/api/v1/admin-keys", {"Policies": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "tessera:*", "Resource": "arn:tessera:::account/" + other["AccountId"]}]}]})
    assert r.status_code == 201, r.text
    scoped = r.json()["AdminKey"]["Token"]
    paths = [
        ("GET", ACCOUNTS + "/%ff"),
        ("GET", ACCOUNTS + "/%FF/settings"),
        ("DELETE", ACCOUNTS + "/%c3%28"),
        ("POST", ACCOUNTS + "/%ed%a0%80"),
        ("GET", ACCOUNTS + "/" + acct["AccountId"] + "/users/%ff"),
        ("DELETE", ACCOUNTS + "/" + acct["AccountId"] + "/api-keys/%c0%af"),
        ("GET", ACCOUNTS + "/" + acct["AccountId"] + "/domains/%e2%82"),
        ("DELETE", "/api/v1/admin-keys/%ff"),
    ]

    def one(case):
        method, path = case
        for token in (server.root_token, ro["Token"], scoped):
            r = server.request(method, path, token=token, data=b"{}")
            body = assert_error(r, 400, "BadRequestException")
            assert "UTF-8" in body["Message"], body
        assert server.get("/healthz").status_code == 200

    check_cases(paths, one)
    assert server.alive()
    # every field of the access log line is there for such a request
    lines = [l for l in _log_lines(server, '"msg":"request"') if l.get("path", "").lower() == ACCOUNTS + "/%ff"]
    assert lines, server.stderr()[-2000:]
    for l in lines:
        assert l["method"] == "GET" and l["status"] == 400 and l["peer"] == "127.0.0.1", l
        assert UUID_RE.match(l["request_id"]), l


def test_non_utf8_scim(server):
    """The same under /scim/v2: 400 in the SCIM error shape, scimType invalidValue."""
    _, token = _scim_key(server)
    cases = [
        ("GET", "/scim/v2/Users/%ff"),
        ("PUT", "/scim/v2/Users/%ff"),
        ("PATCH", "/scim/v2/Users/%fe%ff"),
        ("DELETE", "/scim/v2/Users/%c3%28"),
        ("GET", "/scim/v2/Groups/%ff"),
        ("PATCH", "/scim/v2/Groups/%ed%a0%80"),
        ("GET", "/scim/v2/Schemas/%ff"),
        ("GET", "/scim/v2/ResourceTypes/%ff"),
        ("GET", "/scim/v2/Users?filter=userName%20eq%20%22%ff%22"),
        ("GET", "/scim/v2/Users?attributes=%ff"),
        ("GET", "/scim/v2/Groups?count=%c0%af"),
    ]

    def one(case):
        method, path = case
        r = server.request(method, path, token=token, data=b"{}", headers={"Content-Type": "application/scim+json"})
        body = assert_scim_error(r, 400, "invalidValue")
        assert "UTF-8" in body["detail"], body

    check_cases(cases, one)
    # a header that is not UTF-8, on both surfaces
    hdr = {"X-Custom": "caf\xe9".encode("latin-1")}
    body = assert_scim_error(server.request("GET", "/scim/v2/Users", token=token, headers=hdr), 400, "invalidValue")
    assert "x-custom" in body["detail"], body
    assert_error(server.request("GET", ACCOUNTS, headers=hdr), 400, "BadRequestException")
    assert server.alive()
    assert server.get("/healthz").status_code == 200


def test_non_utf8_raw_bytes_logged_escaped(server):
    """Raw bytes above 0x7F in the request line: 400, and the log line keeps every field."""
    head = "Host: x\r\nAuthorization: Bearer %s\r\n\r\n" % server.root_token
    status, headers, body = _raw(server, b"GET /api/v1/accounts/\xff\xfe HTTP/1.1\r\n" + head.encode())
    assert status == 400, (status, headers, body)
    assert json.loads(body)["Code"] == "BadRequestException", body
    _, scim_token = _scim_key(server)
    scim_head = "Host: x\r\nAuthorization: Bearer %s\r\n\r\n" % scim_token
    status, headers, body = _raw(server, b"GET /scim/v2/Users/\xff HTTP/1.1\r\n" + scim_head.encode())
    assert status == 400, (status, headers, body)
    assert json.loads(body)["schemas"] == [SCIM_ERROR], body
    status, _, body = _raw(server, b"GET /api/v1/accounts?name=\xff HTTP/1.1\r\n" + head.encode())
    assert status == 400, (status, body)
    time.sleep(0.2)
    lines = [l for l in _log_lines(server, '"msg":"request"') if "\\xFF" in l.get("path", "")]
    paths = sorted(l["path"] for l in lines)
    assert paths == ["/api/v1/accounts/\\xFF\\xFE", "/scim/v2/Users/\\xFF"], server.stderr()[-3000:]
    for l in lines:
        assert l["method"] == "GET" and l["status"] == 400 and l["peer"] == "127.0.0.1", l
        assert UUID_RE.match(l["request_id"]), l
    assert server.alive()


def test_non_utf8_audited(server):
    """A refused %ff request is audited under the key that sent it (the crash audited nothing)."""
    ro = server.create_key(["ReadOnly"])
    assert_error(server.get(ACCOUNTS + "/%ff", token=ro["Token"], headers={"X-Request-Id": "bad-utf8-1"}), 400)
    assert_error(server.get(ACCOUNTS, headers={"X-Request-Id": "bad-utf8-2", "X-Custom": b"\xff"}), 400)
    # no key: still 401 first, as for any other call
    assert_error(server.get(ACCOUNTS + "/%ff", token=None, headers={"X-Request-Id": "bad-utf8-3"}), 401)
    by = {e.get("clientRequestID"): e for e in server.events()}
    ev = by["bad-utf8-1"]
    assert ev["eventName"] == "GetAccount", ev
    assert ev["errorCode"] == "BadRequestException", ev
    assert "UTF-8" in ev["errorMessage"], ev
    assert ev["userIdentity"]["accessKeyId"] == ro["AccessKeyId"], ev
    assert "recipientAccountId" not in ev, ev
    assert ev["requestParameters"]["Path"].lower() == ACCOUNTS + "/%ff", ev
    assert by["bad-utf8-2"]["eventName"] == "ListAccounts" and by["bad-utf8-2"]["errorCode"] == "BadRequestException"
    assert by["bad-utf8-3"]["errorCode"] == "UnauthorizedClientException"
    # a SCIM write refused the same way is audited too; a read is answered, as reads are not audited
    acct, token = _scim_key(server)
    r = server.request("PATCH", "/scim/v2/Users/%ff", token=token, headers={"X-Request-Id": "bad-utf8-4", "Content-Type": "application/scim+json"},
                       data=b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}')
    assert_scim_error(r, 400, "invalidValue")
    ev = [e for e in server.events() if e.get("clientRequestID") == "bad-utf8-4"]
    assert len(ev) == 1 and ev[0]["errorCode"] == "BadRequestException", ev
    assert ev[0]["eventSource"] == "scim.tessera" and ev[0]["recipientAccountId"] == acct["AccountId"], ev
    assert ev[0]["requestParameters"]["Path"].lower() == "/scim/v2/users/%ff", ev


def test_scim_errors_in_scim_shape(start_server):
    """Under /scim/v2 every 404/405/413/414/415 is a SCIM error, not {"Code","Message"}."""
    srv = start_server(init=True, extra_args=["--max-body", "4096"])
    _, token = _scim_key(srv)
    assert_scim_error(srv.get("/scim/v2/Nope", token=token), 404)
    assert_scim_error(srv.get("/scim/v2/Users/x/y", token=token), 404)
    assert_scim_error(srv.get("/scim/v2", token=token), 404)
    assert_scim_error(srv.request("DELETE", "/scim/v2/Users", token=token), 405)
    assert_scim_error(srv.request("PATCH", "/scim/v2/Groups", token=token, data=b"{}"), 405)
    assert_scim_error(srv.get("/scim/v2/Users/" + "a" * 3000, token=token), 414)
    big = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x" * 8000})
    r = srv.request("POST", "/scim/v2/Users", token=token, data=big.encode(), headers={"Content-Type": "application/scim+json"})
    assert_scim_error(r, 413)
    r = srv.request("POST", "/scim/v2/Users", token=token, data=b"userName=x", headers={"Content-Type": "text/plain"})
    assert_scim_error(r, 415)
    # the admin API keeps its own shape for the same errors
    assert_error(srv.get("/api/v1/nope"), 404, "NotFoundException")
    assert_error(srv.request("POST", ACCOUNTS, data=big.encode(), headers={"Content-Type": "application/json"}), 413)
    assert_error(srv.get(ACCOUNTS + "/" + "a" * 3000), 414)


def test_h2o_errors_in_surface_shape(start_server):
    """h2o's own answers (broken chunked encoding, body too large) are JSON in the path's shape."""
    srv = start_server(init=True, extra_args=["--max-body", "2048"])
    _, token = _scim_key(srv)
    for path, scim in (("/scim/v2/Users", True), (ACCOUNTS, False)):
        auth = "Authorization: Bearer %s\r\n" % (token if scim else srv.root_token)
        # broken chunked encoding
        req = ("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" % (path, auth)).encode()
        status, headers, body = _raw(srv, req)
        assert status == 400, (path, status, headers, body)
        assert "application/" in headers.lower() and "json" in headers.lower(), (path, headers)
        doc = json.loads(body)
        if scim:
            assert doc["schemas"] == [SCIM_ERROR] and doc["status"] == "400", doc
        else:
            assert doc["Code"] == "BadRequestException", doc
        # a Content-Length past --max-body: h2o answers 413 before any handler
        req = ("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
               "Content-Length: 100000\r\n\r\n{" % (path, auth)).encode()
        status, headers, body = _raw(srv, req)
        assert status == 413, (path, status, headers, body)
        doc = json.loads(body)
        if scim:
            assert doc["schemas"] == [SCIM_ERROR] and doc["status"] == "413", doc
        else:
            assert doc["Code"] == "RequestTooLargeException", doc
    assert srv.get("/healthz").status_code == 200


def test_client_request_id_is_not_the_audit_request_id(server):
    """The client's X-Request-Id is echoed and kept as clientRequestID; requestID is ours."""
    r = server.post(ACCOUNTS, {"Name": "rid"}, headers={"X-Request-Id": "client-chosen-1"})
    assert r.status_code == 201
    assert r.headers["X-Request-Id"] == "client-chosen-1"
    # a second call reusing the same id cannot make two events share a requestID
    server.get(ACCOUNTS, headers={"X-Request-Id": "client-chosen-1"})
    events = [e for e in server.events() if e.get("clientRequestID") == "client-chosen-1"]
    assert sorted(e["eventName"] for e in events) == ["CreateAccount", "ListAccounts"], events
    for e in events:
        assert UUID_RE.match(e["requestID"]), e
    assert events[0]["requestID"] != events[1]["requestID"]
    # a malformed one is neither echoed nor kept
    r = server.get(ACCOUNTS, headers={"X-Request-Id": "has space"})
    gen = r.headers["X-Request-Id"]
    assert UUID_RE.match(gen)
    ev = [e for e in server.events() if e["requestID"] == gen]
    assert len(ev) == 1 and "clientRequestID" not in ev[0], ev
    # SCIM writes too
    _, token = _scim_key(server)
    r = server.request("POST", "/scim/v2/Users", token=token, headers={"X-Request-Id": "scim-rid-1", "Content-Type": "application/scim+json"},
                       data=json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rid@example.com"}).encode())
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == "scim-rid-1"
    ev = [e for e in server.events() if e.get("clientRequestID") == "scim-rid-1"]
    assert len(ev) == 1 and UUID_RE.match(ev[0]["requestID"]), ev


def test_too_many_headers_in_surface_shape(server):
    """Over TS_HTTP_MAX_HEADERS (64) request headers: 431, in the path's shape."""
    _, token = _scim_key(server)
    many = {"X-H%d" % i: "v" for i in range(70)}
    assert_scim_error(server.get("/scim/v2/Users", token=token, headers=many), 431)
    assert_error(server.get(ACCOUNTS, headers=many), 431, "BadRequestException")
    assert server.get("/healthz").status_code == 200
