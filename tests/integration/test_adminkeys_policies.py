"""Admin keys and their IAM-style policies (docs/product.md §9)."""
import json

from tessera_itest import assert_error, check_cases

ACCOUNTS = "/api/v1/accounts"
KEYS = "/api/v1/admin-keys"
ARN = "arn:tessera:::account/"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


# ---------------------------------------------------------------- keys


def test_create_admin_key_shape(server):
    r = server.post(KEYS, {"Policies": ["ReadOnly"], "Description": "for the dashboard"})
    assert r.status_code == 201, r.text
    k = r.json()["AdminKey"]
    assert k["AccessKeyId"] and isinstance(k["AccessKeyId"], str)
    assert k["Token"].startswith(k["AccessKeyId"] + ".")
    assert k["Policies"] == ["ReadOnly"]
    assert k["Description"] == "for the dashboard"
    assert isinstance(k["CreatedTimestamp"], str) and k["CreatedTimestamp"].startswith("20")
    # the new token works at once
    assert server.get(ACCOUNTS, token=k["Token"]).status_code == 200


def test_list_admin_keys_has_no_secrets(server):
    made = [server.create_key(["ReadOnly"], "ro"), server.create_key([doc(allow("tessera:GetAccount"))], "custom")]
    r = server.get(KEYS)
    assert r.status_code == 200, r.text
    body = r.json()
    ids = {k["AccessKeyId"] for k in body["AdminKeys"]}
    assert {k["AccessKeyId"] for k in made} <= ids
    assert len(ids) == 3  # and the one from init
    text = r.text
    assert "Token" not in text
    root_secret = server.root_token.split(".", 1)[1]
    for k in made:
        assert k["Token"].split(".", 1)[1] not in text
    assert root_secret not in text
    for k in body["AdminKeys"]:
        assert set(k) == {"AccessKeyId", "Policies", "Description", "CreatedTimestamp"}, k
    listed = {k["AccessKeyId"]: k for k in body["AdminKeys"]}
    assert listed[made[1]["AccessKeyId"]]["Policies"] == [doc(allow("tessera:GetAccount"))]


def test_secrets_are_not_stored_in_clear(server):
    k = server.create_key(["ReadOnly"])
    rows, _ = server.store.sql("SELECT * FROM admin_keys")
    dump = json.dumps(rows)
    assert k["Token"].split(".", 1)[1] not in dump
    assert server.root_token.split(".", 1)[1] not in dump


def test_delete_admin_key(server):
    k = server.create_key(["FullAccess"])
    assert server.get(ACCOUNTS, token=k["Token"]).status_code == 200
    r = server.delete(KEYS + "/" + k["AccessKeyId"])
    assert r.status_code == 204, r.text
    assert_error(server.get(ACCOUNTS, token=k["Token"]), 401, "UnauthorizedClientException")
    assert_error(server.post(ACCOUNTS, {"Name": "x"}, token=k["Token"]), 401, "UnauthorizedClientException")
    assert k["AccessKeyId"] not in server.get(KEYS).text
    assert_error(server.delete(KEYS + "/" + k["AccessKeyId"]), 404, "NotFoundException")
    # the root key still works
    assert server.get(ACCOUNTS).status_code == 200


def test_bad_credentials(server):
    tokens = [
        None,
        "",
        "garbage",
        "TSAKAAAAAAAAAAAAAAAA",
        "TSAKAAAAAAAAAAAAAAAA.short",
        "TSAKAAAAAAAAAAAAAAAA." + "a" * 40,  # well-formed, unknown
        "XXXXAAAAAAAAAAAAAAAA." + "a" * 40,
        server.root_token + "x",
        " " + server.root_token.split(".")[0],
    ]

    def one(token):
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        r = server.request("GET", ACCOUNTS, token=None, headers=headers)
        assert_error(r, 401, "UnauthorizedClientException")
        r = server.request("POST", ACCOUNTS, token=None, headers=headers, json_body={"Name": "x"})
        assert_error(r, 401, "UnauthorizedClientException")

    check_cases(tokens, one)
    assert server.get(ACCOUNTS).json()["Accounts"] == []


