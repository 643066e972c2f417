"""Check, before Synapse starts, the PostgreSQL database homeserver.yaml names.

Run by cook with the Python that runs Synapse (it has psycopg2). It connects
with exactly the arguments Synapse will use (the rendered file's database
section) and either prints the state on stdout and exits 0:

    postgresql=empty|synapse|synapse-from-sqlite sqlite=absent|empty|data

(synapse-from-sqlite: synapse_port_db has written to it, finished or not.)

or prints what is wrong and what to do, one line, on stderr and exits 1.
Neither the password nor any other secret is ever printed.

Usage: python3 check-database.py HOMESERVER_YAML SQLITE_DB EXPECTED_SERVER_NAME
"""
import json
import os
import socket
import sqlite3
import sys

CONNECT_TIMEOUT = 10


def refuse(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)


def database_args(homeserver_yaml):
    # cook writes homeserver.yaml as JSON below a few '#' comment lines.
    with open(homeserver_yaml, encoding="utf-8") as f:
        text = "".join(line for line in f if not line.startswith("#"))
    database = json.loads(text)["database"]
    if database.get("name") != "psycopg2":
        refuse("check-database: " + homeserver_yaml + " does not use PostgreSQL")
    # What Synapse passes to psycopg2.connect: everything but its pool settings.
    return {k: v for k, v in database["args"].items() if not k.startswith("cp_")}


def create_line(args):
    return (
        "CREATE DATABASE \"%s\" OWNER \"%s\" ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';"
        % (args["dbname"], args["user"])
    )


def reach(host, port):
    """Refuse with the reason when nothing answers on HOST:PORT."""
    where = "%s:%s" % (host, port)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except socket.gaierror:
        refuse("cannot reach PostgreSQL at %s: the host name does not resolve; check DBHOST" % where)
    except socket.timeout:
        refuse(
            "cannot reach PostgreSQL at %s: no answer within %ds; check DBHOST/DBPORT and any firewall between the jail and the server"
            % (where, CONNECT_TIMEOUT)
        )
    except OSError as e:
        reason = e.strerror or str(e)
        refuse(
            "cannot reach PostgreSQL at %s (%s); check DBHOST/DBPORT and that the server is running and listens there (listen_addresses in postgresql.conf)"
            % (where, reason.lower())
        )


