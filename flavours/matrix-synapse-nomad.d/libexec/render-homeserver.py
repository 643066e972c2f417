"""Write Synapse's homeserver.yaml from cook's parameters.

cook has checked and exported the parameters; this reads them from the
environment (as bytes, so nothing is re-interpreted) and writes the file as
JSON, which is valid YAML: every value is a quoted, escaped string and arrives
in Synapse exactly as given. The file holds secrets: it is created with mode
0640, owner root, group synapse, and replaces the old one atomically.

Usage: python3 render-homeserver.py /usr/local/etc/matrix-synapse/homeserver.yaml
"""
import grp
import json
import os
import re
import sys

DATA = "/mnt/synapse"
SECRETS = DATA + "/secrets"
UPLOAD_LIMIT = "50M"  # nginx's client_max_body_size matches it
# DBSSLMODE=verify-full: a private CA on /mnt first, else the system's trust store.
DB_CA_FILES = ["/mnt/postgresql/root.crt", "/etc/ssl/cert.pem", "/usr/local/share/certs/ca-root-nss.crt"]


def fail(message):
    sys.stderr.write("render-homeserver: " + message + "\n")
    sys.exit(1)


def param(name):
    raw = os.environb.get(name.encode(), b"")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(name + " is not valid UTF-8 text")


def flag(name):
    return param(name) == "true"


def stored_secret(name):
    with open(SECRETS + "/" + name, encoding="utf-8") as f:
        return f.read().strip()


def dc_components(domain):
    # every label: example.co.uk -> dc=example,dc=co,dc=uk
    return ",".join("dc=" + label for label in domain.split("."))


def listener():
    return {
        "port": 8008,
        "bind_addresses": ["127.0.0.1"],
        "type": "http",
        "tls": False,
        "x_forwarded": True,
        "resources": [{"names": ["client", "federation"], "compress": False}],
    }


def email_section():
    port = int(param("SMTPPORT") or "25")
    section = {
        "smtp_host": param("SMTPHOST"),
        "smtp_port": port,
        # Synapse expands %(app)s in notif_from: double any literal %.
        "notif_from": param("SMTPFROM").replace("%", "%%"),
    }
    if port == 465:
        section["force_tls"] = True  # implicit TLS (SMTPS)
    if param("SMTPUSER"):
        section["smtp_user"] = param("SMTPUSER")
        section["smtp_pass"] = param("SMTPPASS")
    return section


def ldap_module():
    server = param("LDAPSERVER")
    host = "[" + server + "]" if ":" in server else server
    dcs = dc_components(param("LDAPDOMAIN"))
    return {
        # matrix-synapse-ldap3's module with a bounded retry (the file says why).
        "module": "matrix_synapse_nomad_ldap.BoundedLdapAuthProviderModule",
        "config": {
            "enabled": True,
            "mode": "search",
            "uri": "ldap://" + host + ":389",
            "start_tls": True,
            "base": "ou=People," + dcs,
            "bind_dn": "cn=Manager," + dcs,
            "bind_password": param("LDAPPASSWORD"),
            "filter": "(objectClass=posixAccount)",
            "attributes": {"uid": "uid", "mail": "mail", "name": "cn"},
        },
    }


def database_section():
    if not param("DBHOST"):
        return {"name": "sqlite3", "args": {"database": DATA + "/homeserver.db"}}
    args = {
        "user": param("DBUSER"),
        "password": param("DBPASSWORD"),
        "dbname": param("DBNAME"),
        "host": param("DBHOST"),
        "port": int(param("DBPORT")),
        "sslmode": param("DBSSLMODE"),
        # Synapse's own recommendation: a small pool per process is plenty.
        "cp_min": 5,
        "cp_max": 10,
        # Notice a dead server or a dropped connection in about 40 s, not hours.
        "keepalives_idle": 10,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if args["sslmode"] == "verify-full":
        for ca in DB_CA_FILES:
            if os.path.exists(ca):
                args["sslrootcert"] = ca
                break
    return {"name": "psycopg2", "txn_limit": 10000, "args": args}


def homeserver():
    domain = param("DOMAIN")
    mail = bool(param("SMTPHOST"))
    config = {
        "server_name": domain,
        "public_baseurl": "https://" + domain + "/",
        "pid_file": "/var/run/matrix-synapse/homeserver.pid",
        "listeners": [listener()],
        "database": database_section(),
        "log_config": "/usr/local/etc/matrix-synapse/log.config",
        "media_store_path": DATA + "/media_store",
        "max_upload_size": UPLOAD_LIMIT,
        "signing_key_path": DATA + "/keys/signing.key",
        "trusted_key_servers": [{"server_name": "matrix.org"}],
        "suppress_key_server_warning": True,
        "admin_contact": "mailto:" + param("ALERTEMAIL"),
        "registration_shared_secret": param("MYSHAREDSECRET"),
        "macaroon_secret_key": stored_secret("macaroon_secret_key"),
        "form_secret": stored_secret("form_secret"),
        "report_stats": False,
        "enable_registration": flag("ENABLEREGISTRATION"),
    }
    if flag("ENABLEREGISTRATION"):
        if mail:
            config["registrations_require_3pid"] = ["email"]
        else:
            config["enable_registration_without_verification"] = True
    if mail:
        config["email"] = email_section()
    if param("LDAPSERVER"):
        config["modules"] = [ldap_module()]
    return config


# Characters JSON leaves raw but YAML does not accept raw (C1 controls, DEL,
# BOM, line/paragraph separators): written as \uXXXX escapes instead. They can
# only occur inside strings, so this keeps the text valid JSON and YAML.
NOT_YAML_PRINTABLE = re.compile("[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]")


def as_yaml(config):
    text = json.dumps(config, indent=2, ensure_ascii=False)
    text = NOT_YAML_PRINTABLE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    header = (
        "# Synapse configuration written by cook (matrix-synapse-nomad) from the\n"
        "# task's parameters; it is rewritten on every new allocation. JSON is YAML.\n"
    )
    return header + text + "\n"


def write_private(path, text):
    try:
        gid = grp.getgrnam("synapse").gr_gid
    except KeyError:
        fail("group synapse does not exist (is py-matrix-synapse installed?)")
    tmp = path + ".new"
    if os.path.exists(tmp):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.fchown(fd, 0, gid)
        os.fchmod(fd, 0o640)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 2:
        fail("usage: render-homeserver.py OUTPUT")
    write_private(sys.argv[1], as_yaml(homeserver()))


main()
