"""`tessera masterkey rotate` (docs/secrets.md, "Rotation"), on SQLite and PostgreSQL.

The sealing round trips of the secrets table are the store contract suite's
(tests/unit/test_store_secrets.c); here the real binary rotates a store a
server wrote, and the test recomputes what the new key must give from
docs/audit.md alone: the key check value and every checkpoint's MAC.
"""
import hashlib
import hmac
import json
import os
import shutil
import stat
import struct
import time

import pytest

from tessera_itest import cli_json, run_cli


def kdf(master, subkey_id, context, n=32):
    """libsodium crypto_kdf_derive_from_key: keyed BLAKE2b, id in the salt, context as personal."""
    return hashlib.blake2b(b"", digest_size=n, key=master, salt=struct.pack("<Q", subkey_id) + b"\0" * 8,
                           person=context.encode() + b"\0" * 8).digest()


def text(s):
    return struct.pack(">Q", len(s)) + s.encode()


def rows(store, query):
    return store.sql(query)[0]


def checkpoint_macs_ok(store, master):
    """Every checkpoint's MAC, recomputed with the checkpoint key of master (docs/audit.md)."""
    key = kdf(master, 2, "tsaudit1")
    cps = rows(store, "SELECT chain_seq, hash, time_ms, mac FROM audit_checkpoints ORDER BY chain_seq")
    prev = ""
    for seq, h, t, mac in cps:
        msg = text("tessera-audit-checkpoint-v1") + struct.pack(">Q", int(seq)) + text(h) + struct.pack(">Q", int(t)) + text(prev)
        if hmac.new(key, msg, hashlib.sha256).hexdigest() != mac:
            return False
        prev = mac
    return len(cps) > 0


def key_check(store):
    return rows(store, "SELECT value FROM store_meta WHERE name = 'master_key_check'")[0][0]


def verify(store, key):
    return run_cli("audit", "verify", "--db", store.db, "--master-key-file", key)


def rotate(store, new_key, old_key=None, *extra):
    return run_cli("masterkey", "rotate", "--db", store.db, "--master-key-file", old_key or store.key,
                   "--new-master-key-file", new_key, *extra)


def written_store(start_server, store):
    """A store a server wrote to (accounts, keys, their audit events), the server stopped."""
    srv = start_server(init=True)
    for i in range(5):
        srv.create_account("rotated-%d" % i)
    srv.create_key(["ReadOnly"])
    assert srv.terminate() == 0
    return srv


def test_rotate_rekeys_the_trail_and_the_key_check(start_server, store, tmp_path):
    first = written_store(start_server, store)
    with open(store.key, "rb") as f:
        old = f.read()
    assert key_check(store) == kdf(old, 1, "tskeychk").hex()
    assert checkpoint_macs_ok(store, old)
    old_cps = rows(store, "SELECT chain_seq, hash FROM audit_checkpoints ORDER BY chain_seq")
    new_key = str(tmp_path / "new.key")

    out = cli_json("masterkey", "rotate", "--db", store.db, "--master-key-file", store.key,
                   "--new-master-key-file", new_key, "--json")
    # a new key file was made, 0600, 32 bytes
    st = os.stat(new_key)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 32
    with open(new_key, "rb") as f:
        new = f.read()
    assert out["OldKeyId"] == kdf(old, 1, "tskeychk").hex()[:16]
    assert out["NewKeyId"] == kdf(new, 1, "tskeychk").hex()[:16]
    assert out["SecretsResealed"] == 0
    assert out["EventsRekeyed"] >= 7
    assert out["CheckpointsRekeyed"] == len(old_cps)
    last = out["LastCheckpoint"]
    assert [last["Seq"], last["OldHash"]] == [int(old_cps[-1][0]), old_cps[-1][1]]

    # the store's check value and every checkpoint MAC are the new key's, not the old one's
    assert key_check(store) == kdf(new, 1, "tskeychk").hex()
    assert checkpoint_macs_ok(store, new)
    assert not checkpoint_macs_ok(store, old)
    new_cps = {int(k): v for k, v in rows(store, "SELECT chain_seq, hash FROM audit_checkpoints")}
    assert new_cps[last["Seq"]] == last["NewHash"] != last["OldHash"]

    # the rotation audited itself, sealed under the new key; verify passes with it only
    names = [r[0] for r in rows(store, "SELECT event_name FROM audit_events ORDER BY seq")]
    assert names[-1] == "RotateMasterKey"
    p = verify(store, new_key)
    assert p.returncode == 0, p.stderr
    assert "0 events not sealed yet" in p.stdout
    p = verify(store, store.key)
    assert p.returncode == 2 and "does not match this store" in p.stderr
    # with the old check value put back (an attacker with the old key), the MACs still fail
    store.sql("UPDATE store_meta SET value = '%s' WHERE name = 'master_key_check'" % kdf(old, 1, "tskeychk").hex())
    p = verify(store, store.key)
    assert p.returncode == 1, p.stdout + p.stderr
    store.sql("UPDATE store_meta SET value = '%s' WHERE name = 'master_key_check'" % kdf(new, 1, "tskeychk").hex())

    # a node with the old key refuses to start; with the new one it serves and seals on
    p = run_cli("serve", "--listen", "127.0.0.1:1", "--db", store.db, "--master-key-file", store.key, timeout=30)
    assert p.returncode != 0 and "does not match this store" in p.stderr
    shutil.copyfile(new_key, store.key)
    srv = start_server(root_token=first.root_token)
    srv.create_account("after-rotation")
    assert srv.terminate() == 0
    p = verify(store, new_key)
    assert p.returncode == 0, p.stderr


