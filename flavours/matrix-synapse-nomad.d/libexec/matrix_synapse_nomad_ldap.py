"""LDAP login for matrix-synapse-nomad: matrix-synapse-ldap3's module with a
bounded search for a reachable LDAP server.

The provider (ldap_auth_provider, 0.2 to 0.4) asks ldap3 for a ServerPool with
ldap3's defaults, active=True and exhaust=False: while no server answers, ldap3
tries again every 10 seconds, forever. Synapse asks the provider before its own
password check, so with the LDAP server down every password login hangs, local
accounts included. The provider has no setting for this. This subclass builds
the same pool with one round of attempts (3 s to connect each), after which the
provider logs the error and declines, and Synapse goes on to its local accounts.

cook names this module in homeserver.yaml and puts this folder on Synapse's
PYTHONPATH (rc.conf synapse_env). Everything else is the provider's own code.
"""
import ldap3
from ldap3.utils.config import set_config_parameter
from ldap_auth_provider import LdapAuthProviderModule

CONNECT_TIMEOUT = 3  # seconds for each connection attempt
ROUNDS = 1  # rounds over the configured servers before a login gives up on LDAP
PAUSE_AFTER_ROUND = 1  # seconds ldap3 waits after a failed round (its default: 10)

set_config_parameter("POOLING_LOOP_TIMEOUT", PAUSE_AFTER_ROUND)


class BoundedLdapAuthProviderModule(LdapAuthProviderModule):
    def _get_server(self, get_info=None):
        servers = [
            ldap3.Server(uri, get_info=get_info, tls=self.ldap_tls, connect_timeout=CONNECT_TIMEOUT)
            for uri in self.ldap_uris
        ]
        return ldap3.ServerPool(servers, active=ROUNDS, exhaust=False)
