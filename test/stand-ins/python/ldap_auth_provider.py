"""Stand-in for matrix-synapse-ldap3's ldap_auth_provider (the parts the image's
matrix_synapse_nomad_ldap module builds on), for machines without the
provider. Follows ldap_auth_provider.py of matrix-org/matrix-synapse-ldap3
v0.3.0 (unchanged in 0.2.2 and 0.4.0): the configured `uri` (one or a list) and
an ldap3.Tls become `ldap_uris` / `ldap_tls`; `_get_server` builds a ServerPool
with ldap3's defaults (active=True, exhaust=False); a login opens a connection
on that pool (in a thread, through Twisted, in the real one) and an
LDAPException makes it decline (None), so Synapse goes on to local accounts.
Only for tests; never shipped.
"""
import ssl

import ldap3


class LdapAuthProviderModule:
    def __init__(self, config, api=None):
        uri = config["uri"]
        self.ldap_uris = [uri] if isinstance(uri, str) else uri
        self.ldap_tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if config.get("validate_cert", True) else ssl.CERT_NONE)
        self.ldap_start_tls = config.get("start_tls", False)

    def _get_server(self, get_info=None):
        return ldap3.ServerPool([ldap3.Server(uri, get_info=get_info, tls=self.ldap_tls) for uri in self.ldap_uris])

    def check_password(self, bind_dn, password):
        """What check_auth does up to the bind: None when LDAP is unusable."""
        try:
            conn = ldap3.Connection(self._get_server(), bind_dn, password, authentication=ldap3.SIMPLE, read_only=True)
            conn.open()
            if self.ldap_start_tls:
                conn.start_tls()
            return conn.bind()
        except ldap3.core.exceptions.LDAPException:
            return None