def test_rotate_twice_with_an_existing_key_file(start_server, store, tmp_path):
    written_store(start_server, store)
    second = str(tmp_path / "second.key")
    with open(second, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(second, 0o600)
    first = str(tmp_path / "first.key")
    assert rotate(store, first).returncode == 0
    p = rotate(store, second, first)
    assert p.returncode == 0, p.stderr
    assert "replaces key" in p.stdout
    with open(second, "rb") as f:
        assert key_check(store) == kdf(f.read(), 1, "tskeychk").hex()
    assert verify(store, second).returncode == 0
    assert verify(store, first).returncode == 2


def test_rotate_refuses_a_tampered_trail(start_server, store, tmp_path):
    """Rotation checks the trail under the old key first: it never launders an edit."""
    written_store(start_server, store)
    before = key_check(store)
    store.sql("UPDATE audit_events SET body = '{}' WHERE seq = (SELECT min(seq) FROM audit_events)")
    new_key = tmp_path / "new.key"
    p = rotate(store, str(new_key))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "does not verify under the old key" in p.stderr and "nothing was rotated" in p.stderr
    assert not new_key.exists()  # the key file made for it is removed again
    assert key_check(store) == before
    assert verify(store, store.key).returncode == 1


def test_rotate_refuses_the_wrong_old_key_and_the_same_key(start_server, store, tmp_path):
    written_store(start_server, store)
    before = key_check(store)
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    other.chmod(0o600)
    p = rotate(store, str(tmp_path / "new.key"), str(other))
    assert p.returncode == 2 and "does not match this store" in p.stderr
    p = rotate(store, store.key)
    assert p.returncode == 2 and "the new master key is the old one" in p.stderr
    p = run_cli("masterkey", "rotate", "--db", store.db, "--master-key-file", store.key)
    assert p.returncode == 2 and "--new-master-key-file is required" in p.stderr
    assert key_check(store) == before


def test_rotate_refuses_while_a_node_serves(start_server, store, tmp_path):
    """A node that beats in the nodes table (it does with a SCIM rate limit) blocks a rotation."""
    srv = start_server(init=True, extra_args=["--scim-rate-limit", "1000"])
    deadline = time.monotonic() + 10
    while not rows(store, "SELECT node_id FROM nodes") and time.monotonic() < deadline:
        time.sleep(0.05)
    before = key_check(store)
    p = rotate(store, str(tmp_path / "new.key"))
    assert p.returncode == 1 and "stop every node first" in p.stderr
    assert key_check(store) == before
    srv.create_account("still-writable")


def test_a_running_node_with_a_stale_key_stops_writing(start_server, store):
    """A rotation done behind a running node's back (the check value moved): it stops writing."""
    srv = start_server(init=True)
    srv.create_account("before")
    store.sql("UPDATE store_meta SET value = '%s' WHERE name = 'master_key_check'" % ("ab" * 32))
    deadline = time.monotonic() + 10
    while True:
        r = srv.post("/api/v1/accounts", {"Name": "after"})
        if r.status_code == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 503, r.text
    assert "master key was rotated" in srv.stderr()
