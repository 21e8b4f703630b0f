#!/bin/sh
# SCIM figures: POST /Users rate, a filtered GET at USERS users (generated straight
# into SQLite), and one PATCH adding 1,000 members to a GROUP_SIZE-member group.
#   sh bench/scim.sh [path/to/tessera]    (USERS=1000000 GROUP_SIZE=100000 by default)
set -eu
bin=${1:-build/tessera}
exec /usr/bin/python3 - "$bin" <<'PY'
import json, os, sqlite3, subprocess, sys, tempfile, time, uuid, socket
import requests
bin = sys.argv[1]
users = int(os.environ.get("USERS", "1000000")); gsize = int(os.environ.get("GROUP_SIZE", "100000"))
d = tempfile.mkdtemp(prefix="scim-bench-"); db = d + "/b.db"; key = d + "/k"
root = json.loads(subprocess.check_output([bin, "init", "--db", db, "--master-key-file", key, "--json"]))["Token"]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
srv = subprocess.Popen([bin, "serve", "--db", db, "--master-key-file", key, "--listen", "127.0.0.1:%d" % port],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = "http://127.0.0.1:%d" % port
for _ in range(100):
    try:
        requests.get(url + "/healthz", timeout=1); break
    except Exception:
        time.sleep(0.1)
H = {"Authorization": "Bearer " + root}
acct = requests.post(url + "/api/v1/accounts", json={"Name": "bench"}, headers=H).json()["Account"]["AccountId"]
tok = requests.post(url + "/api/v1/accounts/%s/api-keys" % acct, headers=H).json()["ApiKey"]["Token"]
S = requests.Session(); S.headers.update({"Authorization": "Bearer " + tok, "Content-Type": "application/scim+json"})
base = url + "/scim/v2"
n = 1000; t = time.time()
for i in range(n):
    r = S.post(base + "/Users", data=json.dumps({"userName": "p%d@bench.example" % i, "emails": [{"value": "p%d@bench.example" % i, "primary": True}]}))
    assert r.status_code == 201
print("POST /Users (one client, sequential): %.0f/s" % (n / (time.time() - t)))
con = sqlite3.connect(db, timeout=60); now = int(time.time() * 1000); t = time.time()
def rows():
    for i in range(users):
        uid = str(uuid.uuid4()); name = "user%07d@bench.example" % i
        yield (uid, acct, name, name, None, None, 1, json.dumps({"userName": name}), 1, now + i, now + i)
con.executemany("INSERT INTO users (user_id, account_id, user_name, user_name_key, external_id, display_name, active, resource, version, created_ms, modified_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows())
con.commit(); print("generated %d users into SQLite in %.1f s" % (users, time.time() - t))
lat = []
for i in range(200):
    t = time.time(); r = S.get(base + "/Users", params={"filter": 'userName eq "USER%07d@bench.example"' % (i * 4999 % users)})
    lat.append(time.time() - t); assert r.json()["totalResults"] == 1
lat.sort(); print("filtered GET userName eq at %d users: p50 %.2f ms, p99 %.2f ms" % (users, lat[100] * 1000, lat[198] * 1000))
g = S.post(base + "/Groups", data=json.dumps({"displayName": "big"})).json()["id"]
ids = [r[0] for r in con.execute("SELECT user_id FROM users WHERE account_id = ? LIMIT ?", (acct, gsize + 1000))]
con.executemany("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", [(g, u) for u in ids[:gsize]]); con.commit()
t = time.time()
r = S.patch(base + "/Groups/" + g, data=json.dumps({"Operations": [{"op": "add", "path": "members", "value": [{"value": u} for u in ids[gsize:gsize + 1000]]}]}))
assert r.status_code == 204, r.text
print("PATCH +1000 members into a %d-member group: %.1f ms" % (gsize, (time.time() - t) * 1000))
t = time.time()
r = S.patch(base + "/Groups/" + g, data=json.dumps({"Operations": [{"op": "remove", "path": 'members[value eq "%s"]' % ids[5]}]}))
print("PATCH -1 member from a %d-member group: %.1f ms" % (gsize + 1000, (time.time() - t) * 1000))
srv.terminate(); srv.wait()
PY
