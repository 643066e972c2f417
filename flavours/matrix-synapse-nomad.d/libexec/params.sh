# shellcheck shell=sh disable=SC2034 # RENDER_ONLY etc. are read by cook
# cook's parameters (sourced by cook): where they come from, their defaults,
# and the checks that run before anything is started. Every problem found is
# collected so that one run reports all of them.

AUTHKEY_SOURCE=/root/importauthkey
# The Nomad job renders the secrets here (the driver mounts the task's secrets/
# folder at /secrets): read literally, so any character survives.
PARAMS_FILE=${COOK_PARAMS_FILE:-/secrets/matrix-synapse.env}
NL='
'
CR=$(printf '\r')
PARAM_NAMES="IP DOMAIN ALERTEMAIL ENABLEREGISTRATION MYSHAREDSECRET SMTPHOST SMTPPORT SMTPUSER SMTPPASS SMTPFROM LDAPSERVER LDAPPASSWORD LDAPDOMAIN NOSSL CONTROLUSER SSLEMAIL DBHOST DBPORT DBNAME DBUSER DBPASSWORD DBSSLMODE"
# Where each secret came from (logged by name, never by value).
FROM_MYSHAREDSECRET=""
FROM_SMTPPASS=""
FROM_LDAPPASSWORD=""
FROM_DBPASSWORD=""
# Set when the environment (the job's env, set-env) carried DBPASSWORD: refused.
DBPASSWORD_IN_ENV=false
PROBLEMS=""
PROBLEM_COUNT=0
RENDER_ONLY=false

HOST_RE='^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$'
OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
IPV4_RE="^($OCTET\\.){3}$OCTET\$"
IPV6_RE='^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$'
EMAIL_LOCAL_RE='^[^[:space:][:cntrl:]@<>]+$'

problem() {
	PROBLEMS="$PROBLEMS$NL  - $*"
	PROBLEM_COUNT=$((PROBLEM_COUNT + 1))
}

# Outside Nomad pot writes the job's environment to /tmp/environment.sh
# (inside Nomad it is already exported by /tmp/tinirc before cook starts).
load_environment_file() {
	if [ -f /tmp/environment.sh ]; then
		# shellcheck source=/dev/null
		. /tmp/environment.sh
		log "read parameters from /tmp/environment.sh"
	fi
}

# Unset and empty are the same: "not given".
default_params() {
	IP=${IP:-}
	DOMAIN=${DOMAIN:-}
	ALERTEMAIL=${ALERTEMAIL:-}
	ENABLEREGISTRATION=${ENABLEREGISTRATION:-}
	MYSHAREDSECRET=${MYSHAREDSECRET:-}
	SMTPHOST=${SMTPHOST:-}
	SMTPPORT=${SMTPPORT:-}
	SMTPUSER=${SMTPUSER:-}
	SMTPPASS=${SMTPPASS:-}
	SMTPFROM=${SMTPFROM:-}
	LDAPSERVER=${LDAPSERVER:-}
	LDAPPASSWORD=${LDAPPASSWORD:-}
	LDAPDOMAIN=${LDAPDOMAIN:-}
	NOSSL=${NOSSL:-}
	CONTROLUSER=${CONTROLUSER:-}
	SSLEMAIL=${SSLEMAIL:-}
	DBHOST=${DBHOST:-}
	DBPORT=${DBPORT:-}
	DBNAME=${DBNAME:-}
	DBUSER=${DBUSER:-}
	DBPASSWORD=${DBPASSWORD:-}
	DBSSLMODE=${DBSSLMODE:-}
	[ -z "$MYSHAREDSECRET" ] || FROM_MYSHAREDSECRET=environment
	[ -z "$SMTPPASS" ] || FROM_SMTPPASS=environment
	[ -z "$LDAPPASSWORD" ] || FROM_LDAPPASSWORD=environment
	if [ -n "$DBPASSWORD" ]; then
		FROM_DBPASSWORD=environment
		DBPASSWORD_IN_ENV=true
	fi
}

