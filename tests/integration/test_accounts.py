"""Accounts and their settings over the admin API (SPEC 2)."""
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
