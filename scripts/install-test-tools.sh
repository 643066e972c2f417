#!/bin/sh
# Installs, from Debian/Ubuntu packages, the real programs the tests use as
# peers: OpenBSD signify, nginx (with WebDAV), shellcheck, slapd and the LDAP
# client tools, openssl, xz, curl, python3, iproute2, PostgreSQL and
# python3-psycopg2 (the image's database checks run with it in the tests), an
# SMTP server (aiosmtpd) and what the mail, LDAP and federation tests drive it
# with (Twisted, ldap3, PyYAML, OpenBSD netcat as FreeBSD has it), and OpenSSH
# (the remote-builder tests start their own sshd). Run it once as root
# before `npm test` on a fresh machine; it does nothing when all are present.
set -eu

PACKAGES="signify-openbsd nginx-light shellcheck slapd ldap-utils openssl xz-utils curl python3 iproute2 postgresql python3-psycopg2 python3-aiosmtpd python3-twisted python3-ldap3 python3-yaml netcat-openbsd openssh-server openssh-client"

missing_packages() {
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || printf '%s ' "$p"
	done
}

main() {
	if ! command -v dpkg >/dev/null 2>&1; then
		echo "install-test-tools: not a Debian/Ubuntu system; install these by hand: $PACKAGES" >&2
		exit 1
	fi
	missing=$(missing_packages)
	if [ -z "$missing" ]; then
		echo "install-test-tools: all test tools are installed"
	else
		if [ "$(id -u)" != 0 ]; then
			echo "install-test-tools: run as root (sudo sh $0) to install: $missing" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086 # one word per package
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
		echo "install-test-tools: installed $missing"
	fi
	# Debian starts the packaged nginx, slapd, postgresql and sshd on install; the tests start their own on free ports.
	if [ "$(id -u)" = 0 ]; then
		service nginx stop >/dev/null 2>&1 || true
		service slapd stop >/dev/null 2>&1 || true
		service postgresql stop >/dev/null 2>&1 || true
		# sshd only when this run installed it: an sshd that was there may be how someone reaches this machine.
		case " $missing " in *" openssh-server "*) service ssh stop >/dev/null 2>&1 || true ;; esac
	fi
}

main "$@"
