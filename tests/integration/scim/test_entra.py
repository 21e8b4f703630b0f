"""Checklist group 2: the Microsoft Entra ID client (items 24-51)."""
import uuid

from scimtest import ENT, GROUP, LIST, USER, assert_error

ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def test_item_24_random_guid_filter(scim):
    r = scim.filter("Users", 'userName eq "%s"' % uuid.uuid4())
    assert r.status_code == 200 and r.json()["totalResults"] == 0


def test_item_25_username_externalid_and_bare(scim):
    u = scim.user(externalId="jyoung")
    for f in ('userName eq "%s"' % u["userName"], 'externalId eq "jyoung"', "externalId eq jyoung"):
        r = scim.filter("Users", f)
        assert r.status_code == 200 and [x["id"] for x in r.json()["Resources"]] == [u["id"]], f


def test_item_26_entra_emails_value_path(scim):
    u = scim.user()
    scim.user()
    r = scim.filter("Users", 'emails[type eq "work"].value eq "%s"' % u["userName"]).json()
    assert [x["id"] for x in r["Resources"]] == [u["id"]]
    r = scim.filter("Users", 'emails[type eq "home"].value eq "%s"' % u["userName"]).json()
    assert r["totalResults"] == 0


def test_item_27_eq_and(scim):
    u = scim.user(externalId="e27")
    r = scim.filter("Users", 'userName eq "%s" and externalId eq "e27"' % u["userName"]).json()
    assert r["totalResults"] == 1


def test_item_28_create_with_enterprise_and_nulls(scim):
    body = {"schemas": [USER, ENT], "externalId": "e28", "userName": "e28@example.com", "active": True,
            "emails": [{"primary": True, "type": "work", "value": "e28@example.com"}],
            "meta": {"resourceType": "User"}, "name": {"formatted": "E T", "familyName": "T", "givenName": "E"},
            "roles": [], "addresses": None, ENT: {"employeeNumber": "28", "manager": None}}
    r = scim.post("/Users", body)
    assert r.status_code == 201, r.text
    u = r.json()
    assert u[ENT]["employeeNumber"] == "28" and "addresses" not in u and "manager" not in u[ENT]
    typo = dict(body, userName="e28b@example.com")
    typo["urn:ietf:params:scim:schemas:extension:enterprise:2.0User"] = typo.pop(ENT)
    r = scim.post("/Users", typo)
    assert r.status_code == 201 and r.json()[ENT]["employeeNumber"] == "28"


def test_item_29_capitalised_ops(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": "displayName", "value": "X"},
                                         {"op": "Add", "path": "title", "value": "T"},
                                         {"op": "Remove", "path": "title"}])
    assert r.status_code == 200 and r.json()["displayName"] == "X" and "title" not in r.json()


def test_item_30_string_booleans(scim):
    u = scim.user()
    for v, want in (("False", False), ("True", True), ("false", False), ("true", True)):
        r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": "active", "value": v}])
        assert r.status_code == 200 and r.json()["active"] is want


def test_item_31_replace_work_email(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "n31@x.com"}])
    assert [e["value"] for e in r.json()["emails"]] == ["n31@x.com"]
    v = scim.user(emails=[{"value": "h@x.com", "type": "home"}])
    r = scim.patch("/Users/" + v["id"], [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@x.com"}])
    assert r.status_code == 200
    assert {e["type"]: e["value"] for e in r.json()["emails"]} == {"home": "h@x.com", "work": "w@x.com"}
    # the new address is indexed for filters
    assert scim.filter("Users", 'emails.value eq "w@x.com"').json()["totalResults"] == 1


def test_item_32_add_on_existing_replaces(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Add", "path": 'emails[type eq "work"].value', "value": "a32@x.com"}])
    assert [e["value"] for e in r.json()["emails"]] == ["a32@x.com"]


def test_item_33_dotted_and_urn_keys(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {
        "displayName": "D33", "name.givenName": "G33", ENT + ":employeeNumber": "33"}}])
    j = r.json()
    assert j["displayName"] == "D33" and j["name"]["givenName"] == "G33" and j["name"]["familyName"] == "Family"
    assert j[ENT]["employeeNumber"] == "33"


def test_item_34_urn_path(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": ENT + ":employeeNumber", "value": "1"}])
    assert r.json()[ENT]["employeeNumber"] == "1"


def test_item_35_manager(scim):
    m, u = scim.user(), scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Add", "path": "manager",
                                          "value": [{"$ref": "../Users/" + m["id"], "value": m["id"]}]}])
    assert r.status_code == 200, r.text
    assert r.json()[ENT]["manager"]["value"] == m["id"]


def test_item_36_rename_username(scim):
    u, other = scim.user(), scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": "userName", "value": "new36@x.com"}])
    assert r.json()["userName"] == "new36@x.com"
    r = scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": "userName", "value": other["userName"].upper()}])
    assert_error(r, 409, "uniqueness")


def test_item_37_delete_user(scim):
    u = scim.user()
    assert scim.delete("/Users/" + u["id"]).status_code == 204