def test_wrong_secret_for_known_key(server):
    key_id, secret = server.root_token.split(".", 1)
    wrong = key_id + "." + ("A" if secret[0] != "A" else "B") + secret[1:]
    assert_error(server.get(ACCOUNTS, token=wrong), 401, "UnauthorizedClientException")


def test_basic_auth_is_not_a_bearer(server):
    r = server.request("GET", ACCOUNTS, token=None, headers={"Authorization": "Basic " + server.root_token})
    assert_error(r, 401, "UnauthorizedClientException")


INVALID_POLICIES = list(zip(
    [
        "unknown-managed", "empty", "not-array", "bad-effect", "condition", "no-version", "bad-version",
        "no-action", "no-resource", "empty-action", "action-no-service", "resource-not-arn", "principal",
        "unknown-member", "no-statements", "number", "too-many", "lowercase-managed",
    ],
    [
        ["SuperUser"],
        [],
        "ReadOnly",
        [doc({"Effect": "Maybe", "Action": "tessera:GetAccount", "Resource": "*"})],
        [doc({"Effect": "Allow", "Action": "tessera:GetAccount", "Resource": "*", "Condition": {"Bool": {"x": "true"}}})],
        [{"Statement": [allow("tessera:GetAccount")]}],
        [{"Version": "2099-01-01", "Statement": [allow("tessera:GetAccount")]}],
        [doc({"Effect": "Allow", "Resource": "*"})],
        [doc({"Effect": "Allow", "Action": "tessera:GetAccount"})],
        [doc({"Effect": "Allow", "Action": [], "Resource": "*"})],
        [doc({"Effect": "Allow", "Action": "GetAccount", "Resource": "*"})],
        [doc({"Effect": "Allow", "Action": "tessera:GetAccount", "Resource": "account/1"})],
        [doc({"Effect": "Allow", "Action": "tessera:GetAccount", "Resource": "*", "Principal": "*"})],
        [doc({"Effect": "Allow", "Action": "tessera:GetAccount", "Resource": "*", "Extra": 1})],
        [{"Version": "2012-10-17", "Statement": []}],
        [42],
        ["ReadOnly"] * 11,
        ["readonly"],
    ],
))


def test_invalid_policies(server):
    before = server.get(KEYS).json()["AdminKeys"]

    def one(case):
        assert_error(server.post(KEYS, {"Policies": case[1]}), 400, "BadRequestException")

    check_cases(INVALID_POLICIES, one, lambda c: c[0])
    assert server.get(KEYS).json()["AdminKeys"] == before, "nothing was created"


def test_create_admin_key_bad_body(server):
    assert_error(server.post(KEYS, {}), 400, "BadRequestException")
    assert_error(server.post(KEYS, {"Policies": ["ReadOnly"], "Description": 5}), 400, "BadRequestException")
    assert_error(server.post(KEYS, {"Policies": ["ReadOnly"], "Description": "d" * 300}), 400, "BadRequestException")
    r = server.request("POST", KEYS, data=b"[", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "BadRequestException")


# ---------------------------------------------------------------- managed policies


def _account_calls(server, token, acct_id):
    """Status of each account call for a token (on fresh data each time where it destroys)."""
    path = ACCOUNTS + "/" + acct_id
    return {
        "GetAccount": server.get(path, token=token).status_code,
        "ListAccounts": server.get(ACCOUNTS, token=token).status_code,
        "GetAccountSettings": server.get(path + "/settings", token=token).status_code,
        "UpdateAccountSettings": server.put(path + "/settings", {"AccountSettings": {"EnableDialOut": True}}, token=token).status_code,
        "UpdateAccount": server.post(path, {"Name": "renamed"}, token=token).status_code,
        "CreateAccount": server.post(ACCOUNTS, {"Name": "new"}, token=token).status_code,
        "CreateAdminKey": server.post(KEYS, {"Policies": ["ReadOnly"]}, token=token).status_code,
        "ListAdminKeys": server.get(KEYS, token=token).status_code,
        "DeleteAdminKey": server.delete(KEYS + "/TSAKAAAAAAAAAAAAAAAA", token=token).status_code,
        "LookupEvents": server.get("/api/v1/audit-events", token=token).status_code,
        "DeleteAccount": server.delete(path, token=token).status_code,
    }


