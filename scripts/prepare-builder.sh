#!/bin/sh
# Prepare a FreeBSD host as an image builder for `npm run build-image`:
# installs pot, Node and npm (and what pot needs), configures pot's ZFS root
# and external interface, runs `pot init` and `pot vnet-start`.
# Safe to run again: every step checks first and only changes what is missing.
#
# usage: sh scripts/prepare-builder.sh [--dry-run] [--pool POOL] [--node-pkg PKG] [--extif IF]
#   --dry-run        print the commands instead of running them
#   --pool POOL      ZFS pool for pot's datasets (default: the first pool, usually zroot)
#   --node-pkg PKG   Node package: node22 (default) or node20 (Node >= 20.6 is required)
#   --extif IF       interface with the default route, for public-bridge networking (default: detected)
set -eu

dry=0
pool=
node_pkg=node22
extif=
while [ $# -gt 0 ]; do
	case "$1" in
	--dry-run) dry=1 ;;
	--pool) pool=${2:?--pool needs a pool name}; shift ;;
	--node-pkg) node_pkg=${2:?--node-pkg needs a package name}; shift ;;
	--extif) extif=${2:?--extif needs an interface}; shift ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "prepare-builder: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done

say() { printf '==> %s\n' "$*"; }
run() {
	if [ "$dry" = 1 ]; then
		printf '%s\n' "$*"
	else
		"$@"
	fi
}
die() { printf 'prepare-builder: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = FreeBSD ] || [ "$dry" = 1 ] || die "this is $(uname -s), not FreeBSD: run it on the builder (or pass --dry-run to read the steps)"
[ "$(id -u)" = 0 ] || [ "$dry" = 1 ] || die "run it as root (sudo or doas sh scripts/prepare-builder.sh)"

say "packages: pot, freebsd-release-manifests, $node_pkg, npm-$node_pkg, git, signify"
run pkg install -y pot freebsd-release-manifests "$node_pkg" "npm-$node_pkg" git signify

if [ -z "$pool" ]; then
	pool=$(zpool list -H -o name 2>/dev/null | head -n 1 || true)
	[ -n "$pool" ] || [ "$dry" = 0 ] || pool=zroot
fi
[ -n "$pool" ] || die "no ZFS pool found: pot needs ZFS (create a pool, or pass --pool POOL)"

if [ -z "$extif" ]; then
	extif=$(route -n get default 2>/dev/null | awk '/interface:/ { print $2 }' || true)
	[ -n "$extif" ] || [ "$dry" = 0 ] || extif=em0
fi
[ -n "$extif" ] || die "no default route: pass --extif IF (the interface jails reach the internet through)"

conf=/usr/local/etc/pot/pot.conf
set_conf() { # NAME VALUE: set it in pot.conf unless it already has a value there
	if [ -f "$conf" ] && grep -q "^$1=" "$conf"; then
		say "$conf already sets $1 ($(grep "^$1=" "$conf" | tail -n 1)); left as it is"
	else
		say "$conf: $1=$2"
		if [ "$dry" = 1 ]; then
			printf "echo '%s=%s' >> %s\n" "$1" "$2" "$conf"
		else
			printf '%s=%s\n' "$1" "$2" >>"$conf"
		fi
	fi
}
set_conf POT_ZFS_ROOT "$pool/pot"
set_conf POT_FS_ROOT /opt/pot
set_conf POT_EXTIF "$extif"

# pot refuses every command while its group is missing (common.sh _conf_check).
if ! getent group pot >/dev/null 2>&1; then
	say "group pot (pot refuses to run without it)"
	run pw groupadd pot
fi

say "pot init (creates $pool/pot and the pf NAT rules) and the public bridge"
run pot init
run pot vnet-start

# Room for a FreeBSD base, the packages and the build's working copy (preflight wants 4 GiB).
min=$((4 * 1024 * 1024 * 1024))
if [ "$dry" = 1 ]; then
	printf 'zfs list -H -p -o avail %s   # needs %s bytes (4 GiB) free\n' "$pool/pot" "$min"
else
	avail=$(zfs list -H -p -o avail "$pool/pot" 2>/dev/null || echo 0)
	say "free in $pool/pot: $((avail / 1024 / 1024)) MiB"
	[ "$avail" -ge "$min" ] || die "only $((avail / 1024 / 1024)) MiB free in $pool/pot; a build needs 4 GiB: free space in the pool (zfs list -o space -r $pool) or pass --pool POOL"
fi
# A bridged jail copies this host's resolv.conf: a loopback-only resolver leaves it without DNS.
if ! awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 != "::1" { ok = 1 } END { exit !ok }' /etc/resolv.conf 2>/dev/null; then
	say "warning: /etc/resolv.conf names no resolver a jail can reach (127.0.0.1 is the jail itself): pkg fails inside the jails; name your router's or DNS server's address there"
fi

if [ "$dry" = 0 ]; then
	zfs list -H -o name "$pool/pot" >/dev/null || die "pot init did not create $pool/pot; see its output above"
	node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=6)?0:1)' ||
		die "Node $(node --version) is too old: the pipeline needs Node >= 20.6 (--node-pkg node22)"
	say "pot $(pot version -q), Node $(node --version), npm $(npm --version): ready"
fi
cat <<'EOF'
==> next, in the project folder:
  npm ci
  npm run build-image -- --dry-run    # read the plan
  npm run build-image                 # build (as root)
EOF
