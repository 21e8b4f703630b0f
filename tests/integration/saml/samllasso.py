"""
Lasso (Debian python3-lasso 2.8.1) as the second opinion: a lasso.Server for
Tessera's SP (the SP metadata Tessera publishes; no SP private key, so
encrypted fixtures are not given to it) with the IdP's metadata, and for each
message a fresh LassoLogin: processAuthnResponseMsg then acceptSso, the way
mod_auth_mellon uses it (federation-security.md §2).
"""
import os

import lasso


class Lasso:
    def __init__(self, workdir, sp_metadata, idp_metadata):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        sp = os.path.join(self.dir, "lasso-sp.xml")
        idp = os.path.join(self.dir, "lasso-idp.xml")
        with open(sp, "wb") as f:
            f.write(sp_metadata)
        with open(idp, "wb") as f:
            f.write(idp_metadata)
        self.server = lasso.Server(sp, None, None, None)
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
