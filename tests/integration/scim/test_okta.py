"""Checklist group 1: the Okta client (items 1-23)."""
import uuid

from scimtest import GROUP, LIST, USER, assert_error


def test_item_01_test_connector(scim):
    r = scim.get("/Users", params={"startIndex": 1, "count": 2})
    assert r.status_code == 200 and r.json()["schemas"] == [LIST]


def test_item_02_filter_no_match(scim):
    r = scim.filter("Users", 'userName eq "test.user@okta.local"', startIndex=1, count=100)
    assert r.status_code == 200
    assert r.json() == {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}


def test_item_03_filter_match_has_id(scim):
    u = scim.user()
    r = scim.filter("Users", 'userName eq "%s"' % u["userName"], startIndex=1, count=100).json()
    assert r["totalResults"] == 1 and r["Resources"][0]["id"] == u["id"]


def test_item_04_username_caps(scim):
    u = scim.user("runscope%s@example.com" % uuid.uuid4().hex[:6])
    r = scim.filter("Users", 'userName eq "%s"' % u["userName"].upper()).json()
    assert r["totalResults"] == 1 and r["Resources"][0]["id"] == u["id"]


def test_item_05_integers(scim):
    scim.user()
    r = scim.get("/Users").json()
    for k in ("totalResults", "startIndex", "itemsPerPage"):
        assert isinstance(r[k], int)


def test_item_06_create_echo(scim):
    body = {"schemas": [USER], "userName": "okta6@example.com", "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"primary": True, "value": "okta6@example.com", "type": "work"}], "displayName": "A B",
            "locale": "en-US", "externalId": "00u6", "groups": [], "password": "S3cret!", "active": True}
    r = scim.post("/Users", body)
    assert r.status_code == 201
    u = r.json()
    assert u["id"] and u["meta"]["resourceType"] == "User" and u["userName"] == "okta6@example.com"
    assert u["locale"] == "en-US" and u["externalId"] == "00u6" and "password" not in u


def test_item_07_duplicate_409(scim):
    u = scim.user()
    r = scim.post("/Users", {"schemas": [USER], "userName": u["userName"]})
    assert_error(r, 409, "uniqueness")


def test_item_08_stable_paging(scim):
    ids = [scim.user()["id"] for _ in range(7)]
    for count in (1, 2, 3, 100):
        seen = []
        start = 1
        while True:
            r = scim.get("/Users", params={"startIndex": start, "count": count}).json()
            seen += [x["id"] for x in r["Resources"]]
            start += count
            if start > r["totalResults"]:
                break
        assert seen == ids


def test_item_09_get_and_unknown(scim):
    u = scim.user()
    assert scim.get("/Users/" + u["id"]).json()["id"] == u["id"]
    assert_error(scim.get("/Users/" + str(uuid.uuid4())), 404)


def test_item_10_put_full_object(scim):
    u = scim.user()
    u["displayName"] = "Changed"
    u["groups"] = []
    u["active"] = False
    r = scim.put("/Users/" + u["id"], u)
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Changed" and r.json()["active"] is False


def test_item_11_patch_no_path_deactivate(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": False}}])
    assert r.status_code == 200 and r.json()["active"] is False


def test_item_12_reactivate(scim):
    u = scim.user(active=False)
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": True}}])
    assert r.status_code == 200 and r.json()["active"] is True


def test_item_13_deactivated_still_answers(scim):
    u = scim.user()
    scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": False}}])
    r = scim.get("/Users/" + u["id"])
    assert r.status_code == 200 and r.json()["active"] is False


def test_item_14_create_group(scim):
    r = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})
    assert r.status_code == 201
    g = r.json()
    assert g["id"] and g["displayName"] == "Test SCIMv2" and g["members"] == [] and g["meta"]["resourceType"] == "Group"


def test_item_15_list_groups_paged(scim):
    gids = [scim.group()["id"] for _ in range(3)]
    r = scim.get("/Groups", params={"startIndex": 1, "count": 2}).json()
    assert r["totalResults"] == 3 and [g["id"] for g in r["Resources"]] == gids[:2]
    r = scim.get("/Groups", params={"startIndex": 3, "count": 2}).json()
    assert [g["id"] for g in r["Resources"]] == gids[2:]


def test_item_16_group_members_value_display(scim):
    u = scim.user()
    g = scim.group(members=[u["id"]])
    m = scim.get("/Groups/" + g["id"]).json()["members"]
    assert m[0]["value"] == u["id"] and m[0]["display"] == u["displayName"]


def test_item_17_no_path_replace_keeps_members(scim):
    u = scim.user()
    g = scim.group(members=[u["id"]])
    r = scim.patch("/Groups/" + g["id"], [{"op": "replace", "value": {"id": g["id"], "displayName": "Renamed17"}}])
    assert r.status_code in (200, 204), r.text
    got = scim.get("/Groups/" + g["id"]).json()
    assert got["displayName"] == "Renamed17" and got["id"] == g["id"]
    assert [m["value"] for m in got["members"]] == [u["id"]]


def test_item_18_remove_and_add_members(scim):
    u1, u2 = scim.user(), scim.user()
    g = scim.group(members=[u1["id"]])
    r = scim.patch("/Groups/" + g["id"], [
        {"op": "remove", "path": 'members[value eq "%s"]' % u1["id"]},
        {"op": "add", "path": "members", "value": [{"value": u2["id"], "display": "x"}]}])
    assert r.status_code in (200, 204)
    assert scim.members(g["id"]) == [u2["id"]]


def test_item_19_replace_members(scim):
    u1, u2, u3 = scim.user(), scim.user(), scim.user()
    g = scim.group(members=[u1["id"], u2["id"]])
    r = scim.patch("/Groups/" + g["id"], [{"op": "replace", "path": "members",
                                           "value": [{"value": u2["id"]}, {"value": u3["id"]}]}])
    assert r.status_code in (200, 204)
    assert scim.members(g["id"]) == sorted([u2["id"], u3["id"]])


def test_item_20_no_path_replace_empty_members(scim):
    u1 = scim.user()
    g = scim.group(members=[u1["id"]])
    r = scim.patch("/Groups/" + g["id"], [{"op": "replace", "value": {"members": [], "displayName": g["displayName"]}}])
    assert r.status_code in (200, 204)
    assert scim.members(g["id"]) == []


def test_item_21_put_group(scim):
    u = scim.user()
    g = scim.group()
    g["displayName"] = "Put21"
    g["members"] = [{"value": u["id"]}]
    r = scim.put("/Groups/" + g["id"], g)
    assert r.status_code == 200 and r.json()["displayName"] == "Put21"
    assert scim.members(g["id"]) == [u["id"]]


def test_item_22_delete_group(scim):
    g = scim.group()
    assert scim.delete("/Groups/" + g["id"]).status_code == 204
    assert_error(scim.get("/Groups/" + g["id"]), 404)


def test_item_23_server_ids(scim):
    r = scim.post("/Users", {"schemas": [USER], "userName": "id23@example.com", "id": "bulkId:client"})
    u = r.json()
    assert u["id"] != "bulkId:client" and "bulkId" not in u["id"]
    assert scim.get("/Users/" + u["id"]).json()["id"] == u["id"]
    assert_error(scim.get("/Users/" + u["id"].upper()), 404)  # ids are case-sensitive
    assert "_" not in scim.base
