#!/bin/sh
# fbsd-update-eol: the project's replacement for pot's stock fbsd-update
# flavour, used only for a release built with an end-of-life allowance
# (--allow-eol or freebsd.allow_eol). pot runs it in the jail as
# `/tmp/fbsd-update-eol.sh POTNAME`.
#
# Why: freebsd-update(8) downloads the patches and writes its install manifest
# before it checks the end of life (fetch_warn_eol), and then `fetch` exits 1,
# so the stock `freebsd-update fetch install` stops before `install` and pot
# rolls the whole create back. Here `fetch` may fail for that one reason only;
# `install` then applies what was fetched, and the image records, loudly, that
# its release no longer gets security fixes.
set -eu

SHARE=/usr/local/share/matrix-synapse-nomad
NOTICE=$SHARE/end-of-life

release=$(freebsd-version -u)
export PAGER=/bin/cat

say() { printf '%s\n' "fbsd-update-eol: $*"; }

out=$(mktemp /tmp/fbsd-update-eol.XXXXXX)
trap 'rm -f "$out"' EXIT

# --currently-running: in a jail, uname -r names the host's kernel, not this userland.
rc=0
freebsd-update --not-running-from-cron --currently-running "$release" fetch >"$out" 2>&1 || rc=$?
cat "$out"
eol=no
if [ "$rc" -ne 0 ]; then
	if grep -q 'HAS PASSED ITS END-OF-LIFE DATE' "$out"; then
		eol=yes
	else
		say "freebsd-update fetch failed (exit $rc) for another reason than the end of life; see above" >&2
		exit 1
	fi
fi

rc=0
freebsd-update --not-running-from-cron --currently-running "$release" install >"$out" 2>&1 || rc=$?
cat "$out"
if [ "$rc" -ne 0 ] && ! grep -q 'No updates are available to install' "$out"; then
	say "freebsd-update install failed (exit $rc); see above" >&2
	exit 1
fi

patched=$(freebsd-version -u)
mkdir -p "$SHARE"
if [ "$eol" = yes ]; then
	printf 'FreeBSD %s is past its end of life: no security fixes after that date. Built at %s with what freebsd-update still had.\n' \
		"$patched" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$NOTICE"
	say "WARNING: FreeBSD $patched IS PAST ITS END OF LIFE; recorded in $NOTICE"
else
	rm -f "$NOTICE"
	say "FreeBSD $patched (freebsd-update did not report an end of life)"
fi
