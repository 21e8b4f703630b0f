"""Accounts and their settings over the admin API (docs/product.md §2)."""
import base64
import binascii
import json
import uuid

from tessera_itest import UUID_RE, assert_error, check_cases

ACCOUNTS = "/api/v1/accounts"
DEFAULT_SETTINGS = {
    "DisableRemoteControl": False,
    "EnableDialOut": False,
    "ScimCompatibility": "permissive",
    "CaseInsensitiveIdentityMatch": False,
    "AllowIdpInitiatedSignIn": False,
}


def test_create_account_shape(server):
    r = server.post(ACCOUNTS, {"Name": "Example Corp"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    a = r.json()["Account"]
    assert UUID_RE.match(a["AccountId"]), a
    assert a["Name"] == "Example Corp"
    assert a["AccountType"] == "Team"
    assert a["AccountStatus"] == "Active"
    assert isinstance(a["CreatedTimestamp"], str) and a["CreatedTimestamp"].startswith("20")
    assert "DefaultLicense" in a and "SupportedLicenses" in a
    assert a["DefaultLicense"] in a["SupportedLicenses"]

    got = server.get(ACCOUNTS + "/" + a["AccountId"])
    assert got.status_code == 200, got.text
    assert got.json()["Account"] == a


def test_create_enterprise_account(server):
    a = server.create_account("Big Co", "Enterprise")
    assert a["AccountType"] == "Enterprise"
    assert server.get(ACCOUNTS + "/" + a["AccountId"]).json()["Account"]["AccountType"] == "Enterprise"


def test_account_ids_are_unique(server):
    ids = {server.create_account("same name")["AccountId"] for _ in range(5)}
    assert len(ids) == 5


def test_name_limits(server):
    assert server.create_account("x" * 100)["Name"] == "x" * 100
    # 100 characters, 200 bytes: the limit counts characters
    assert server.create_account("é" * 100)["Name"] == "é" * 100
    assert_error(server.post(ACCOUNTS, {"Name": "x" * 101}), 400, "BadRequestException")
    assert_error(server.post(ACCOUNTS, {"Name": "é" * 101}), 400, "BadRequestException")


BAD_CREATE_BODIES = [
    {"Name": ""},
    {"Name": "tab\there"},
    {"Name": "new\nline"},
    {"Name": "del\x7f"},
    {"Name": "nul\x00byte"},
    {"Name": 42},
    {"Name": None},
    {"Name": ["a"]},
    {},
    {"AccountType": "Team"},
    {"Name": "ok", "AccountType": "Personal"},
    {"Name": "ok", "AccountType": "team"},
    {"Name": "ok", "AccountType": 1},
]
BAD_JSON = ["", "{", '{"Name": "a",}', "[]", '"Name"', "42", "null", '{"Name":"a"} trailing', '{"Name":"a","Name":"b"}', '{"Name":"\\x"}', "\xff\xfe"]


def test_create_account_bad_body(server):
    check_cases(BAD_CREATE_BODIES, lambda body: assert_error(server.post(ACCOUNTS, body), 400, "BadRequestException"), json.dumps)


def test_create_account_bad_json(server):
    def one(raw):
        r = server.request("POST", ACCOUNTS, data=raw.encode("latin-1"), headers={"Content-Type": "application/json"})
        assert_error(r, 400, "BadRequestException")

    check_cases(BAD_JSON, one)


def test_rejected_create_creates_nothing(server):
    server.post(ACCOUNTS, {"Name": "x" * 101})
    server.post(ACCOUNTS, {"Name": "ok", "AccountType": "Nope"})
    r = server.get(ACCOUNTS)
    assert r.status_code == 200
    assert r.json()["Accounts"] == []


def test_list_accounts(server):
    made = [server.create_account("list-%d" % i) for i in range(3)]
    r = server.get(ACCOUNTS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "NextToken" not in body or not body["NextToken"]
    assert sorted(a["AccountId"] for a in body["Accounts"]) == sorted(a["AccountId"] for a in made)
    for a in body["Accounts"]:
        assert a == next(m for m in made if m["AccountId"] == a["AccountId"])


def _walk(server, page_size, **extra):
    seen, pages, token = [], [], None
    for _ in range(100):
        params = {"max-results": str(page_size), **extra}
        if token:
            params["next-token"] = token
        r = server.get(ACCOUNTS, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["Accounts"]) <= page_size
        pages.append(len(body["Accounts"]))
        seen.extend(a["AccountId"] for a in body["Accounts"])
        token = body.get("NextToken")
        if not token:
            return seen, pages
    raise AssertionError("paging did not end")


def test_list_accounts_paging(server):
    made = {server.create_account("page-%02d" % i)["AccountId"] for i in range(25)}
    seen, pages = _walk(server, 10)
    assert len(seen) == 25 and set(seen) == made, "every account exactly once"
    assert pages[:3] == [10, 10, 5]
    again, _ = _walk(server, 10)
    assert again == seen, "the order is stable"
    one_page, _ = _walk(server, 200)
    assert one_page == seen, "the same order whatever the page size"


def test_list_accounts_name_filter(server):
    a = server.create_account("alpha")
    server.create_account("beta")
    b2 = server.create_account("alpha")
    r = server.get(ACCOUNTS, params={"name": "alpha"})
    assert r.status_code == 200, r.text
    assert sorted(x["AccountId"] for x in r.json()["Accounts"]) == sorted([a["AccountId"], b2["AccountId"]])
    r = server.get(ACCOUNTS, params={"name": "nobody"})
    assert r.json()["Accounts"] == []


def test_list_accounts_bad_paging(server):
    cases = [
        {"max-results": "0"},
        {"max-results": "201"},
        {"max-results": "x"},
        {"max-results": "-1"},
        {"max-results": "10x"},
        {"max-results": ""},
        {"next-token": "!!!not-base64!!!"},
        {"next-token": "%%%"},
    ]
    check_cases(cases, lambda p: assert_error(server.get(ACCOUNTS, params=p), 400, "BadRequestException"))


def test_list_accounts_max_results_bounds(server):
    for n in ("1", "200"):
        assert server.get(ACCOUNTS, params={"max-results": n}).status_code == 200


def test_rename_account(server):
    a = server.create_account("before")
    r = server.post(ACCOUNTS + "/" + a["AccountId"], {"Name": "after"})
    assert r.status_code == 200, r.text
    renamed = r.json()["Account"]
    assert renamed["Name"] == "after"
    assert renamed["AccountId"] == a["AccountId"]
    assert renamed["AccountType"] == a["AccountType"]
    assert server.get(ACCOUNTS + "/" + a["AccountId"]).json()["Account"]["Name"] == "after"


def test_rename_account_bad_name(server):
    a = server.create_account("keep")
    assert_error(server.post(ACCOUNTS + "/" + a["AccountId"], {"Name": ""}), 400, "BadRequestException")
    assert_error(server.post(ACCOUNTS + "/" + a["AccountId"], {"Name": "y" * 101}), 400, "BadRequestException")
    assert_error(server.post(ACCOUNTS + "/" + a["AccountId"], {}), 400, "BadRequestException")
    assert server.get(ACCOUNTS + "/" + a["AccountId"]).json()["Account"]["Name"] == "keep"


def test_delete_account(server):
    a = server.create_account("doomed")
    keep = server.create_account("kept")
    r = server.delete(ACCOUNTS + "/" + a["AccountId"])
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(server.get(ACCOUNTS + "/" + a["AccountId"]), 404, "NotFoundException")
    assert_error(server.delete(ACCOUNTS + "/" + a["AccountId"]), 404, "NotFoundException")
    ids = [x["AccountId"] for x in server.get(ACCOUNTS).json()["Accounts"]]
    assert ids == [keep["AccountId"]]


def test_unknown_account(server):
    server.create_account("exists")

    def one(account_id):
        path = ACCOUNTS + "/" + account_id
        assert_error(server.get(path), 404, "NotFoundException")
        assert_error(server.post(path, {"Name": "x"}), 404, "NotFoundException")
        assert_error(server.delete(path), 404, "NotFoundException")
        assert_error(server.get(path + "/settings"), 404, "NotFoundException")
        assert_error(server.put(path + "/settings", {"AccountSettings": {"EnableDialOut": True}}), 404, "NotFoundException")

    check_cases([str(uuid.uuid4()), "not-a-uuid", "%2e%2e", "x" * 300], one)


def test_settings_defaults(server):
    a = server.create_account("settings")
    r = server.get(ACCOUNTS + "/" + a["AccountId"] + "/settings")
    assert r.status_code == 200, r.text
    assert r.json() == {"AccountSettings": DEFAULT_SETTINGS}


def test_settings_update_persists(server):
    a = server.create_account("settings")
    other = server.create_account("other")
    path = ACCOUNTS + "/" + a["AccountId"] + "/settings"
    r = server.put(path, {"AccountSettings": {"EnableDialOut": True, "ScimCompatibility": "aws-strict"}})
    assert r.status_code == 204, r.text
    want = dict(DEFAULT_SETTINGS, EnableDialOut=True, ScimCompatibility="aws-strict")
    assert server.get(path).json()["AccountSettings"] == want
    # a second partial update keeps the first one
    r = server.put(path, {"AccountSettings": {"CaseInsensitiveIdentityMatch": True}})
    assert r.status_code == 204, r.text
    want["CaseInsensitiveIdentityMatch"] = True
    assert server.get(path).json()["AccountSettings"] == want
    # and back
    r = server.put(path, {"AccountSettings": {"EnableDialOut": False}})
    assert r.status_code == 204
    want["EnableDialOut"] = False
    assert server.get(path).json()["AccountSettings"] == want
    # the other account is untouched
    assert server.get(ACCOUNTS + "/" + other["AccountId"] + "/settings").json()["AccountSettings"] == DEFAULT_SETTINGS


BAD_SETTINGS = [
    {"AccountSettings": {"EnableDialOut": True, "NoSuchSetting": True}},
    {"AccountSettings": {"EnableDialOut": True, "DisableRemoteControl": "yes"}},
    {"AccountSettings": {"EnableDialOut": True, "DisableRemoteControl": 1}},
    {"AccountSettings": {"EnableDialOut": True, "ScimCompatibility": "lenient"}},
    {"AccountSettings": {"EnableDialOut": True, "ScimCompatibility": True}},
    {"AccountSettings": {"EnableDialOut": True, "AllowIdpInitiatedSignIn": None}},
    {"AccountSettings": {"enabledialout": True}},
    {"AccountSettings": [{"EnableDialOut": True}]},
    {"AccountSettings": "EnableDialOut"},
    {"EnableDialOut": True},
    {},
]


def test_settings_update_invalid_is_atomic(server):
    a = server.create_account("atomic")
    path = ACCOUNTS + "/" + a["AccountId"] + "/settings"
    assert server.put(path, {"AccountSettings": {"DisableRemoteControl": True}}).status_code == 204
    before = server.get(path).json()
    assert before["AccountSettings"]["DisableRemoteControl"] is True

    def one(body):
        assert_error(server.put(path, body), 400, "BadRequestException")
        assert server.get(path).json() == before, "a refused update changed the settings"

    check_cases(BAD_SETTINGS, one, json.dumps)


def test_settings_update_bad_json(server):
    a = server.create_account("json")
    path = ACCOUNTS + "/" + a["AccountId"] + "/settings"
    r = server.request("PUT", path, data=b'{"AccountSettings": {', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "BadRequestException")
    assert server.get(path).json() == {"AccountSettings": DEFAULT_SETTINGS}


# ---------------------------------------------------------------- paging tokens


def _decoded(token):
    """The bytes a token decodes to as base64url, or None when it is not base64."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None


def assert_opaque(token, ids):
    """A NextToken names nothing: no id in it, and it does not decode to text."""
    assert isinstance(token, str) and token
    raw = _decoded(token) or b""
    for i in ids:
        assert i not in token and i.encode() not in raw, (token, i)
    assert not (raw and all(0x20 <= c < 0x7F for c in raw)), "decodes to text: %r" % raw


def _tampered(token):
    """The token with one character changed, in the middle and at the end."""
    def flip(c):
        return "A" if c != "A" else "B"
    mid = len(token) // 2
    return [token[:mid] + flip(token[mid]) + token[mid + 1:], token[:-1] + flip(token[-1]), token[:-4], token + "AAAA"]


def test_next_token_is_opaque_and_bound_to_its_listing(server):
    made = [server.create_account("opaque-%d" % i)["AccountId"] for i in range(3)]
    r = server.get(ACCOUNTS, params={"max-results": "1"})
    assert r.status_code == 200, r.text
    first = r.json()["Accounts"][0]["AccountId"]
    token = r.json()["NextToken"]
    assert_opaque(token, made)
    # it works, unchanged, for the next page of the same listing
    r = server.get(ACCOUNTS, params={"max-results": "1", "next-token": token})
    assert r.status_code == 200, r.text
    second = r.json()["Accounts"][0]["AccountId"]
    assert second != first and second in made
    # the same page size is not part of the listing
    r = server.get(ACCOUNTS, params={"max-results": "5", "next-token": token})
    assert r.status_code == 200, r.text
    assert {a["AccountId"] for a in r.json()["Accounts"]} == set(made) - {first}
    assert "NextToken" not in r.json(), "no more accounts, no token"

    other = server.create_key(["FullAccess"])
    bad = [
        ({"next-token": t}, "root") for t in _tampered(token)
    ] + [
        # what a token used to be: the id in base64
        ({"next-token": base64.urlsafe_b64encode(first.encode()).decode().rstrip("=")}, "root"),
        # another filter, another key
        ({"next-token": token, "name": "opaque-1"}, "root"),
        ({"next-token": token}, other["Token"]),
    ]

    def refused(case):
        params, key = case
        body = assert_error(server.get(ACCOUNTS, params=params, token=key), 400, "BadRequestException")
        assert "next-token" in body["Message"], body

    check_cases(bad, refused)
    # another listing refuses it too
    body = assert_error(server.get("/api/v1/admin-keys", params={"next-token": token}), 400, "BadRequestException")
    assert first not in json.dumps(body)


def _walk_listing(server, path, member, key, params=None):
    """Pages of one through a listing: the items' keys and the tokens seen."""
    items, tokens, token = [], [], None
    for _ in range(50):
        p = {"max-results": "1", **(params or {})}
        if token:
            p["next-token"] = token
        r = server.get(path, params=p)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        items.extend(str(x[key]) for x in body[member])
        token = body.get("NextToken")
        if not token:
            return items, tokens
        tokens.append(token)
    raise AssertionError("paging did not end: " + path)


def test_every_admin_listing_has_opaque_tokens(server):
    acct = server.create_account("listings")["AccountId"]
    base = ACCOUNTS + "/" + acct
    for i in range(2):
        assert server.post(base + "/api-keys", {"Description": "k%d" % i}).status_code == 201
        assert server.post(base + "/domains", {"DomainName": "d%d.example.com" % i}).status_code in (200, 201)
        server.create_key(["ReadOnly"])
    r = server.post(base + "/users?operation=add", {"UserEmailList": ["u0@example.com", "u1@example.com"]})
    assert r.status_code in (200, 201), r.text
    listings = [
        ("/api/v1/admin-keys", "AdminKeys", "AccessKeyId", None),
        ("/api/v1/audit-events", "Events", "eventID", {"eventName": "CreateApiKey"}),
        (base + "/api-keys", "ApiKeys", "ApiKeyId", None),
        (base + "/domains", "Domains", "DomainName", None),
        (base + "/users", "Users", "UserId", None),
    ]

    def one(listing):
        path, member, key, params = listing
        items, tokens = _walk_listing(server, path, member, key, params)
        assert len(items) >= 2 and len(set(items)) == len(items), items
        assert tokens, "no second page"
        for t in tokens:
            assert_opaque(t, items + [acct])
        for t in _tampered(tokens[0]):
            assert_error(server.get(path, params={**(params or {}), "next-token": t}), 400, "BadRequestException")
        # a token of this listing is refused by every other listing
        for other_path, _, _, other_params in listings:
            if other_path != path:
                r = server.get(other_path, params={**(other_params or {}), "next-token": tokens[0]})
                assert_error(r, 400, "BadRequestException")

    check_cases(listings, one, name=lambda l: l[0])
