"""Two whole provisioning runs written from the documented request shapes (Okta, Entra ID)."""
import uuid

from scimtest import ENT, GROUP, PATCHOP, USER, assert_error

ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def test_okta_run(scim):
    # test connection
    assert scim.get("/Users", params={"startIndex": 1, "count": 2}).status_code == 200
    # existence check by filter, then create
    name = "okta.%s@example.com" % uuid.uuid4().hex[:6]
    r = scim.filter("Users", 'userName eq "%s"' % name, startIndex=1, count=100).json()
    assert r["totalResults"] == 0
    body = {"schemas": [USER], "userName": name, "name": {"givenName": "Ok", "familyName": "Ta"},
            "emails": [{"primary": True, "value": name, "type": "work"}], "displayName": "Ok Ta",
            "locale": "en-US", "externalId": "00uokta", "groups": [], "password": "pw", "active": True}
    u = scim.post("/Users", body).json()
    # link an existing user: the filter (in capitals) finds it, Okta keeps its id
    existing = scim.user()
    r = scim.filter("Users", 'userName eq "%s"' % existing["userName"].upper(), startIndex=1, count=100).json()
    assert r["Resources"][0]["id"] == existing["id"]
    # PUT profile update (App-Wizard: full object)
    full = scim.get("/Users/" + u["id"]).json()
    full["name"]["familyName"] = "Updated"
    full["groups"] = []
    assert scim.put("/Users/" + u["id"], full).json()["name"]["familyName"] == "Updated"
    # deactivate, reactivate
    assert scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": False}}]).json()["active"] is False
    assert scim.get("/Users/" + u["id"]).json()["active"] is False
    assert scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": True}}]).json()["active"] is True
    # push a group
    g = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Okta Pushed", "members": []}).json()
    # add and remove members (Okta sends a no-path replace of id + displayName with each update)
    gp = "/Groups/" + g["id"]
    assert scim.patch(gp, [{"op": "replace", "value": {"id": g["id"], "displayName": "Okta Pushed"}}]).status_code in (200, 204)
    assert scim.patch(gp, [{"op": "add", "path": "members", "value": [{"value": u["id"], "display": name},
                                                                    {"value": existing["id"], "display": "e"}]}]).status_code in (200, 204)
    assert scim.members(g["id"]) == sorted([u["id"], existing["id"]])
    assert scim.patch(gp, [{"op": "remove", "path": 'members[value eq "%s"]' % existing["id"]}]).status_code in (200, 204)
    assert scim.members(g["id"]) == [u["id"]]
    # rename
    assert scim.patch(gp, [{"op": "replace", "value": {"id": g["id"], "displayName": "Okta Renamed"}}]).status_code in (200, 204)
    assert scim.get(gp).json()["displayName"] == "Okta Renamed"
    assert scim.members(g["id"]) == [u["id"]]
    # delete the group
    assert scim.delete(gp).status_code == 204
    assert_error(scim.get(gp), 404)
    assert scim.get("/Users/" + u["id"]).status_code == 200


def test_entra_run(scim):
    # test connection with a random GUID
    r = scim.filter("Users", 'userName eq "%s"' % uuid.uuid4())
    assert r.status_code == 200 and r.json()["totalResults"] == 0
    # create with the enterprise extension
    body = {"schemas": [USER, ENT], "externalId": "entra-1", "userName": "entra1@contoso.com", "active": True,
            "emails": [{"primary": True, "type": "work", "value": "entra1@contoso.com"}],
            "meta": {"resourceType": "User"}, "name": {"formatted": "En Tra", "familyName": "Tra", "givenName": "En"},
            "roles": [], "addresses": None, ENT: {"employeeNumber": "1", "department": "IT", "manager": None}}
    u = scim.post("/Users", body)
    assert u.status_code == 201, u.text
    u = u.json()
    assert scim.filter("Users", 'externalId eq "entra-1"').json()["Resources"][0]["id"] == u["id"]
    up = "/Users/" + u["id"]
    # its PATCH forms
    r = scim.patch(up, [{"op": "Replace", "path": "displayName", "value": "Entra One"},
                        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "entra.one@contoso.com"},
                        {"op": "Replace", "path": ENT + ":department", "value": "Ops"},
                        {"op": "Add", "path": "title", "value": "Engineer"}])
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["displayName"] == "Entra One" and j["emails"][0]["value"] == "entra.one@contoso.com" and j[ENT]["department"] == "Ops"
    r = scim.patch(up, [{"op": "replace", "value": {"name.familyName": "One", ENT + ":employeeNumber": "11"}}]).json()
    assert r["name"]["familyName"] == "One" and r[ENT]["employeeNumber"] == "11"
    # soft delete
    assert scim.patch(up, [{"op": "Replace", "path": "active", "value": "False"}]).json()["active"] is False
    assert scim.get(up).json()["active"] is False
    # group with excludedAttributes=members
    g = scim.post("/Groups", {"schemas": [GROUP, ADSCIM], "externalId": "eg1", "displayName": "Entra Group"}).json()
    r = scim.get("/Groups", params={"excludedAttributes": "members", "filter": 'displayName eq "Entra Group"'}).json()
    assert r["totalResults"] == 1 and "members" not in r["Resources"][0]
    gp = "/Groups/" + g["id"]
    assert scim.patch(gp, [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": u["id"]}]}]).status_code == 204
    assert "members" not in scim.get(gp, params={"excludedAttributes": "members"}).json()
    assert scim.patch(gp, [{"op": "Remove", "path": "members", "value": [{"value": u["id"]}]}]).status_code == 204
    assert scim.members(g["id"]) == []
    # hard delete
    assert scim.delete(up).status_code == 204
    assert_error(scim.get(up), 404)
