#!/bin/sh
# Build step of the matrix-synapse-nomad image. pot copies this script into the
# jail and runs it as `/tmp/matrix-synapse-nomad.sh POTNAME` after the command
# file has copied the payload to /root/matrix-synapse-nomad.d. It installs the
# packages by origin, puts cook and its helpers in place and records what was
# built. Nothing site-specific (domain, secret, certificate) is baked in.
# A failing step stops the build with the step's name.
set -eu

PAYLOAD=/root/matrix-synapse-nomad.d
LIBEXEC=/usr/local/libexec/matrix-synapse-nomad
SHARE=/usr/local/share/matrix-synapse-nomad
# The packages cook needs, by origin so the Python flavour of the release
# (py39-, py311-, ...) does not matter. psycopg2 (PostgreSQL) is named on its
# own: the Synapse package pulls it in only when built with its PGSQL option.
ORIGINS="net-im/py-matrix-synapse net/py-matrix-synapse-ldap3 databases/py-psycopg2 www/nginx security/acme.sh"
# pkg branch: quarterly unless the builder exports PKG_BRANCH=latest.
PKG_BRANCH=${PKG_BRANCH:-quarterly}

STEP="start"

step() {
	STEP=$1
	echo "==> $STEP"
}

on_exit() {
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "matrix-synapse-nomad.sh: build failed in step '$STEP' (exit $rc)" >&2
	fi
}

configure_pkg() {
	case $PKG_BRANCH in
	quarterly) ;; # the default of every release: nothing to change
	latest)
		# The override must use the base's own repository name: FreeBSD up to
		# 14.x, FreeBSD-ports from 15.0 (a wrong name adds a second repository).
		repo=$(sed -n 's/^[[:space:]]*"\{0,1\}\([A-Za-z0-9_-]*\)"\{0,1\}[[:space:]]*:[[:space:]]*{.*/\1/p' /etc/pkg/FreeBSD.conf | head -n 1)
		if [ -z "$repo" ]; then
			echo "no repository defined in /etc/pkg/FreeBSD.conf" >&2
			return 1
		fi
		mkdir -p /usr/local/etc/pkg/repos
		# shellcheck disable=SC2016 # ${ABI} is pkg's own variable
		printf '%s: { url: "pkg+https://pkg.FreeBSD.org/${ABI}/latest" }\n' "$repo" \
			>"/usr/local/etc/pkg/repos/$repo.conf"
		;;
	*)
		echo "PKG_BRANCH must be quarterly or latest, not '$PKG_BRANCH'" >&2
		return 1
		;;
	esac
	ASSUME_ALWAYS_YES=yes pkg bootstrap -f
	ASSUME_ALWAYS_YES=yes pkg update -f
}

install_packages() {
	# shellcheck disable=SC2086 # one word per origin
	ASSUME_ALWAYS_YES=yes pkg install -y $ORIGINS
}

verify_packages() {
	missing=""
	for origin in $ORIGINS; do
		if pkg info -e -O "$origin" >/dev/null 2>&1; then
			echo "    $origin: $(pkg info -O "$origin")"
		else
			missing="$missing $origin"
		fi
	done
	if [ -n "$missing" ]; then
		echo "packages missing after install:$missing" >&2
		return 1
	fi
}

disable_sendmail() {
	sysrc sendmail_enable=NONE sendmail_submit_enable=NO \
		sendmail_outbound_enable=NO sendmail_msp_queue_enable=NO
}

create_folders() {
	install -d -m 0755 /usr/local/etc/matrix-synapse /usr/local/etc/nginx \
		/usr/local/www/acme /usr/local/www/matrix-well-known/.well-known/matrix \
		/var/log/nginx /mnt "$LIBEXEC" "$SHARE"
	install -d -m 0750 -o synapse -g synapse /var/log/matrix-synapse /var/run/matrix-synapse
}

install_cook() {
	install -m 0755 "$PAYLOAD/cook" /usr/local/bin/cook
	for f in "$PAYLOAD"/libexec/*; do
		install -m 0755 "$f" "$LIBEXEC/"
	done
	for f in "$PAYLOAD"/templates/*; do
		install -m 0644 "$f" "$SHARE/"
	done
	# Rotation for the logs that would otherwise grow for the allocation's lifetime.
	install -d -m 0755 /usr/local/etc/newsyslog.conf.d
	install -m 0644 "$PAYLOAD/templates/newsyslog.conf" \
		/usr/local/etc/newsyslog.conf.d/matrix-synapse-nomad.conf
}

record_build() {
	version=$(head -n 1 "$PAYLOAD/image-version")
	case $version in
	[0-9]*.[0-9]*.[0-9]*) ;;
	*)
		echo "image-version holds '$version', not a version" >&2
		return 1
		;;
	esac
	printf '%s\n' "$version" >"$SHARE/image-version"
	freebsd-version -u >"$SHARE/freebsd-release"
	echo "    image $version on FreeBSD $(cat "$SHARE/freebsd-release")"
}

clean_up() {
	pkg clean -a -y
	rm -rf "$PAYLOAD"
}

main() {
	trap on_exit EXIT
	step "configure and bootstrap pkg ($PKG_BRANCH)"
	configure_pkg
	step "install packages"
	install_packages
	step "verify packages"
	verify_packages
	step "disable sendmail"
	disable_sendmail
	step "create folders"
	create_folders
	step "install cook"
	install_cook
	step "record image version and FreeBSD release"
	record_build
	step "clean package cache"
	clean_up
	STEP="done"
	echo "==> matrix-synapse-nomad image prepared"
}

main "$@"
