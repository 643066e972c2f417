"""One LDAP login attempt through a provider class, timed (for
ldap-outage.test.ts). usage: ldap-login-probe.py MODULE.CLASS URI BIND_DN PASSWORD
The class is matrix-synapse-ldap3's provider (0.2 or later) or the image's
subclass of it, built from its own parse_config; the probe then does what a
login does up to the bind: a connection on the provider's _get_server() pool,
StartTLS when configured, a simple bind. Prints JSON {"result": true|false|null,
"seconds": N}; null = LDAP unusable (an LDAPException, as the provider declines)."""
import importlib
import json
import os
import sys
import time

import ldap3
import ldap3.core.exceptions

module_name, class_name = sys.argv[1].rsplit(".", 1)
cls = getattr(importlib.import_module(module_name), class_name)
config = cls.parse_config({
    "uri": sys.argv[2],
    "start_tls": os.environ.get("PROBE_START_TLS") == "1",
    "base": sys.argv[3].split(",", 1)[1],
    "attributes": {"uid": "uid", "name": "cn", "mail": "mail"},
})



class _NoApi:
    """What the provider module asks of Synapse's ModuleApi while it is built; nothing else is used."""

    def register_password_auth_provider_callbacks(self, **_callbacks):
        pass


provider = cls(config, _NoApi())
started = time.monotonic()
try:
    conn = ldap3.Connection(provider._get_server(), sys.argv[3], sys.argv[4], authentication=ldap3.SIMPLE, read_only=True)
    conn.open()
    if provider.ldap_start_tls:
        conn.start_tls()
    result = conn.bind()
except ldap3.core.exceptions.LDAPException:
    result = None
print(json.dumps({"result": result, "seconds": round(time.monotonic() - started, 2)}))
