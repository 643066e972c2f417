#!/bin/sh
# Test stand-in for acme.sh (security/acme.sh) inside the test sandbox.
# Follows the commands cook uses: --register-account, --issue (webroot mode),
# --install-cert (copies key and full chain, runs --reloadcmd) and --cron.
# Certificates are self-signed by openssl and valid for 90 days.
# Test knobs: STANDIN_ACME_FAIL=1 makes --issue fail like a failed validation.
set -eu
# shellcheck source=/dev/null
. "$(dirname "$0")/_record.sh"
standin_record "acme.sh $*"

action=
domain=
config_home=${HOME:-/root}/.acme.sh
webroot=
server=
email=
key_file=
fullchain_file=
reloadcmd=
while [ $# -gt 0 ]; do
	case $1 in
	--register-account | --issue | --install-cert | --cron | --renew) action=$1 ;;
	-d | --domain) domain=$2; shift ;;
	--config-home) config_home=$2; shift ;;
	-w | --webroot) webroot=$2; shift ;;
	--server) server=$2; shift ;;
	-m | --email | --accountemail) email=$2; shift ;;
	--key-file) key_file=$2; shift ;;
	--fullchain-file) fullchain_file=$2; shift ;;
	--reloadcmd) reloadcmd=$2; shift ;;
	--home | --cert-home | --keylength | -k | --log) shift ;;
	--force | --debug | --staging | --no-color) ;;
	*) echo "stand-in acme.sh: unknown argument $1" >&2; exit 64 ;;
	esac
	shift
done
mkdir -p "$config_home"

case $action in
--register-account)
	[ -n "$email" ] || { echo "[stand-in] email is required for $server" >&2; exit 1; }
	printf "ACCOUNT_EMAIL='%s'\n" "$email" >"$config_home/account.conf"
	echo "[stand-in] Registered account at $server"
	;;
--issue)
	if [ -z "$webroot" ] || [ ! -d "$webroot" ]; then
		echo "[stand-in] webroot missing: $webroot" >&2
		exit 1
	fi
	if [ "${STANDIN_ACME_FAIL:-}" = 1 ]; then
		echo "[stand-in] $domain: Verify error: Invalid response from http://$domain/.well-known/acme-challenge/x: 404" >&2
		exit 1
	fi
	d="$config_home/${domain}_ecc"
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
		-subj "/CN=$domain" -keyout "$d/$domain.key" -out "$d/fullchain.cer" >/dev/null 2>&1
	echo "[stand-in] Cert success for $domain"
	;;
--install-cert)
	d="$config_home/${domain}_ecc"
	[ -f "$d/fullchain.cer" ] || { echo "[stand-in] no certificate for $domain" >&2; exit 1; }
	cp "$d/$domain.key" "$key_file"
	cp "$d/fullchain.cer" "$fullchain_file"
	printf "Le_ReloadCmd='%s'\n" "$reloadcmd" >"$d/$domain.conf"
	if [ -n "$reloadcmd" ]; then sh -c "$reloadcmd"; fi
	;;
--cron | --renew)
	echo "[stand-in] nothing to renew"
	;;
*)
	echo "stand-in acme.sh: no action given" >&2
	exit 64
	;;
esac
