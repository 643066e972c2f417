"""A real SMTP server for the image tests: aiosmtpd (Debian's python3-aiosmtpd).

It demands what a mail provider demands of Synapse: AUTH with one user and
password, and TLS before AUTH, either STARTTLS (submission, 587) or implicit
TLS from the first byte (SMTPS, 465). Every accepted message is written to
SPOOL/N.eml with a SPOOL/N.json beside it (envelope sender, recipients, the
login that sent it). "ready" is printed once the port is bound.

usage: smtp-server.py --port N --tls starttls|implicit --cert PEM --key PEM
                      --user NAME --password-file FILE --spool DIR
The password is read from a file so it never shows in a process list.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def arguments():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["starttls", "implicit"], required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--spool", required=True)
    return p.parse_args()


class Spool:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "login": login, "tls": session.ssl is not None}, f)
        return "250 Message accepted"


class ImplicitTLS(SMTP):
    """aiosmtpd knows TLS only from STARTTLS: on an SMTPS port the connection
    is TLS from the first byte, so AUTH must be offered and accepted there."""

    def connection_made(self, transport):
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._tls_protocol = transport
            self.session.ssl = {"implicit": True}


def checker(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


def main():
    args = arguments()
    with open(args.password_file, "rb") as f:
        password = f.read().rstrip(b"\n")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    implicit = args.tls == "implicit"

    def protocol():
        return (ImplicitTLS if implicit else SMTP)(
            Spool(args.spool),
            hostname="smtp.test",
            tls_context=None if implicit else context,
            require_starttls=not implicit,
            authenticator=checker(args.user.encode(), password),
            auth_required=True,
            auth_require_tls=True,
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(protocol, args.host, args.port, ssl=context if implicit else None)
    )
    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