def server_said(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    # libpq prefixes 'connection to server at ... failed: ' (v14+); keep the server's words.
    text = lines[0] if lines else "no message"
    if "failed: " in text:
        text = text.split("failed: ", 1)[1]
    return text.replace("FATAL:  ", "").strip()


def connect(psycopg2, args):
    where = "%s:%s" % (args["host"], args["port"])
    try:
        return psycopg2.connect(connect_timeout=CONNECT_TIMEOUT, **args)
    except psycopg2.OperationalError as e:
        said = server_said(e)
        low = said.lower()
        if "database" in low and "does not exist" in low:
            refuse(
                "database '%s' does not exist on PostgreSQL at %s; create it (as a superuser, e.g. psql -U postgres): %s"
                % (args["dbname"], where, create_line(args))
            )
        if "pg_hba.conf" in low:
            refuse(
                "PostgreSQL at %s does not let role '%s' in from this jail (%s); add a hostssl/host line for it to pg_hba.conf and reload the server"
                % (where, args["user"], said)
            )
        if "authentication failed" in low or "password" in low or ("role" in low and "does not exist" in low):
            refuse(
                "PostgreSQL at %s refused the login of role '%s' (%s); check DBUSER and the DBPASSWORD in the Nomad Variable (nomad var put nomad/jobs/matrix-synapse DBPASSWORD=...)"
                % (where, args["user"], said)
            )
        if "does not support ssl" in low:
            refuse(
                "PostgreSQL at %s does not offer TLS but DBSSLMODE=%s; turn on ssl in the server's postgresql.conf, or set DBSSLMODE=disable on a trusted network"
                % (where, args.get("sslmode"))
            )
        if "certificate" in low or "ssl" in low:
            refuse(
                "the TLS connection to PostgreSQL at %s failed (%s); with DBSSLMODE=verify-full the server's certificate must name DBHOST and come from a CA the jail trusts: put a private CA's certificate at /mnt/postgresql/root.crt (on the host: the data folder's postgresql/root.crt)"
                % (where, said)
            )
        if "could not connect" in low or "connection refused" in low or "timeout" in low or "closed the connection" in low:
            refuse("cannot reach PostgreSQL at %s (%s); check DBHOST/DBPORT and that the server is running" % (where, said))
        refuse("PostgreSQL at %s refused the connection (%s); fix that and start again" % (where, said))


def one(cur, query, params=()):
    cur.execute(query, params)
    return cur.fetchone()


def check_locale(cur, args):
    encoding, collate, ctype = one(
        cur,
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database()",
    )
    wrong = []
    if encoding != "UTF8":
        wrong.append("encoding %s" % encoding)
    if collate != "C":
        wrong.append("collation '%s'" % collate)
    if ctype != "C":
        wrong.append("ctype '%s'" % ctype)
    if wrong:
        refuse(
            "database '%s' on %s:%s has %s; Synapse needs UTF8 with collation and ctype 'C': drop it and create it again (existing data: pg_dump it first and restore into the new one): %s"
            % (args["dbname"], args["host"], args["port"], ", ".join(wrong), create_line(args))
        )


def tables(cur):
    cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    return {row[0] for row in cur.fetchall()}


def check_server_name(cur, args, server_name):
    # What Synapse itself checks before using a database (its users' domain).
    suffix = ":" + server_name
    row = one(cur, "SELECT name FROM users WHERE right(name, %s) <> %s LIMIT 1", (len(suffix), suffix))
    if row:
        other = row[0].split(":", 1)[1] if ":" in row[0] else row[0]
        refuse(
            "database '%s' on %s:%s holds the data of another Matrix server ('%s'), not %s; point DBNAME at this server's database or at an empty one (a server name cannot change)"
            % (args["dbname"], args["host"], args["port"], other, server_name)
        )


def check_can_create(cur, args):
    if not one(cur, "SELECT has_schema_privilege(current_schema(), 'CREATE')")[0]:
        refuse(
            "role '%s' may not create tables in database '%s' on %s:%s; make it the owner (ALTER DATABASE \"%s\" OWNER TO \"%s\";) or GRANT CREATE ON SCHEMA public TO \"%s\";"
            % (args["user"], args["dbname"], args["host"], args["port"], args["dbname"], args["user"], args["user"])
        )


def postgresql_state(args, server_name):
    try:
        import psycopg2
    except ImportError:
        refuse("psycopg2 is missing from Synapse's Python (" + sys.executable + "); the image should have databases/py-psycopg2")
    reach(args["host"], args["port"])
    conn = connect(psycopg2, args)
    try:
        with conn.cursor() as cur:
            check_locale(cur, args)
            found = tables(cur)
            if not found:
                check_can_create(cur, args)
                return "empty"
            if "users" in found:
                check_server_name(cur, args, server_name)
            return "synapse-from-sqlite" if "port_from_sqlite3" in found else "synapse"
    finally:
        conn.close()


def sqlite_state(path):
    if not os.path.exists(path):
        return "absent"
    if os.path.getsize(path) == 0:
        return "empty"
    try:
        # Read-only: the check never changes the file.
        conn = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
        try:
            count = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as e:
        refuse("cannot read the sqlite database %s (%s); restore it from a backup or move it away" % (path, e))
    return "data" if count else "empty"


def main():
    if len(sys.argv) != 4:
        refuse("usage: check-database.py HOMESERVER_YAML SQLITE_DB SERVER_NAME")
    args = database_args(sys.argv[1])
    state = postgresql_state(args, sys.argv[3])
    print("postgresql=%s sqlite=%s" % (state, sqlite_state(sys.argv[2])))


main()