# NAME VALUE SOURCE: one parameter from the parameter file or a flag. NAME has
# been checked against PARAM_NAMES; VALUE is assigned as it is, never re-parsed.
set_param() {
	case $1 in
	IP) IP=$2 ;;
	DOMAIN) DOMAIN=$2 ;;
	ALERTEMAIL) ALERTEMAIL=$2 ;;
	ENABLEREGISTRATION) ENABLEREGISTRATION=$2 ;;
	MYSHAREDSECRET) MYSHAREDSECRET=$2 FROM_MYSHAREDSECRET=$3 ;;
	SMTPHOST) SMTPHOST=$2 ;;
	SMTPPORT) SMTPPORT=$2 ;;
	SMTPUSER) SMTPUSER=$2 ;;
	SMTPPASS) SMTPPASS=$2 FROM_SMTPPASS=$3 ;;
	SMTPFROM) SMTPFROM=$2 ;;
	LDAPSERVER) LDAPSERVER=$2 ;;
	LDAPPASSWORD) LDAPPASSWORD=$2 FROM_LDAPPASSWORD=$3 ;;
	LDAPDOMAIN) LDAPDOMAIN=$2 ;;
	NOSSL) NOSSL=$2 ;;
	CONTROLUSER) CONTROLUSER=$2 ;;
	SSLEMAIL) SSLEMAIL=$2 ;;
	DBHOST) DBHOST=$2 ;;
	DBPORT) DBPORT=$2 ;;
	DBNAME) DBNAME=$2 ;;
	DBUSER) DBUSER=$2 ;;
	DBPASSWORD) DBPASSWORD=$2 FROM_DBPASSWORD=$3 ;;
	DBSSLMODE) DBSSLMODE=$2 ;;
	esac
}

is_param_name() {
	case " $PARAM_NAMES " in *" $1 "*) return 0 ;; esac
	return 1
}

# The parameter file: KEY=VALUE per line, the value taken literally up to the
# end of the line (no quotes, no expansion); blank lines and lines starting
# with # are skipped. It wins over the environment, whose values pot's set-env
# may have split or expanded on the way. An empty value counts as not given.
# Problems name the line, never its content (it may hold a secret).
load_params_file() {
	[ -e "$PARAMS_FILE" ] || return 0
	if [ ! -f "$PARAMS_FILE" ] || [ ! -r "$PARAMS_FILE" ]; then
		problem "parameter file $PARAMS_FILE is not a readable file; check what the job's template renders there"
		return 0
	fi
	lineno=0
	seen=" "
	taken=""
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		line=${line%"$CR"}
		case $line in '#'*) continue ;; esac
		[ -n "$(printf '%s' "$line" | tr -d ' \t')" ] || continue
		key=${line%%=*}
		if [ "$key" = "$line" ] || ! matches "$key" '^[A-Za-z_][A-Za-z0-9_]*$'; then
			problem "$PARAMS_FILE line $lineno: expected KEY=VALUE (a parameter name, = and the value, no spaces before =)"
			continue
		fi
		if ! is_param_name "$key"; then
			problem "$PARAMS_FILE line $lineno: unknown parameter $key; the image takes $PARAM_NAMES"
			continue
		fi
		case $seen in *" $key "*)
			problem "$PARAMS_FILE line $lineno: $key is given twice; keep one line"
			continue
			;;
		esac
		seen="$seen$key "
		value=${line#*=}
		[ -n "$value" ] || continue
		# What Nomad's template prints for a key the Nomad Variable does not have.
		if [ "$value" = "<no value>" ]; then
			problem "$PARAMS_FILE line $lineno: $key is missing from the Nomad Variable (the job's template wrote <no value>); add it with nomad var put"
			continue
		fi
		set_param "$key" "$value" "parameter file"
		taken="$taken $key"
	done <"$PARAMS_FILE"
	log "read parameters from $PARAMS_FILE:${taken:- none}"
}

# Names only: which source each secret came from.
log_secret_sources() {
	for pair in "MYSHAREDSECRET $FROM_MYSHAREDSECRET" "SMTPPASS $FROM_SMTPPASS" "LDAPPASSWORD $FROM_LDAPPASSWORD" "DBPASSWORD $FROM_DBPASSWORD"; do
		[ "${pair#* }" = "" ] || log "${pair%% *} from the ${pair#* }"
	done
}