def test_readonly_policy(server):
    a = server.create_account("ro-target")
    k = server.create_key(["ReadOnly"])
    got = _account_calls(server, k["Token"], a["AccountId"])
    assert got == {
        "GetAccount": 200, "ListAccounts": 200, "GetAccountSettings": 200,
        "UpdateAccountSettings": 403, "UpdateAccount": 403, "CreateAccount": 403,
        "CreateAdminKey": 403, "ListAdminKeys": 403, "DeleteAdminKey": 403, "LookupEvents": 403,
        "DeleteAccount": 403,
    }
    # nothing changed
    acct = server.get(ACCOUNTS + "/" + a["AccountId"]).json()["Account"]
    assert acct["Name"] == "ro-target"
    assert len(server.get(ACCOUNTS).json()["Accounts"]) == 1
    assert server.get(ACCOUNTS + "/" + a["AccountId"] + "/settings").json()["AccountSettings"]["EnableDialOut"] is False


def test_forbidden_error_shape(server):
    k = server.create_key(["ReadOnly"])
    body = assert_error(server.post(ACCOUNTS, {"Name": "x"}, token=k["Token"]), 403, "ForbiddenException")
    assert "CreateAccount" in body["Message"]


def test_user_management_policy(server):
    a = server.create_account("um-target")
    k = server.create_key(["UserManagement"])
    got = _account_calls(server, k["Token"], a["AccountId"])
    assert got == {
        "GetAccount": 200, "ListAccounts": 200, "GetAccountSettings": 200,
        "UpdateAccountSettings": 204, "UpdateAccount": 403, "CreateAccount": 403,
        "CreateAdminKey": 403, "ListAdminKeys": 403, "DeleteAdminKey": 403, "LookupEvents": 403,
        "DeleteAccount": 403,
    }
    assert server.get(ACCOUNTS + "/" + a["AccountId"] + "/settings").json()["AccountSettings"]["EnableDialOut"] is True
    assert server.get(ACCOUNTS + "/" + a["AccountId"]).json()["Account"]["Name"] == "um-target"


def test_full_access_policy(server):
    a = server.create_account("fa-target")
    k = server.create_key(["FullAccess"])
    got = _account_calls(server, k["Token"], a["AccountId"])
    assert got == {
        "GetAccount": 200, "ListAccounts": 200, "GetAccountSettings": 200,
        "UpdateAccountSettings": 204, "UpdateAccount": 200, "CreateAccount": 201,
        # admin keys and the audit trail are outside the managed policies
        "CreateAdminKey": 403, "ListAdminKeys": 403, "DeleteAdminKey": 403, "LookupEvents": 403,
        "DeleteAccount": 204,
    }
    assert_error(server.get(ACCOUNTS + "/" + a["AccountId"]), 404)


def test_several_managed_policies_add_up(server):
    a = server.create_account("combo")
    k = server.create_key(["ReadOnly", doc(allow("tessera:LookupEvents"))])
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=k["Token"]).status_code == 200
    assert server.get("/api/v1/audit-events", token=k["Token"]).status_code == 200
    assert server.post(ACCOUNTS, {"Name": "x"}, token=k["Token"]).status_code == 403