def test_item_38_soft_delete(scim):
    u = scim.user()
    scim.patch("/Users/" + u["id"], [{"op": "Replace", "path": "active", "value": "False"}])
    assert scim.get("/Users/" + u["id"]).json()["active"] is False
    scim.delete("/Users/" + u["id"])
    assert_error(scim.get("/Users/" + u["id"]), 404)


def test_item_39_group_with_adscim_schema(scim):
    r = scim.post("/Groups", {"schemas": [GROUP, ADSCIM], "externalId": "g39", "displayName": "G39"})
    assert r.status_code == 201 and r.json()["externalId"] == "g39"


def test_item_40_group_filter_excluded_members_unique(scim):
    u = scim.user()
    g = scim.group("G40", members=[u["id"]])
    r = scim.get("/Groups", params={"excludedAttributes": "members", "filter": 'displayName eq "G40"'}).json()
    assert r["totalResults"] == 1 and "members" not in r["Resources"][0]
    assert_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": "g40"}), 409, "uniqueness")


def test_item_41_get_group_excluded_members(scim):
    u = scim.user()
    g = scim.group(members=[u["id"]])
    r = scim.get("/Groups/" + g["id"], params={"excludedAttributes": "members"})
    assert r.status_code == 200 and "members" not in r.json() and r.json()["id"] == g["id"]


def test_item_42_ref_null(scim):
    u = scim.user()
    g = scim.group()
    r = scim.patch("/Groups/" + g["id"], [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": u["id"]}]}])
    assert r.status_code == 204
    assert scim.members(g["id"]) == [u["id"]]


def test_item_43_remove_with_value_list(scim):
    u1, u2 = scim.user(), scim.user()
    g = scim.group(members=[u1["id"], u2["id"]])
    r = scim.patch("/Groups/" + g["id"], [{"op": "Remove", "path": "members", "value": [{"value": u1["id"]}]}])
    assert r.status_code == 204
    assert scim.members(g["id"]) == [u2["id"]]


def test_item_44_remove_filter_form(scim):
    u1, u2 = scim.user(), scim.user()
    g = scim.group(members=[u1["id"], u2["id"]])
    scim.patch("/Groups/" + g["id"], [{"op": "remove", "path": 'members[value eq "%s"]' % u2["id"]}])
    assert scim.members(g["id"]) == [u1["id"]]


def test_item_45_replace_group_display_name(scim):
    g = scim.group()
    r = scim.patch("/Groups/" + g["id"], [{"op": "Replace", "path": "displayName", "value": "G45"}])
    assert r.status_code == 204
    assert scim.get("/Groups/" + g["id"]).json()["displayName"] == "G45"


def test_item_46_patch_statuses(scim):
    u = scim.user()
    g = scim.group()
    assert scim.patch("/Groups/" + g["id"], [{"op": "add", "path": "members", "value": [{"value": u["id"]}]}]).status_code == 204
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "title", "value": "t"}])
    assert r.status_code == 200 and r.json()["title"] == "t"


def test_item_47_content_type_everywhere(scim):
    u = scim.user()
    for r in (scim.get("/Users"), scim.get("/Users/" + u["id"]), scim.get("/Users/nope"), scim.get("/Schemas"),
              scim.get("/ServiceProviderConfig"), scim.get("/ResourceTypes"), scim.post("/Users", raw="{")):
        assert r.headers["Content-Type"].startswith("application/scim+json")


def test_item_48_schemas_listresponse(scim):
    r = scim.get("/Schemas").json()
    assert r["schemas"] == [LIST] and r["totalResults"] == 3

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                assert v is not None, k
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(r)
    muts = {a["mutability"] for s in r["Resources"] for a in s["attributes"]}
    assert muts <= {"readWrite", "readOnly", "immutable", "writeOnly"}


def test_item_49_values_as_sent(scim):
    u = scim.user(nickName="  Spaced Nick ", phoneNumbers=[{"value": "+1 555", "type": "work"}, {"value": "+1 666", "type": "mobile"}])
    got = scim.get("/Users/" + u["id"]).json()
    assert got["nickName"] == "  Spaced Nick " and [p["type"] for p in got["phoneNumbers"]] == ["work", "mobile"]


def test_item_50_many_members_one_patch(scim):
    ids = [scim.user()["id"] for _ in range(30)]
    g = scim.group()
    r = scim.patch("/Groups/" + g["id"], [{"op": "Add", "path": "members", "value": [{"value": i} for i in ids]}])
    assert r.status_code == 204
    assert scim.members(g["id"]) == sorted(ids)


def test_item_51_validator_flow(scim):
    u = scim.user(externalId="v51")
    assert scim.filter("Users", 'externalId eq "v51"').json()["totalResults"] == 1
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "displayName", "value": "V51"},
                                         {"op": "remove", "path": "nickName"}])
    assert r.status_code == 200 and r.json()["displayName"] == "V51"
    g = scim.group(members=[u["id"]])
    assert scim.filter("Groups", 'displayName eq "%s"' % g["displayName"]).json()["totalResults"] == 1