# Flags win over the parameter file and the environment. -r (render only) is for previews.
# DBPASSWORD has no flag: it comes only from the parameter file (the Nomad Variable).
parse_flags() {
	OPTIND=1
	while getopts ":i:d:a:e:s:h:p:u:c:f:l:b:t:n:x:y:H:P:N:U:S:r" opt; do
		case $opt in
		i) IP=$OPTARG ;;
		d) DOMAIN=$OPTARG ;;
		a) ALERTEMAIL=$OPTARG ;;
		e) ENABLEREGISTRATION=$OPTARG ;;
		s) MYSHAREDSECRET=$OPTARG FROM_MYSHAREDSECRET=flag ;;
		h) SMTPHOST=$OPTARG ;;
		p) SMTPPORT=$OPTARG ;;
		u) SMTPUSER=$OPTARG ;;
		c) SMTPPASS=$OPTARG FROM_SMTPPASS=flag ;;
		f) SMTPFROM=$OPTARG ;;
		l) LDAPSERVER=$OPTARG ;;
		b) LDAPPASSWORD=$OPTARG FROM_LDAPPASSWORD=flag ;;
		t) LDAPDOMAIN=$OPTARG ;;
		n) NOSSL=$OPTARG ;;
		x) CONTROLUSER=$OPTARG ;;
		y) SSLEMAIL=$OPTARG ;;
		H) DBHOST=$OPTARG ;;
		P) DBPORT=$OPTARG ;;
		N) DBNAME=$OPTARG ;;
		U) DBUSER=$OPTARG ;;
		S) DBSSLMODE=$OPTARG ;;
		r) RENDER_ONLY=true ;;
		:) problem "flag -$OPTARG needs a value" ;;
		*) problem "unknown flag -$OPTARG (see the image README for the flags)" ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $# -gt 0 ]; then
		problem "unexpected argument(s) after the flags ($# given); every value needs its flag"
	fi
}

one_line() {
	case $1 in *"$NL"*) return 1 ;; esac
}

matches() {
	one_line "$1" && printf '%s\n' "$1" | LC_ALL=C grep -Eq "$2"
}

is_host() {
	[ "${#1}" -le 253 ] && matches "$1" "$HOST_RE"
}

is_ip() {
	matches "$1" "$IPV4_RE" || matches "$1" "$IPV6_RE"
}

is_email() {
	case $1 in *@*) ;; *) return 1 ;; esac
	local_part=${1%@*}
	domain_part=${1##*@}
	matches "$local_part" "$EMAIL_LOCAL_RE" && is_host "$domain_part"
}

# NAME FLAG DEFAULT: sets NAME's variable to true or false.
normalise_bool() {
	value=$2
	if [ -z "$value" ]; then
		REPLY=$4
		return 0
	fi
	case $(printf '%s' "$value" | tr '[:upper:]' '[:lower:]') in
	true | yes | 1) REPLY=true ;;
	false | no | 0) REPLY=false ;;
	*)
		problem "$1 ($3): '$value' is not a boolean; use true or false (yes/no/1/0 also work)"
		REPLY=$4
		;;
	esac
}

check_booleans() {
	normalise_bool ENABLEREGISTRATION "$ENABLEREGISTRATION" -e false
	ENABLEREGISTRATION=$REPLY
	normalise_bool NOSSL "$NOSSL" -n false
	NOSSL=$REPLY
	normalise_bool CONTROLUSER "$CONTROLUSER" -x false
	CONTROLUSER=$REPLY
}