def test_root_key_can_do_everything(server):
    a = server.create_account("root")
    got = _account_calls(server, server.root_token, a["AccountId"])
    assert got["CreateAdminKey"] == 201 and got["ListAdminKeys"] == 200 and got["LookupEvents"] == 200
    assert got["DeleteAdminKey"] == 404  # allowed, but that key does not exist
    assert got["DeleteAccount"] == 204


# ---------------------------------------------------------------- custom documents


def test_explicit_deny_wins(server):
    a = server.create_account("deny")
    k = server.create_key([doc(allow("tessera:*"), deny("tessera:DeleteAccount"))])
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=k["Token"]).status_code == 200
    assert_error(server.delete(ACCOUNTS + "/" + a["AccountId"], token=k["Token"]), 403, "ForbiddenException")
    assert server.get(ACCOUNTS + "/" + a["AccountId"]).status_code == 200
    # a deny in another document of the same key wins too
    k2 = server.create_key([doc(allow("tessera:*")), doc(deny("tessera:Get*", ARN + a["AccountId"]))])
    assert_error(server.get(ACCOUNTS + "/" + a["AccountId"], token=k2["Token"]), 403, "ForbiddenException")
    b = server.create_account("other")
    assert server.get(ACCOUNTS + "/" + b["AccountId"], token=k2["Token"]).status_code == 200


def test_account_scoping(server):
    a = server.create_account("A")
    b = server.create_account("B")
    k = server.create_key([doc(allow(["tessera:GetAccount", "tessera:ListAccounts", "tessera:DeleteAccount"], ARN + a["AccountId"]))])
    t = k["Token"]
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=t).status_code == 200
    assert_error(server.get(ACCOUNTS + "/" + b["AccountId"], token=t), 403, "ForbiddenException")
    r = server.get(ACCOUNTS, token=t)
    assert r.status_code == 200, r.text
    assert [x["AccountId"] for x in r.json()["Accounts"]] == [a["AccountId"]]
    assert_error(server.delete(ACCOUNTS + "/" + b["AccountId"], token=t), 403, "ForbiddenException")
    assert server.get(ACCOUNTS + "/" + b["AccountId"]).status_code == 200
    # creating an account is not "on" account A
    assert_error(server.post(ACCOUNTS, {"Name": "C"}, token=t), 403, "ForbiddenException")
    # settings were not granted even on A
    assert_error(server.get(ACCOUNTS + "/" + a["AccountId"] + "/settings", token=t), 403, "ForbiddenException")


def test_account_scoping_wildcard_resource(server):
    a = server.create_account("A")
    k = server.create_key([doc(allow("tessera:GetAccount", ARN + "*"))])
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=k["Token"]).status_code == 200


def test_wildcard_actions(server):
    a = server.create_account("wild")
    k = server.create_key([doc(allow("tessera:Get*"))])
    t = k["Token"]
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=t).status_code == 200
    assert server.get(ACCOUNTS + "/" + a["AccountId"] + "/settings", token=t).status_code == 200
    assert_error(server.get(ACCOUNTS, token=t), 403, "ForbiddenException")
    assert_error(server.post(ACCOUNTS, {"Name": "x"}, token=t), 403, "ForbiddenException")
    assert_error(server.delete(ACCOUNTS + "/" + a["AccountId"], token=t), 403, "ForbiddenException")
    assert_error(
        server.put(ACCOUNTS + "/" + a["AccountId"] + "/settings", {"AccountSettings": {"EnableDialOut": True}}, token=t),
        403, "ForbiddenException",
    )


def test_not_action(server):
    a = server.create_account("not-action")
    k = server.create_key([doc({"Effect": "Allow", "NotAction": "tessera:DeleteAccount", "Resource": "*"})])
    t = k["Token"]
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=t).status_code == 200
    assert_error(server.delete(ACCOUNTS + "/" + a["AccountId"], token=t), 403, "ForbiddenException")


