// The comparison peer for bench/scim_bench.sh: a SCIM 2.0 server built from the
// npm packages scimmy (resources, schemas, filters, PatchOp) and scimmy-routers
// (the Express routes), with an in-memory store. Users are kept in a Map by id
// plus a Map by lowercase userName, so `userName eq "..."` is an index lookup as
// in Tessera; other filters go through scimmy's own Filter.match.
//
//   node scimmy-server.mjs PORT
//   env SEED_USERS=N          users user%07d@bench.example made at start (ids in SEED_IDS_OUT)
//   env SEED_GROUP=M          a group "big" holding the first M seeded users
//
// Seeding bypasses HTTP, as bench/scim_load.c does for Tessera.
import crypto from "node:crypto";
import fs from "node:fs";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const port = Number(process.argv[2] || 8090);
const users = new Map(); // id -> user record (plain SCIM object without meta)
const byName = new Map(); // lowercase userName -> id
const groups = new Map(); // id -> {id, displayName, members: Map(userId -> display)}

function meta(created) {
    return {created, lastModified: created};
}

function userOut(u) {
    return {...u, meta: u.meta};
}

function groupOut(g) {
    return {
        id: g.id,
        displayName: g.displayName,
        members: [...g.members].map(([value, display]) => ({value, display})),
        meta: g.meta,
    };
}

function conflict(msg) {
    return new SCIMMY.Types.Error(409, "uniqueness", msg);
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, instance) => {
        const key = String(instance.userName).toLowerCase();
        const now = new Date();
        if (resource.id) {
            const old = users.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            const other = byName.get(key);
            if (other && other !== resource.id) throw conflict("userName taken");
            byName.delete(String(old.userName).toLowerCase());
            const u = {...JSON.parse(JSON.stringify(instance)), id: resource.id, meta: {created: old.meta.created, lastModified: now}};
            users.set(u.id, u);
            byName.set(key, u.id);
            return userOut(u);
        }
        if (byName.has(key)) throw conflict("userName taken");
        const u = {...JSON.parse(JSON.stringify(instance)), id: crypto.randomUUID(), meta: meta(now)};
        users.set(u.id, u);
        byName.set(key, u.id);
        return userOut(u);
    })
    .egress((resource) => {
        if (resource.id) {
            const u = users.get(resource.id);
            if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return userOut(u);
        }
        const f = resource.filter;
        if (f && f.length === 1) {
            const keys = Object.keys(f[0]);
            const expr = f[0][keys[0]];
            if (keys.length === 1 && keys[0].toLowerCase() === "username" && Array.isArray(expr) && expr[0] === "eq") {
                const id = byName.get(String(expr[1]).toLowerCase());
                return id ? [userOut(users.get(id))] : [];
            }
        }
        const all = [...users.values()].map(userOut);
        return f ? f.match(all) : all;
    })
    .degress((resource) => {
        const u = users.get(resource.id);
        if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        users.delete(u.id);
        byName.delete(String(u.userName).toLowerCase());
        for (const g of groups.values()) g.members.delete(u.id);
    });

SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress((resource, instance) => {
        const now = new Date();
        const members = new Map();
        for (const m of instance.members ?? []) {
            const u = users.get(m.value);
            if (!u) throw new SCIMMY.Types.Error(400, "invalidValue", `no user ${m.value}`);
            members.set(m.value, m.display ?? u.displayName ?? u.userName);
        }
        if (resource.id) {
            const old = groups.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            const g = {id: old.id, displayName: instance.displayName, members, meta: {created: old.meta.created, lastModified: now}};
            groups.set(g.id, g);
            return groupOut(g);
        }
        const g = {id: crypto.randomUUID(), displayName: instance.displayName, members, meta: meta(now)};
        groups.set(g.id, g);
        return groupOut(g);
    })
    .egress((resource) => {
        if (resource.id) {
            const g = groups.get(resource.id);
            if (!g) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return groupOut(g);
        }
        const all = [...groups.values()].map(groupOut);
        return resource.filter ? resource.filter.match(all) : all;
    })
    .degress((resource) => {
        if (!groups.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    });

const seedUsers = Number(process.env.SEED_USERS || 0);
const seedIds = [];
const created = new Date();
for (let i = 0; i < seedUsers; i++) {
    const name = `user${String(i).padStart(7, "0")}@bench.example`;
    const u = {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        id: crypto.randomUUID(),
        userName: name,
        name: {givenName: "User", familyName: String(i).padStart(7, "0")},
        emails: [{value: name, type: "work", primary: true}],
        active: true,
        meta: meta(created),
    };
    users.set(u.id, u);
    byName.set(name, u.id);
    seedIds.push(u.id);
}
if (process.env.SEED_IDS_OUT) fs.writeFileSync(process.env.SEED_IDS_OUT, seedIds.join("\n") + "\n");
const seedGroup = Number(process.env.SEED_GROUP || 0);
if (seedGroup > 0) {
    const members = new Map();
    for (let i = 0; i < seedGroup && i < seedIds.length; i++) members.set(seedIds[i], users.get(seedIds[i]).userName);
    groups.set("big", {id: "big", displayName: "big", members, meta: meta(created)});
}

const app = express();
app.use(express.json({type: ["application/json", "application/scim+json"], limit: "64mb"}));
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== "Bearer bench") throw new Error("Authorization not detected!");
        return "bench";
    },
}));
app.get("/healthz", (req, res) => res.send("ok"));
app.listen(port, "127.0.0.1", () => console.error(`scimmy peer on 127.0.0.1:${port}, ${users.size} users`));
