#!/bin/sh
# sshd's ForceCommand in the remote-builder tests: appends what each session
# brings to the builder (its command, its environment and every byte of its
# stdin) to $SSH_RECORD, then runs the command as sshd would have. The tests
# read the record to prove that no secret ever crosses the connection.
set -eu
{
	printf '=== command: %s\n' "${SSH_ORIGINAL_COMMAND:-}"
	env
	printf '=== stdin:\n'
} >>"$SSH_RECORD"
fifo=$(mktemp -u "${TMPDIR:-/tmp}/ssh-record.XXXXXX")
mkfifo "$fifo"
# stdin through tee into the command; an asynchronous list would get /dev/null, hence fd 3.
exec 3<&0
tee -a "$SSH_RECORD" <&3 >"$fifo" &
tee_pid=$!
exec 3<&-
set +e
sh -c "${SSH_ORIGINAL_COMMAND:-true}" <"$fifo"
status=$?
kill "$tee_pid" 2>/dev/null
rm -f "$fifo"
exit "$status"
