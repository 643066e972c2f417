"""One LDAP login attempt through a provider module, timed (for
ldap-outage.test.ts). usage: ldap-login-probe.py MODULE.CLASS URI BIND_DN PASSWORD
Prints JSON {"result": true|false|null, "seconds": N}; null = LDAP unusable."""
import importlib
import json
import os
import sys
import time

module_name, class_name = sys.argv[1].rsplit(".", 1)
provider = getattr(importlib.import_module(module_name), class_name)({"uri": sys.argv[2], "start_tls": os.environ.get("PROBE_START_TLS") == "1"})
started = time.monotonic()
result = provider.check_password(sys.argv[3], sys.argv[4])
print(json.dumps({"result": result, "seconds": round(time.monotonic() - started, 2)}))
