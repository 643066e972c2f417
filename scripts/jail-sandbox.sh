#!/bin/sh
# jail-sandbox.sh: run a command in a throwaway root that looks like a fresh
# pot jail, so the image's own scripts (cook, the flavour script) run unchanged
# on Linux. Used by `npm run cook:render` and the image tests; needs root.
#
# usage: jail-sandbox.sh --out DIR [--mnt DIR] [--mnt-read-only] [--seed DIR]... [--stand-ins DIR]
#                        [--private-network] -- COMMAND [ARG...]
#
# Inside a private mount namespace, / is the host's root seen through an
# overlay whose upper layer is a fresh tmpfs: every write lands there, nothing
# reaches the host. /usr/local, /root, /tmp, /var/log, /var/run and /var/db
# start empty, as in a jail; each --seed tree is laid in first (the image);
# /mnt is the --mnt folder (persistent storage, kept); the --stand-ins folder
# (and its jail/ subfolder) come first on PATH. When COMMAND ends, whatever it
# wrote is copied to --out at its real paths and its exit code is returned.
# SIGTERM/SIGINT sent to this process group reach COMMAND directly.
# --private-network gives the command its own network namespace with only
# loopback up, so servers inside can use their real ports (80, 443, 8008).
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}

die() {
	echo "jail-sandbox.sh: $*" >&2
	exit 2
}

if [ "${JAIL_SANDBOX_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (it uses a mount namespace and an overlay)"
	command -v unshare >/dev/null 2>&1 || die "needs unshare (util-linux)"
	net=""
	for arg in "$@"; do
		[ "$arg" = "--" ] && break
		[ "$arg" = "--private-network" ] && net="--net"
	done
	# shellcheck disable=SC2086 # $net is empty or one flag
	JAIL_SANDBOX_NS=1 exec unshare --mount --propagation private $net "$0" "$@"
fi

FRESH_DIRS="usr/local root tmp var/log var/run var/db"

make_stage() {
	STAGE=$(mktemp -d "${TMPDIR:-/tmp}/jail-sandbox.XXXXXX")
	mount -t tmpfs -o mode=0755 tmpfs "$STAGE"
	mkdir -p "$STAGE/up" "$STAGE/work" "$STAGE/root" "$STAGE/up/.stand-ins"
}

parse_args() {
	OUT=""
	MNT=""
	MNT_RO=no
	STAND_INS=""
	while [ $# -gt 0 ]; do
		case $1 in
		--out) OUT=$2; shift ;;
		--mnt) MNT=$2; shift ;;
		--mnt-read-only) MNT_RO=yes ;;
		--seed)
			[ -d "$2" ] || die "seed $2 is not a folder"
			cp -R -P --preserve=mode,ownership,timestamps "$2/." "$STAGE/up/"
			shift
			;;
		--stand-ins) STAND_INS=$2; shift ;;
		--private-network) ip link set lo up ;;
		--) shift; break ;;
		*) die "unknown argument $1" ;;
		esac
		shift
	done
	[ -n "$OUT" ] || die "--out DIR is required"
	[ $# -gt 0 ] || die "no command given after --"
	[ -n "$MNT" ] || MNT=$OUT/mnt
	mkdir -p "$OUT" "$MNT"
	COMMAND_START=$#
}

# Fresh folders hide the host's copy (overlayfs "opaque" directories).
make_fresh_dirs() {
	chmod 0755 "$STAGE/up" # a jail's / (a seed's root may have come from mkdtemp)
	for d in $FRESH_DIRS; do
		mkdir -p "$STAGE/up/$d"
	done
	# shellcheck disable=SC2086 # one argument per folder
	(cd "$STAGE/up" && python3 -c '
import os, sys
for d in sys.argv[1:]:
    os.setxattr(d, "trusted.overlay.opaque", b"y")
' $FRESH_DIRS)
}

mount_root() {
	ROOT=$STAGE/root
	mount -t overlay overlay -o "lowerdir=/,upperdir=$STAGE/up,workdir=$STAGE/work" "$ROOT"
	mount --rbind /dev "$ROOT/dev"
	mount --rbind /proc "$ROOT/proc"
	mount --bind "$MNT" "$ROOT/mnt"
	if [ "$MNT_RO" = yes ]; then
		mount -o remount,bind,ro "$ROOT/mnt"
	fi
	if [ -n "$STAND_INS" ]; then
		mount --bind "$STAND_INS" "$ROOT/.stand-ins"
	fi
}

run_command() {
	# Signals are for COMMAND (same process group); wait for it, then copy out.
	trap ':' TERM INT
	set +e
	chroot "$ROOT" /usr/bin/env -u JAIL_SANDBOX_NS \
		PATH="/.stand-ins/jail:/.stand-ins:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		HOME=/root "$@"
	RC=$?
	set -e
}

stop_leftovers() {
	list=$ROOT/var/run/stand-in-daemons
	if [ -f "$list" ]; then
		while IFS= read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$list"
		rm -f "$list"
	fi
	# Real daemons the service stand-in started (tests that serve for real).
	list=$ROOT/var/run/stand-in-pidfiles
	if [ -f "$list" ]; then
		while IFS= read -r pidfile; do
			if [ -s "$ROOT$pidfile" ]; then
				kill "$(cat "$ROOT$pidfile")" 2>/dev/null || true
			fi
		done <"$list"
		rm -f "$list"
	fi
}

copy_out() {
	cp -R -P --preserve=mode,ownership,timestamps "$STAGE/up/." "$OUT/"
	# overlayfs whiteouts (character devices 0/0) mark deletions: drop them
	find "$OUT" -type c -exec rm -f {} +
	rmdir "$OUT/.stand-ins" 2>/dev/null || true
}

# The mounts vanish with the namespace; the (empty) mount point would not.
# shellcheck disable=SC2317 # run by the EXIT trap
remove_stage() {
	umount --recursive --lazy "$STAGE" 2>/dev/null || true
	rmdir "$STAGE" 2>/dev/null || true
}

make_stage
trap remove_stage EXIT
parse_args "$@"
shift $(($# - COMMAND_START))
make_fresh_dirs
mount_root
run_command "$@"
stop_leftovers
copy_out
exit "$RC"