def test_rename_needs_rename_permission(server):
    a = server.create_account("old")
    k = server.create_key([doc(allow("tessera:RenameAccount"))])
    r = server.post(ACCOUNTS + "/" + a["AccountId"], {"Name": "new"}, token=k["Token"])
    assert r.status_code == 200, r.text
    assert r.json()["Account"]["Name"] == "new"


def test_forbidden_key_body_is_not_parsed_first(server):
    """A refused caller learns nothing about the body: 403, not 400."""
    k = server.create_key(["ReadOnly"])
    r = server.request("POST", ACCOUNTS, token=k["Token"], data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 403, "ForbiddenException")
    r = server.request("POST", ACCOUNTS, token=None, data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 401, "UnauthorizedClientException")


# ---------------------------------------------------------------- what a scoped key sees


def _pages(server, token, size, **params):
    out, nt = [], None
    for _ in range(20):
        p = {"max-results": str(size), **params}
        if nt:
            p["next-token"] = nt
        r = server.get(ACCOUNTS, params=p, token=token)
        assert r.status_code == 200, r.text
        body = r.json()
        out.append([a["AccountId"] for a in body["Accounts"]])
        nt = body.get("NextToken")
        if not nt:
            return out
    raise AssertionError("paging did not end")


def test_scoped_key_pages_over_the_accounts_it_may_see(server):
    others = [server.create_account("other-%d" % i)["AccountId"] for i in range(4)]
    mine = server.create_account("mine")["AccountId"]
    others += [server.create_account("later-%d" % i)["AccountId"] for i in range(3)]
    t = server.create_key([doc(allow("tessera:ListAccounts", ARN + mine))])["Token"]
    for size in (1, 2, 200):
        # one page with its one account: no empty pages, no token that leads elsewhere
        assert _pages(server, t, size) == [[mine]], size
    two = sorted([mine, others[5]])
    t2 = server.create_key([doc(allow("tessera:ListAccounts", [ARN + mine, ARN + others[5]]))])["Token"]
    pages = _pages(server, t2, 1)
    assert pages == [[two[0]], [two[1]]], pages
    assert _pages(server, t2, 2) == [two]


def test_scoped_key_learns_nothing_from_the_name_filter(server):
    a = server.create_account("acme")["AccountId"]
    b = server.create_account("mine")["AccountId"]
    t = server.create_key([doc(allow("tessera:ListAccounts", ARN + b))])["Token"]
    answers = []
    for name in ("acme", "nobody"):
        for size in ("1", "100"):
            r = server.get(ACCOUNTS, params={"name": name, "max-results": size}, token=t)
            assert r.status_code == 200, r.text
            answers.append(r.json())
    assert all(x == {"Accounts": []} for x in answers), answers
    r = server.get(ACCOUNTS, params={"name": "mine", "max-results": "1"}, token=t)
    assert r.json() == {"Accounts": [server.get(ACCOUNTS + "/" + b).json()["Account"]]}
    assert a not in r.text


def test_hidden_account_answers_like_a_missing_one(server):
    hidden = server.create_account("hidden")["AccountId"]
    mine = server.create_account("mine")["AccountId"]
    t = server.create_key([doc(allow("tessera:*", ARN + mine))])["Token"]
    missing = "00000000-0000-4000-8000-000000000000"
    calls = [("GET", ""), ("GET", "/settings"), ("GET", "/users"), ("GET", "/domains"), ("GET", "/api-keys"),
             ("GET", "/groups"), ("DELETE", ""), ("POST", ""), ("GET", "/users/" + missing)]

    def same(call):
        method, suffix = call
        answers = []
        for acct in (hidden, missing):
            body = {"Name": "x"} if method == "POST" else None
            r = server.request(method, ACCOUNTS + "/" + acct + suffix, token=t, json_body=body)
            answers.append((r.status_code, r.text.replace(acct, "ID")))
        assert answers[0] == answers[1], answers
        assert answers[0][0] == 403, answers

    check_cases(calls, same, name=lambda c: " ".join(c))
    assert server.get(ACCOUNTS + "/" + hidden).status_code == 200
