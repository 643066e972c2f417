// A real OpenSSH server for the remote-builder tests: Debian's sshd with its own
// config, host key, authorized_keys and a throwaway user key, in the foreground
// (-D) on a free 127.0.0.1 port, stopped when the test file ends. The "remote"
// side's PATH and environment come from sshd's SetEnv (the stand-ins); the
// client side gets an ssh_config file (POT_IMAGE_SSH_CONFIG) naming the key
// and a known_hosts file holding the server's host key.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { freePort } from './ports.js';
import { tempDir } from './tmp.js';

export const SSHD = '/usr/sbin/sshd';

/** Why real-sshd tests cannot run here, or undefined when they can. */
export function sshdMissing(): string | undefined {
  if (!existsSync(SSHD)) return 'openssh-server is not installed (sh scripts/install-test-tools.sh): the SSH builder was not proven against a real sshd';
  if (process.getuid?.() !== 0) return 'not root: sshd needs root to run sessions; the SSH builder was not proven against a real sshd';
  return undefined;
}

export interface Sshd {
  port: number;
  dir: string;
  /** The remote sessions' environment it was started with. */
  env: Record<string, string>;
  /** ssh_config for the client (POT_IMAGE_SSH_CONFIG). */
  clientConfig: string;
  /** `ssh://root@127.0.0.1:PORT` */
  url: string;
  /** sshd's own log. */
  log(): string;
  /** What the sessions brought to the builder: commands, environments, stdin bytes. */
  record(): Buffer;
  /** PIDs of sshd's per-connection processes (killing one drops that connection). */
  sessions(): number[];
  /** A known_hosts file with a different key for this address (a machine that is not the one we know). */
  wrongHostConfig(): string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pot-image-test', '-f', file]);
}

/** Start sshd; `env` becomes the remote sessions' environment (PATH included); `acceptEnv` names variables the client may send. */
export async function startSshd(env: Record<string, string>, acceptEnv = 'POT_STANDIN_*', samePort?: number, sameDir?: string): Promise<Sshd> {
  const sshd = await launchSshd(sameDir ?? tempDir('pot-image-sshd-'), env, acceptEnv, samePort, sameDir !== undefined);
  after(() => sshd.stop());
  return sshd;
}

/**
 * The same outside node:test (the benchmark): `dir` is the caller's, and so is stop().
 * `first`: sshd_config lines that come before ours (sshd keeps a keyword's first value).
 */
export async function launchSshd(dir: string, env: Record<string, string>, acceptEnv = 'POT_STANDIN_*', samePort?: number, again = false, record = true, first: string[] = []): Promise<Sshd> {
  // Again on the same port with the same keys: the builder is back after a reboot.
  const sameDir = again ? dir : undefined;
  mkdirSync(dir, { recursive: true });
  const port = samePort ?? await freePort();
  if (!sameDir) {
    keygen(join(dir, 'host_key'));
    keygen(join(dir, 'id'));
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation folder
  const setEnv = Object.entries(env).map(([k, v]) => `"${k}=${v}"`).join(' ');
  writeFileSync(join(dir, 'sshd_config'), [
    ...first,
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'AllowTcpForwarding yes',
    'MaxSessions 64',
    'MaxStartups 64',
    `AcceptEnv ${acceptEnv}`,
    `SetEnv ${setEnv} "SSH_RECORD=${join(dir, 'record')}"`,
    // Every session's command, environment and stdin are recorded (the "no secret crosses" check).
    ...(record ? [`ForceCommand ${join(dirname(fileURLToPath(import.meta.url)), 'ssh-record.sh')}`] : ['Subsystem sftp internal-sftp']),
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const clientConfig = join(dir, 'ssh_config');
  const client = (knownHosts: string) => [
    'Host 127.0.0.1',
    `  IdentityFile ${join(dir, 'id')}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  SendEnv POT_STANDIN_*',
    '  LogLevel ERROR',
    '',
  ].join('\n');
  writeFileSync(clientConfig, client(join(dir, 'known_hosts')));

  let logText = '';
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Ready when sshd says it listens (its own line, not a timer).
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      logText += c.toString();
      if (/Server listening on 127\.0\.0\.1 port/.test(logText)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sshd exited ${code}: ${logText}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const sessions = (): number[] => {
    try {
      return execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    for (const pid of sessions()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    child.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    dir,
    env,
    clientConfig,
    url: `ssh://root@127.0.0.1:${port}`,
    log: () => logText,
    record: () => (existsSync(join(dir, 'record')) ? readFileSync(join(dir, 'record')) : Buffer.alloc(0)),
    sessions,
    wrongHostConfig: () => {
      keygen(join(dir, 'other_host_key'));
      const other = readFileSync(join(dir, 'other_host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${other}\n`);
      const file = join(dir, 'wrong_ssh_config');
      writeFileSync(file, client(join(dir, 'wrong_known_hosts')));
      return file;
    },
    stop,
  };
}
