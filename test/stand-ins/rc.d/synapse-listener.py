"""Stand-in Synapse for machines without one (rc.d/synapse with
STANDIN_SYNAPSE=listener). It reads the rendered homeserver.yaml as Synapse
does (PyYAML), listens where its `listeners` say, keeps a small sqlite
database at `database.args.database` (created on the first start, never
changed after), and answers over HTTP what the image tests ask through nginx:
/health, /_matrix/client/versions and /_matrix/key/v2/server (with the key id
from `signing_key_path`), each JSON answer echoing the path and headers it
received so a test sees what nginx passed on. Anything else is Synapse's 404.
Follows Synapse 1.67's start-up contract: `--daemonize -c CONFIG` forks after
binding, the child writes `pid_file`. Only for test sandboxes; never shipped.
"""
import http.server
import json
import os
import sqlite3
import sys

import yaml


def config_path():
    args = sys.argv[1:]
    return args[args.index("-c") + 1]


def key_id(path):
    with open(path, encoding="utf-8") as f:
        algorithm, version, _ = f.read().split()[:3]
    return algorithm + ":" + version


def keep_database(path):
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE IF NOT EXISTS stand_in (server_name TEXT, created TEXT)")
        if db.execute("SELECT COUNT(*) FROM stand_in").fetchone()[0] == 0:
            db.execute("INSERT INTO stand_in VALUES (?, datetime('now'))", (CONFIG["server_name"],))
    db.close()


CONFIG = yaml.safe_load(open(config_path(), encoding="utf-8"))


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, kind="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        seen = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "stand_in": True}
        if self.path == "/health":
            self.answer(200, b"OK", "text/plain; charset=utf-8")
        elif self.path == "/_matrix/client/versions":
            self.answer(200, {"versions": ["v1.1"], **seen})
        elif self.path.startswith("/_matrix/key/v2/server"):
            key = key_id(CONFIG["signing_key_path"])
            self.answer(200, {"server_name": CONFIG["server_name"], "verify_keys": {key: {"key": "stand-in"}}, **seen})
        else:
            self.answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request", **seen})

    def log_message(self, fmt, *args):
        with open("/var/log/matrix-synapse/homeserver.log", "a", encoding="utf-8") as log:
            log.write("stand-in synapse - INFO - " + (fmt % args) + "\n")


def main():
    listener = CONFIG["listeners"][0]
    keep_database(CONFIG["database"]["args"]["database"])
    server = http.server.ThreadingHTTPServer((listener["bind_addresses"][0], listener["port"]), Handler)
    # The parent returns once the pid file is there (earlier cook versions
    # asked `service status` right away; the late pid file of a real
    # daemonizing Synapse is the lifecycle tests' STANDIN_SERVICE_LATE_PID).
    written, told = os.pipe()
    if "--daemonize" in sys.argv:
        if os.fork():
            os.close(told)
            os.read(written, 1)
            os._exit(0)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    with open(CONFIG["pid_file"], "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))
    os.write(told, b".")
    Handler.log_message(None, "stand-in synapse listening on %s:%d", listener["bind_addresses"][0], listener["port"])
    server.serve_forever()


main()
