#!/bin/sh
# Test fixture (runs inside the jail sandbox with its own network namespace):
# a stand-in Synapse on 127.0.0.1:8008 that echoes what it receives, the
# rendered nginx on its real ports, and the requests nginx.test.ts checks.
# usage: nginx-probe.sh http|tls   (prints "=== NAME" then curl's -i output)
set -eu
mode=${1:?usage: nginx-probe.sh http|tls}

start_fake_synapse() {
	# Binds first, then forks: the port is open when this returns.
	python3 -c '
import http.server, json, os
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, kind = b"OK", "text/plain"
        else:
            seen = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
            body, kind = json.dumps(seen).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 8008), Echo)
if os.fork():
    os._exit(0)
with open("/tmp/fake-synapse.pid", "w") as f:
    f.write(str(os.getpid()))
server.serve_forever()
'
}

probe() {
	name=$1
	shift
	echo "=== $name"
	curl -s -i --max-time 5 "$@" || echo "curl failed: $?"
	echo
}

stop_all() {
	nginx -c /usr/local/etc/nginx/nginx.conf -s stop 2>/dev/null || true
	if [ -f /tmp/fake-synapse.pid ]; then
		kill "$(cat /tmp/fake-synapse.pid)" 2>/dev/null || true
	fi
}

start_fake_synapse
trap stop_all EXIT
nginx -c /usr/local/etc/nginx/nginx.conf
mkdir -p /usr/local/www/acme/.well-known/acme-challenge
echo token-content >/usr/local/www/acme/.well-known/acme-challenge/probe-token

case $mode in
http)
	probe well-known-server http://127.0.0.1/.well-known/matrix/server
	probe well-known-client http://127.0.0.1/.well-known/matrix/client
	probe health http://127.0.0.1/health
	probe matrix -H 'X-Forwarded-Proto: https' -H 'Host: example.com' http://127.0.0.1/_matrix/client/versions
	probe synapse-client http://127.0.0.1/_synapse/client/new_user_consent
	probe federation-8448 http://127.0.0.1:8448/_matrix/federation/v1/version
	probe acme http://127.0.0.1/.well-known/acme-challenge/probe-token
	;;
tls)
	resolve="--resolve example.com:443:127.0.0.1 --resolve example.com:8448:127.0.0.1 -k"
	probe redirect http://127.0.0.1/_matrix/client/versions
	probe health http://127.0.0.1/health
	probe acme http://127.0.0.1/.well-known/acme-challenge/probe-token
	# shellcheck disable=SC2086 # $resolve is several curl options
	probe https-well-known $resolve https://example.com/.well-known/matrix/client
	# shellcheck disable=SC2086
	probe https-matrix $resolve https://example.com/_matrix/client/versions
	# shellcheck disable=SC2086
	probe https-federation-8448 $resolve https://example.com:8448/_matrix/key/v2/server
	;;
esac
