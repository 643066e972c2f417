// The control user over SSH (CONTROLUSER=true): the builder logs in as
// `control` with the throwaway key it copied in, and a password login must be
// refused: the server may offer publickey only. Real ssh(1) through the runner.
import { SmokeCheckError } from './synapse-checks.js';
import type { CommandRunner } from '../runner/types.js';

export const CONTROL_USER = 'control';

/** ssh-keygen for a throwaway ed25519 key without passphrase (KEY and KEY.pub). */
export function keygenArgs(keyFile: string): string[] {
  return ['-q', '-t', 'ed25519', '-N', '', '-C', 'pot-image-smoke-test', '-f', keyFile];
}

/** HOST and PORT of `host:port` / `[v6]:port`, or the jail address and 22. */
export function sshTarget(override: string | undefined, ip: string | undefined): { host: string; port: string } {
  if (override) {
    const at = override.lastIndexOf(':');
    return { host: override.slice(0, at).replace(/^\[|\]$/g, ''), port: override.slice(at + 1) };
  }
  return { host: ip ?? '127.0.0.1', port: '22' };
}

const COMMON = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'];

/** Log in with the key and run `id -un`. */
export function keyLoginArgs(keyFile: string, host: string, port: string): string[] {
  return [...COMMON, '-o', 'IdentitiesOnly=yes', '-o', 'PreferredAuthentications=publickey', '-i', keyFile, '-p', port, `${CONTROL_USER}@${host}`, 'id', '-un'];
}

/** Ask for password and keyboard-interactive only: the server must not offer either. */
export function passwordLoginArgs(host: string, port: string): string[] {
  return [...COMMON, '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive', '-p', port, `${CONTROL_USER}@${host}`, 'true'];
}

/** The methods in ssh's "Permission denied (publickey,password)." line. */
export function offeredMethods(stderr: string): string[] | undefined {
  const m = /Permission denied \(([^)]*)\)/.exec(stderr);
  return m ? m[1]!.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

/** What the login showed, or undefined when the runner only planned it (--dry-run). */
export async function checkKeyLogin(runner: CommandRunner, keyFile: string, host: string, port: string, timeoutMs: number): Promise<string | undefined> {
  const check = 'control user key login';
  const r = await runner.run('ssh', keyLoginArgs(keyFile, host, port), { allowFailure: true, timeoutMs, purpose: 'log in as the control user with the throwaway key' });
  if (r.planned) return undefined;
  const who = r.stdout.trim();
  if (r.exitCode !== 0 || who !== CONTROL_USER) {
    const why = r.stderr.trim().split('\n').pop() || `ssh exited ${r.exitCode}`;
    throw new SmokeCheckError(check, `ssh ${CONTROL_USER}@${host} -p ${port} with the key copied to /root/importauthkey failed: ${why}`);
  }
  return `logged in as ${who} on ${host}:${port} with the throwaway key`;
}

/** What sshd offered, or undefined when the runner only planned it (--dry-run). */
export async function checkPasswordRefused(runner: CommandRunner, host: string, port: string, timeoutMs: number): Promise<string | undefined> {
  const check = 'control user password login refused';
  const r = await runner.run('ssh', passwordLoginArgs(host, port), { allowFailure: true, timeoutMs, purpose: 'try a password login as the control user' });
  if (r.planned) return undefined;
  const methods = offeredMethods(r.stderr);
  if (r.exitCode === 0) throw new SmokeCheckError(check, `ssh ${CONTROL_USER}@${host} got in without a key`);
  if (!methods) throw new SmokeCheckError(check, `ssh did not reach the authentication step: ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`);
  const weak = methods.filter((m) => m === 'password' || m === 'keyboard-interactive');
  if (weak.length) throw new SmokeCheckError(check, `sshd offers ${weak.join(' and ')} to ${CONTROL_USER}; it must offer publickey only`);
  return `sshd offers only ${methods.join(',')}; password and keyboard-interactive refused`;
}
