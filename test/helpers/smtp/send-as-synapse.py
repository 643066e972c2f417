"""Send one mail the way Synapse 1.67 does, with exactly the settings of a
rendered homeserver.yaml: how the `email:` section is read follows Synapse's
synapse/config/emailconfig.py (defaults included), how the mail goes out
follows synapse/handlers/send_email.py (Twisted's ESMTPSenderFactory:
STARTTLS when offered and enable_tls, implicit TLS with force_tls, AUTH when
smtp_user is set, certificates checked against the system's trust store).
Written for the tests; no Synapse code in here.

usage: send-as-synapse.py HOMESERVER_YAML RECIPIENT SUBJECT
Exit 0 when the server accepted the mail, 1 with the reason on stderr.
"""
import email.utils
import sys
from email.mime.text import MIMEText
from io import BytesIO

import yaml
from twisted.internet import defer, reactor
from twisted.internet.ssl import optionsForClientTLS
from twisted.mail.smtp import ESMTPSenderFactory


def settings(path):
    with open(path, encoding="utf-8") as f:
        section = (yaml.safe_load(f) or {}).get("email") or {}
    force_tls = section.get("force_tls", False)
    return {
        "host": section.get("smtp_host", "localhost"),
        "port": section.get("smtp_port", 465 if force_tls else 25),
        "user": section.get("smtp_user"),
        "password": section.get("smtp_pass"),
        "require_tls": section.get("require_transport_security", False),
        "enable_tls": section.get("enable_tls", True),
        "force_tls": force_tls,
        "from": section["notif_from"],
    }


def send(conf, recipient, subject):
    from_string = conf["from"] % {"app": "Matrix"}
    message = MIMEText("sent with the rendered settings", "plain", "utf8")
    message["Subject"] = subject
    message["From"] = from_string
    message["To"] = recipient
    done = defer.Deferred()
    user = conf["user"]
    password = conf["password"]
    factory = ESMTPSenderFactory(
        user.encode("utf-8") if user is not None else None,
        password.encode("utf-8") if password is not None else None,
        email.utils.parseaddr(from_string)[1],
        email.utils.parseaddr(recipient)[1],
        BytesIO(message.as_string().encode("utf8")),
        done,
        heloFallback=True,
        requireAuthentication=user is not None,
        requireTransportSecurity=conf["require_tls"],
        hostname=conf["host"] if conf["enable_tls"] else None,
    )
    if conf["force_tls"]:
        reactor.connectSSL(conf["host"], conf["port"], factory, optionsForClientTLS(conf["host"]), timeout=30)
    else:
        reactor.connectTCP(conf["host"], conf["port"], factory, timeout=30)
    return done


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: send-as-synapse.py HOMESERVER_YAML RECIPIENT SUBJECT\n")
        return 2
    outcome = {}

    def ok(_):
        outcome["ok"] = True

    def failed(failure):
        outcome["error"] = "%s: %s" % (type(failure.value).__name__, failure.getErrorMessage())

    d = send(settings(sys.argv[1]), sys.argv[2], sys.argv[3])
    # Twisted's SMTP client waits 5 minutes for a silent server (a plain
    # client on an implicit-TLS port): the test gives up sooner.
    d.addTimeout(20, reactor)
    d.addCallbacks(ok, failed)
    d.addBoth(lambda _: reactor.stop())
    reactor.run()
    if outcome.get("ok"):
        print("sent")
        return 0
    sys.stderr.write("send-as-synapse: %s\n" % outcome.get("error", "no result"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
