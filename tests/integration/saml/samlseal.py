"""
The SP private keys opened in the test as an operator holding the master key
could: the master key file and the store, read with an implementation of
docs/secrets.md written here (ctypes on the system libsodium), not with
Tessera's code. It is what gives Lasso the key it decrypts EncryptedAssertion
with, and it proves the documented seal format from outside:

  sealing key   crypto_kdf_derive_from_key(32, 1, "tsseal01", master)
  check value   crypto_kdf_derive_from_key(n, 1, "tskeychk", master), stored in
                hex in store_meta.master_key_check (docs/audit.md); its first
                16 hex digits are the key id
  sealed text   ts1.<key id>.<base64url(nonce || ciphertext || tag)>,
                XChaCha20-Poly1305 IETF, 24-byte nonce, 16-byte tag
  assoc. data   text("tessera-secret-v1") || text(key id) || text(owner kind)
                || text(owner id) || text(name), text(s) = u64be(len(s)) || s

The SP keys are the rows of saml_sp_keys for the account; each private key is
the secret (owner_kind "saml_sp", owner_id the SP key's key_id, name
"private_key"), checked (python3-cryptography) to be the private key of the
certificate stored beside it.
"""
import base64
import ctypes
import re
import struct

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_na = ctypes.CDLL("libsodium.so.23")
_na.sodium_init.restype = ctypes.c_int
_na.crypto_kdf_derive_from_key.restype = ctypes.c_int
_na.crypto_kdf_derive_from_key.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.c_char_p,
                                           ctypes.c_char_p]
_na.crypto_aead_xchacha20poly1305_ietf_decrypt.restype = ctypes.c_int
_na.crypto_aead_xchacha20poly1305_ietf_decrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulonglong), ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulonglong,
    ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_char_p]
if _na.sodium_init() < 0:
    raise ImportError("sodium_init failed")

MASTER_KEY_LEN = 32
NONCE_LEN = 24
TAG_LEN = 16
KEY_ID_LEN = 16
AD_TAG = "tessera-secret-v1"
OWNER_KIND = "saml_sp"
SECRET_NAME = "private_key"
SEALED_RE = re.compile(r"ts1\.([0-9a-f]{16})\.([A-Za-z0-9_-]+={0,2})")
SAFE_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")  # the ids put into literal SQL


class SealError(Exception):
    """A sealed secret that does not open with the key given (wrong key, wrong place, altered)."""


def derive(master, length, subkey_id, context):
    if len(master) != MASTER_KEY_LEN or len(context) != 8:
        raise ValueError("a 32-byte master key and an 8-byte context")
    out = ctypes.create_string_buffer(length)
    if _na.crypto_kdf_derive_from_key(out, length, subkey_id, context, master) != 0:
        raise ValueError("crypto_kdf_derive_from_key refused length %d" % length)
    return out.raw


def check_value(master, length):
    """The key check value (docs/audit.md), hex, of length bytes (read from the stored value)."""
    return derive(master, length, 1, b"tskeychk").hex()


def _text(s):
    b = s.encode()
    return struct.pack(">Q", len(b)) + b


def associated_data(key_id, owner_kind, owner_id, name):
    return b"".join(_text(s) for s in (AD_TAG, key_id, owner_kind, owner_id, name))


def open_sealed(master, sealed, owner_kind, owner_id, name):
    """The plaintext of one sealed secret at its place (owner_kind, owner_id, name)."""
    m = SEALED_RE.fullmatch(sealed)
    if not m:
        raise SealError("not a ts1 sealed text")
    key_id, body = m.group(1), m.group(2)
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if len(blob) < NONCE_LEN + TAG_LEN:
        raise SealError("sealed blob too short")
    nonce, ct = blob[:NONCE_LEN], blob[NONCE_LEN:]
    key = derive(master, 32, 1, b"tsseal01")
    ad = associated_data(key_id, owner_kind, owner_id, name)
    out = ctypes.create_string_buffer(len(ct) - TAG_LEN + 1)
    out_len = ctypes.c_ulonglong(0)
    rc = _na.crypto_aead_xchacha20poly1305_ietf_decrypt(out, ctypes.byref(out_len), None, ct, len(ct), ad, len(ad),
                                                         nonce, key)
    if rc != 0:
        raise SealError("does not open under key %s at %s/%s/%s" % (key_id, owner_kind, owner_id, name))
    return out.raw[:out_len.value]


def assert_pair(key_pem, cert_pem):
    """The opened private key is the one of the certificate stored beside it."""
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert key.public_key().public_numbers() == cert.public_key().public_numbers(), "key and certificate differ"


def read_master_key(path):
    with open(path, "rb") as f:
        master = f.read()
    if len(master) != MASTER_KEY_LEN:
        raise ValueError("%s: %d bytes, not %d" % (path, len(master), MASTER_KEY_LEN))
    return master


def _rows(store, query):
    rows, _ = store.sql(query)
    return rows


def store_key_id(store, master):
    """The key id of master, after checking that master gives the store's check value."""
    stored = _rows(store, "SELECT value FROM store_meta WHERE name = 'master_key_check'")
    assert len(stored) == 1, stored
    stored = stored[0][0]
    mine = check_value(master, len(stored) // 2)
    assert mine == stored, "the master key file does not give the store's check value"
    return mine[:KEY_ID_LEN]


def sealed_private_key(store, sp_key_id):
    """(key_id column, sealed text) of an SP key's private key in the secrets table."""
    if not SAFE_RE.fullmatch(sp_key_id):
        raise ValueError("SP key id %r" % sp_key_id)
    rows = _rows(store, "SELECT key_id, sealed FROM secrets WHERE owner_kind = '%s' AND owner_id = '%s' "
                        "AND name = '%s'" % (OWNER_KIND, sp_key_id, SECRET_NAME))
    assert len(rows) == 1, (sp_key_id, len(rows))
    return rows[0]


def sp_keys(store, account_id):
    """[(key_id, cert_pem, private_key_pem, retired_ms)] of the account, oldest first, each private
    key opened from the secrets table and checked to be its certificate's; the master key checked
    against store_meta first, and each blob's key id against it."""
    if not SAFE_RE.fullmatch(account_id):
        raise ValueError("account id %r" % account_id)
    master = read_master_key(store.key)
    key_id = store_key_id(store, master)
    rows = _rows(store, "SELECT key_id, cert_pem, retired_ms FROM saml_sp_keys WHERE account_id = '%s' "
                        "ORDER BY created_ms, key_id" % account_id)
    out = []
    for kid, cert, retired in rows:
        col_key_id, sealed = sealed_private_key(store, kid)
        assert col_key_id == key_id and sealed.startswith("ts1.%s." % key_id), (col_key_id, sealed[:24], key_id)
        pem = open_sealed(master, sealed, OWNER_KIND, kid, SECRET_NAME).decode()
        assert_pair(pem, cert)
        out.append((kid, cert, pem, int(retired)))
    return out