check_required() {
	if [ -z "$DOMAIN" ]; then
		problem "DOMAIN (-d) is required: the Matrix server name, e.g. example.com"
	elif ! is_host "$DOMAIN"; then
		problem "DOMAIN (-d): '$DOMAIN' is not a plain host name; give only the server name, e.g. example.com (no scheme, path, port or spaces)"
	fi
	if [ -z "$ALERTEMAIL" ]; then
		problem "ALERTEMAIL (-a) is required: the administrator's contact email"
	elif ! is_email "$ALERTEMAIL"; then
		problem "ALERTEMAIL (-a): '$ALERTEMAIL' does not look like an email address (name@example.com)"
	fi
	if [ -z "$MYSHAREDSECRET" ]; then
		problem "MYSHAREDSECRET (-s) is required: the registration shared secret (at least 16 characters, e.g. from 'openssl rand -hex 32')"
	elif [ "${#MYSHAREDSECRET}" -lt 16 ]; then
		problem "MYSHAREDSECRET (-s) is too short (${#MYSHAREDSECRET} characters); use at least 16, e.g. from 'openssl rand -hex 32'"
	fi
}

check_ip() {
	if [ -n "$IP" ] && ! is_ip "$IP"; then
		problem "IP (-i): '$IP' is not an IPv4 or IPv6 address"
	fi
}

check_mail() {
	if [ -z "$SMTPPORT" ]; then
		SMTPPORT=25
	elif ! matches "$SMTPPORT" '^[0-9]{1,5}$' || [ "$SMTPPORT" -lt 1 ] || [ "$SMTPPORT" -gt 65535 ]; then
		problem "SMTPPORT (-p): '$SMTPPORT' is not a port number (1-65535)"
	fi
	if [ -z "$SMTPHOST" ]; then
		[ -z "$SMTPUSER" ] || problem "SMTPUSER (-u) is set but SMTPHOST (-h) is not; set SMTPHOST to send mail or drop SMTPUSER"
		[ -z "$SMTPPASS" ] || problem "SMTPPASS (-c) is set but SMTPHOST (-h) is not; set SMTPHOST to send mail or drop SMTPPASS"
		[ -z "$SMTPFROM" ] || problem "SMTPFROM (-f) is set but SMTPHOST (-h) is not; set SMTPHOST to send mail or drop SMTPFROM"
		return 0
	fi
	if ! is_host "$SMTPHOST" && ! is_ip "$SMTPHOST"; then
		problem "SMTPHOST (-h): '$SMTPHOST' is not a host name or IP address"
	fi
	if [ -z "$SMTPFROM" ]; then
		problem "SMTPFROM (-f) is required when SMTPHOST is set: the sender address of Synapse's mail"
	elif ! is_email "$SMTPFROM"; then
		problem "SMTPFROM (-f): '$SMTPFROM' does not look like an email address (name@example.com)"
	fi
	if [ -n "$SMTPUSER" ] && [ -z "$SMTPPASS" ]; then
		problem "SMTPUSER (-u) is set without SMTPPASS (-c); give both or neither"
	elif [ -z "$SMTPUSER" ] && [ -n "$SMTPPASS" ]; then
		problem "SMTPPASS (-c) is set without SMTPUSER (-u); give both or neither"
	fi
	if ! one_line "$SMTPUSER"; then
		problem "SMTPUSER (-u) must be a single line"
	fi
}

check_ldap() {
	if [ -z "$LDAPSERVER" ]; then
		[ -z "$LDAPPASSWORD" ] || problem "LDAPPASSWORD (-b) is set but LDAPSERVER (-l) is not; set LDAPSERVER to use LDAP or drop LDAPPASSWORD"
		[ -z "$LDAPDOMAIN" ] || problem "LDAPDOMAIN (-t) is set but LDAPSERVER (-l) is not; set LDAPSERVER to use LDAP or drop LDAPDOMAIN"
		return 0
	fi
	if ! is_host "$LDAPSERVER" && ! is_ip "$LDAPSERVER"; then
		problem "LDAPSERVER (-l): '$LDAPSERVER' is not a host name or IP address"
	fi
	[ -n "$LDAPPASSWORD" ] || problem "LDAPPASSWORD (-b) is required when LDAPSERVER is set: the password of cn=Manager"
	if [ -z "$LDAPDOMAIN" ]; then
		problem "LDAPDOMAIN (-t) is required when LDAPSERVER is set: the directory's domain, e.g. example.com for dc=example,dc=com"
	elif ! is_host "$LDAPDOMAIN"; then
		problem "LDAPDOMAIN (-t): '$LDAPDOMAIN' is not a domain name like example.com"
	fi
}

