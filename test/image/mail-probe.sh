#!/bin/sh
# Test fixture (inside the jail sandbox, own network namespace): a real SMTP
# server (test/helpers/smtp/smtp-server.py) on its real port for smtp.test,
# then one mail sent per VARIANT with the rendered homeserver.yaml the way
# Synapse sends (send-as-synapse.py). VARIANT is as-rendered, or a copy of the
# rendered settings with one thing broken, to show the server would notice:
# wrong-password, no-force-tls (465 without implicit TLS), no-tls (STARTTLS off).
# usage: mail-probe.sh PORT starttls|implicit USER VARIANT...
# Prints "=== VARIANT exit N", the sender's output, and what the server spooled.
set -eu
port=$1
mode=$2
user=$3
shift 3
HS=/usr/local/etc/matrix-synapse/homeserver.yaml

mkdir -p /tmp/spool
mkfifo /tmp/smtp-ready
python3 /tmp/smtp/smtp-server.py --port "$port" --tls "$mode" \
	--cert /tmp/tls/smtp.test/fullchain.pem --key /tmp/tls/smtp.test/privkey.pem \
	--user "$user" --password-file /tmp/smtp-password --spool /tmp/spool \
	>/tmp/smtp-ready 2>/tmp/smtp-server.err &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
# Blocks until the server has bound its port and said so (or died: EOF).
read -r ready </tmp/smtp-ready || ready=""
if [ "$ready" != ready ]; then
	echo "SMTP server did not start:" >&2
	cat /tmp/smtp-server.err >&2
	exit 1
fi

variant_config() {
	python3 - "$HS" "$1" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
mail = config["email"]
variant = sys.argv[2]
if variant == "wrong-password":
    mail["smtp_pass"] = mail["smtp_pass"] + "x"
elif variant == "no-force-tls":
    mail.pop("force_tls", None)
elif variant == "no-tls":
    mail["enable_tls"] = False
yaml.safe_dump(config, open("/tmp/hs-" + variant + ".yaml", "w", encoding="utf-8"))
PY
}

for variant in "$@"; do
	config=$HS
	if [ "$variant" != as-rendered ]; then
		variant_config "$variant"
		config=/tmp/hs-$variant.yaml
	fi
	before=$(find /tmp/spool -name '*.json' | wc -l)
	rc=0
	out=$(python3 /tmp/smtp/send-as-synapse.py "$config" "someone@example.org" "probe $variant" 2>&1) || rc=$?
	echo "=== $variant exit $rc"
	printf '%s\n' "$out"
	after=$(find /tmp/spool -name '*.json' | wc -l)
	if [ "$after" -gt "$before" ]; then
		echo "--- envelope"
		cat "/tmp/spool/$after.json"
		echo
		echo "--- message"
		cat "/tmp/spool/$after.eml"
	fi
done
