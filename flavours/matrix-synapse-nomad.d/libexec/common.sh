# shellcheck shell=sh disable=SC2034 # the variables are for the scripts that source this file
# Shared by cook and its helpers (sourced, never run): where things live and
# how cook talks. Messages go to stdout/stderr for Nomad and, with a time
# stamp, to /var/log/cook.log. No message ever carries a secret's value.

COOK_LOG=/var/log/cook.log
LIBEXEC=/usr/local/libexec/matrix-synapse-nomad
SHARE=/usr/local/share/matrix-synapse-nomad
SEASONED=/usr/local/etc/pot-is-seasoned

SYNAPSE_CONF_DIR=/usr/local/etc/matrix-synapse
HOMESERVER_YAML=$SYNAPSE_CONF_DIR/homeserver.yaml
SYNAPSE_LOG=/var/log/matrix-synapse/homeserver.log
NGINX_DIR=/usr/local/etc/nginx
NGINX_SITE=$NGINX_DIR/matrix-site.conf
NGINX_ERROR_LOG=/var/log/nginx/error.log
ACME_WEBROOT=/usr/local/www/acme
WELL_KNOWN_ROOT=/usr/local/www/matrix-well-known

# Persistent storage: the job mounts the host's data folder here.
DATA=/mnt
SYNAPSE_DATA=$DATA/synapse
SECRETS_DIR=$SYNAPSE_DATA/secrets
SQLITE_DB=$SYNAPSE_DATA/homeserver.db
# Written once the sqlite database has moved to PostgreSQL (what, where, when).
DB_MOVED_MARKER=$SYNAPSE_DATA/moved-to-postgresql
# A private CA for DBSSLMODE=verify-full (else the system's trust store).
DB_CA_FILE=$DATA/postgresql/root.crt
SIGNING_KEY=$SYNAPSE_DATA/keys/signing.key
ACME_HOME=$DATA/acme
CERTS_DIR=$DATA/certs
CONTROL_HOME=$DATA/control
SSH_KEYS_DIR=$DATA/ssh-host-keys

# Keep whatever PATH pot gave us first, then the usual FreeBSD places.
PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

_to_log() {
	printf '%s %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" >>"$COOK_LOG" 2>/dev/null || true
}

# The log line first: whoever reads a message on stdout finds it in the log.
log() {
	_to_log "$*"
	printf 'cook: %s\n' "$*"
}

warn() {
	_to_log "WARNING: $*"
	printf 'cook: WARNING: %s\n' "$*" >&2
}

error() {
	_to_log "ERROR: $*"
	printf 'cook: ERROR: %s\n' "$*" >&2
}

# The last lines of a (log) file, on stdout and in cook.log.
show_tail() {
	if [ -r "$1" ]; then
		log "last lines of $1:"
		tail -n "${2:-20}" "$1" | while IFS= read -r line; do
			log "  | $line"
		done
	else
		log "($1 does not exist)"
	fi
}

# Run a tool with its output going to cook.log only.
run_logged() {
	"$@" >>"$COOK_LOG" 2>&1
}

# The Python that runs Synapse: the interpreter named in the shebang of the
# package's own scripts (py311-, py39-... whatever the release has), else a
# python3 on PATH, else any /usr/local/bin/python3.N.
synapse_python() {
	for script in /usr/local/bin/synctl /usr/local/bin/register_new_matrix_user; do
		[ -r "$script" ] || continue
		IFS= read -r first <"$script" || continue
		case $first in
		'#!/'*)
			interp=${first#??}
			interp=${interp%% *}
			if [ -x "$interp" ]; then
				printf '%s\n' "$interp"
				return 0
			fi
			;;
		esac
	done
	if command -v python3 >/dev/null 2>&1; then
		command -v python3
		return 0
	fi
	for interp in /usr/local/bin/python3.[0-9]*; do
		case $interp in *-config) continue ;; esac
		if [ -x "$interp" ]; then
			printf '%s\n' "$interp"
			return 0
		fi
	done
	return 1
}

ACME_LOG=/var/log/cook-acme.log
TLS_PARAMS=/usr/local/etc/matrix-synapse-nomad/tls-params
