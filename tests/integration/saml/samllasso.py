"""
Lasso (Debian python3-lasso 2.8.1) as the second opinion: a lasso.Server for
Tessera's SP (the SP metadata Tessera publishes, and the SP private keys as
its encryption keys, opened from the store with the master key by samlseal
as an operator could) with the IdP's metadata, and for each message a fresh
LassoLogin: processAuthnResponseMsg then acceptSso, the way mod_auth_mellon
uses it (federation-security.md §2). Lasso decrypts an EncryptedAssertion
with each encryption key it holds in turn (each
lasso_server_set_encryption_private_key_with_password call adds one), so
during an SP key rotation it holds both, as Tessera does.
"""
import os

import lasso


class Lasso:
    def __init__(self, workdir, sp_metadata, idp_metadata, sp_private_keys):
        """sp_private_keys: the PEM private keys Tessera decrypts with (current and in overlap)."""
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        sp = os.path.join(self.dir, "lasso-sp.xml")
        idp = os.path.join(self.dir, "lasso-idp.xml")
        with open(sp, "wb") as f:
            f.write(sp_metadata)
        with open(idp, "wb") as f:
            f.write(idp_metadata)
        self.server = lasso.Server(sp, None, None, None)
        for pem in sp_private_keys:
            self.server.setEncryptionPrivateKeyWithPassword(pem, None)  # a PEM buffer, not a file
        self.server.addProvider(lasso.PROVIDER_ROLE_IDP, idp, None, None)

    def verdict(self, b64_response):
        """(True, name_id) when Lasso accepts the message, (False, why) when it refuses."""
        login = lasso.Login(self.server)
        try:
            login.processAuthnResponseMsg(b64_response)
            login.acceptSso()
        except lasso.Error as ex:
            return False, "%s (%s)" % (type(ex).__name__, getattr(ex, "code", "?"))
        nid = login.nameIdentifier
        return True, (nid.content if nid is not None else None)