check_tls() {
	if [ "$NOSSL" = true ]; then
		return 0
	fi
	if [ -z "$SSLEMAIL" ]; then
		problem "SSLEMAIL (-y) is required unless NOSSL=true: the ACME (ZeroSSL) account email"
	elif ! is_email "$SSLEMAIL"; then
		problem "SSLEMAIL (-y): '$SSLEMAIL' does not look like an email address (name@example.com)"
	fi
}

check_control_user() {
	if [ "$CONTROLUSER" = true ] && [ ! -s "$AUTHKEY_SOURCE" ]; then
		problem "CONTROLUSER=true needs the control user's public key in $AUTHKEY_SOURCE (copy it in with the job's 'copy')"
	fi
}

check_storage() {
	if [ ! -d "$DATA" ]; then
		problem "persistent storage $DATA is missing; mount the data folder there (job: mount = [\"/mnt/matrixdata:/mnt\"])"
		return 0
	fi
	if ! probe=$(mktemp "$DATA/.cook-write-test.XXXXXX" 2>/dev/null); then
		problem "persistent storage $DATA is not writable; check the mounted folder's permissions"
		return 0
	fi
	rm -f "$probe"
	if [ -r "$SYNAPSE_DATA/server_name" ] && [ -n "$DOMAIN" ]; then
		IFS= read -r previous <"$SYNAPSE_DATA/server_name" || true
		if [ "$previous" != "$DOMAIN" ]; then
			problem "DOMAIN (-d) is '$DOMAIN' but the data in $DATA belongs to '$previous'; a Matrix server name cannot change (use the old DOMAIN or an empty data folder)"
		fi
	fi
}

is_loopback() {
	case $1 in
	localhost | ::1 | 127.*) return 0 ;;
	esac
	return 1
}

# A PostgreSQL name (database, role): one line, at most 63 bytes (longer
# names are cut by the server), no NUL.
check_pg_name() {
	if ! one_line "$2"; then
		problem "$1 must be a single line"
	elif [ "$(printf '%s' "$2" | wc -c)" -gt 63 ]; then
		problem "$1: '$2' is longer than PostgreSQL's 63-byte limit for names"
	fi
}

# PostgreSQL (DBHOST set) or sqlite (the default). The password is taken only
# from the parameter file: env would pass it through the driver's set-env shell
# line on the Nomad client (and its DEBUG log), and a flag shows in ps.
check_database() {
	if [ "$DBPASSWORD_IN_ENV" = true ]; then
		problem "DBPASSWORD is in the environment (the job's env); it is taken only from the parameter file $PARAMS_FILE: remove it from env and store it in the Nomad Variable (nomad var put nomad/jobs/matrix-synapse DBPASSWORD=...)"
	fi
	if [ -z "$DBHOST" ]; then
		for pair in "DBPORT -P" "DBNAME -N" "DBUSER -U" "DBSSLMODE -S" "DBPASSWORD -"; do
			name=${pair% *}
			case $name in
			DBPORT) value=$DBPORT ;;
			DBNAME) value=$DBNAME ;;
			DBUSER) value=$DBUSER ;;
			DBSSLMODE) value=$DBSSLMODE ;;
			*) value=$DBPASSWORD ;;
			esac
			[ -n "$value" ] || continue
			# Already reported above.
			[ "$name" = DBPASSWORD ] && [ "$DBPASSWORD_IN_ENV" = true ] && continue
			problem "$name is set but DBHOST (-H) is not; set DBHOST to use PostgreSQL or drop $name"
		done
		if [ -e "$DB_MOVED_MARKER" ]; then
			problem "this server's data moved to PostgreSQL ($DB_MOVED_MARKER says where); set DBHOST and the other DB* parameters again, or roll back to sqlite as the image README says (rename the kept homeserver.db.moved-* back and remove the marker)"
		fi
		return 0
	fi
	if ! is_host "$DBHOST" && ! is_ip "$DBHOST"; then
		problem "DBHOST (-H): '$DBHOST' is not a host name or IP address"
	fi
	if [ -z "$DBPORT" ]; then
		DBPORT=5432
	elif ! matches "$DBPORT" '^[0-9]{1,5}$' || [ "$DBPORT" -lt 1 ] || [ "$DBPORT" -gt 65535 ]; then
		problem "DBPORT (-P): '$DBPORT' is not a port number (1-65535)"
	fi
	DBNAME=${DBNAME:-synapse}
	DBUSER=${DBUSER:-synapse}
	check_pg_name "DBNAME (-N)" "$DBNAME"
	check_pg_name "DBUSER (-U)" "$DBUSER"
	if [ -z "$DBPASSWORD" ]; then
		problem "DBPASSWORD is required when DBHOST is set: the password of PostgreSQL role '$DBUSER'; store it in the Nomad Variable (nomad var put nomad/jobs/matrix-synapse DBPASSWORD=...), which the job renders into $PARAMS_FILE"
	fi
	if [ -z "$DBSSLMODE" ]; then
		# TLS is pointless (and rarely set up) on the loopback; elsewhere verify the server.
		if is_loopback "$DBHOST"; then DBSSLMODE=disable; else DBSSLMODE=verify-full; fi
	else
		case $DBSSLMODE in
		disable | require | verify-full) ;;
		*) problem "DBSSLMODE (-S): '$DBSSLMODE' is not one of disable, require, verify-full" ;;
		esac
	fi
}

