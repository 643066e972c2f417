# Shared by the in-jail stand-ins (sourced, never run): append one line per
# call to the record the tests read. Only for test sandboxes; never shipped.
# shellcheck shell=sh

standin_record() {
	printf '%s\n' "$*" >>"${STANDIN_LOG:-/var/log/stand-ins.log}"
}