# The port's rc script refuses to start Synapse while its config contains
# CHANGEME (the sample's placeholder): catch that here, by name.
check_placeholders() {
	for pair in "DOMAIN -d" "ALERTEMAIL -a" "MYSHAREDSECRET -s" "SMTPHOST -h" "SMTPUSER -u" \
		"SMTPPASS -c" "SMTPFROM -f" "LDAPSERVER -l" "LDAPPASSWORD -b" "LDAPDOMAIN -t" "SSLEMAIL -y" \
		"DBHOST -H" "DBNAME -N" "DBUSER -U" "DBPASSWORD -"; do
		name=${pair% *}
		case $name in
		DOMAIN) value=$DOMAIN ;;
		ALERTEMAIL) value=$ALERTEMAIL ;;
		MYSHAREDSECRET) value=$MYSHAREDSECRET ;;
		SMTPHOST) value=$SMTPHOST ;;
		SMTPUSER) value=$SMTPUSER ;;
		SMTPPASS) value=$SMTPPASS ;;
		SMTPFROM) value=$SMTPFROM ;;
		LDAPSERVER) value=$LDAPSERVER ;;
		LDAPPASSWORD) value=$LDAPPASSWORD ;;
		LDAPDOMAIN) value=$LDAPDOMAIN ;;
		DBHOST) value=$DBHOST ;;
		DBNAME) value=$DBNAME ;;
		DBUSER) value=$DBUSER ;;
		DBPASSWORD) value=$DBPASSWORD ;;
		*) value=$SSLEMAIL ;;
		esac
		case $value in
		*CHANGEME*)
			label="$name (${pair#* })"
			[ "${pair#* }" != - ] || label=$name
			problem "$label still contains the placeholder CHANGEME; put the real value in the job"
			;;
		esac
	done
}

validate_params() {
	check_placeholders
	check_booleans
	check_required
	check_ip
	check_mail
	check_ldap
	check_tls
	check_control_user
	check_storage
	check_database
}

report_problems_and_exit() {
	error "cannot start: $PROBLEM_COUNT problem(s) with the parameters:$PROBLEMS"
	error "nothing was started; fix the job's env, the parameter file $PARAMS_FILE (the job's template) or the flags, and start again"
	exit 2
}

export_params() {
	export IP DOMAIN ALERTEMAIL ENABLEREGISTRATION MYSHAREDSECRET SMTPHOST SMTPPORT \
		SMTPUSER SMTPPASS SMTPFROM LDAPSERVER LDAPPASSWORD LDAPDOMAIN NOSSL CONTROLUSER SSLEMAIL \
		DBHOST DBPORT DBNAME DBUSER DBPASSWORD DBSSLMODE
}
