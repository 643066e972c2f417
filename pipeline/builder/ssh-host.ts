// A FreeBSD builder over SSH as a BuilderHost. Everything runs through one
// multiplexed OpenSSH connection of the system `ssh` client (so ~/.ssh/config,
// agents and jump hosts work), with BatchMode (never a password prompt) and
// strict host key checking. Each remote command runs under a small sh wrapper
// that stops the command's whole process group on the builder when the
// connection's stdin closes: when we stop the local ssh (Ctrl-C, timeout) or
// the connection drops, nothing keeps running over there.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { UserError, oneLine } from '../errors.js';
import type { ExecaRunner } from '../runner/execa-runner.js';
import { redact } from '../runner/redact.js';
import { secretEnvNames, withoutSecrets } from '../runner/secrets.js';
import { commandLine, shellQuote } from '../runner/shell-quote.js';
import type { RunOptions, RunResult } from '../runner/types.js';
import type { BuilderHost, FileStream, FilesStream } from './host.js';
import type { SshTarget } from './ssh-target.js';

const q = shellQuote;

/**
 * Run "$@" in the background with stdin from /dev/null; a watcher reads the
 * session's stdin (saved on fd 3: an asynchronous list gets /dev/null) and, at
 * its end, TERMs the session's process group (sshd made the session leader).
 * A normal end kills the watcher first. One line, so csh login shells take it too.
 */
export const REMOTE_WRAPPER = 'exec 3<&0; "$@" 3<&- & j=$!; { cat <&3 >/dev/null 2>&1; kill -TERM -"$(ps -o pgid= -p $$ | tr -d " ")" 2>/dev/null; } >/dev/null 2>&1 & w=$!; exec 3<&-; wait $j; s=$?; kill $w 2>/dev/null; [ $s -ne 255 ] || echo "pot-image: the command itself exited 255" >&2; exit $s';

/** What the wrapper says when the command's own status is 255 (ssh's own code for a lost connection). */
export const OWN_255 = 'pot-image: the command itself exited 255';

/**
 * Whether a wrapped command's 255 is its own (the wrapper said so on its last stderr line:
 * e.g. an `ssh` the smoke test runs on the builder, refused as it should be) and the stderr
 * without that line; otherwise the connection was lost.
 */
export function ownExit255(stderr: string): { own: boolean; stderr: string } {
  const lines = stderr.replace(/\n+$/, '').split('\n');
  if (lines[lines.length - 1] !== OWN_255) return { own: false, stderr };
  return { own: true, stderr: lines.slice(0, -1).join('\n') };
}

/**
 * ssh exits 255 when the connection failed, not the command (ssh(1)); its message may be
 * silenced (LogLevel QUIET/ERROR), so the code alone counts. A command killed on the
 * builder by a signal also ends so: then the builder is gone or stopping it, as with a drop.
 */
const LOST = 255;

export interface SshHostOptions {
  target: SshTarget;
  /** The local runner: every ssh process goes through it (build log, redaction, process groups). */
  runner: ExecaRunner;
  /** An ssh_config file for `ssh -F` (POT_IMAGE_SSH_CONFIG; CI writes one with the key and known_hosts). */
  configFile?: string;
  /** Seconds the multiplexing master stays after its last use. */
  persistSeconds?: number;
  /** Offer AES-GCM first when the cipher list is OpenSSH's default (see preferredCiphers); default true. */
  preferAesGcm?: boolean;
}

/** The cipher the connection offers first when nobody chose one (see preferredCiphers). */
export const AES_GCM = 'aes128-gcm@openssh.com';

/**
 * The `Ciphers` to ask for, or undefined to leave ssh's choice alone. OpenSSH offers
 * chacha20-poly1305 first; with AES instructions (x86-64, arm64's crypto extension) AES-GCM
 * costs about a third less CPU per byte on both ends (bench/bring-home.bench.ts: about 1.2
 * CPU-s per GiB less for sshd, 1.1 for ssh). Bringing an image home is CPU-bound on this side,
 * where ssh's decryption shares the cores with the Skein-1024 of the arriving bytes, so it is
 * kept: it makes the real transfer faster. (It lowers the bench's bring-home/scp ratio, as
 * scp over the same connection gains more; see README.) Only when `effective` (ssh -G) is
 * the default list (`defaults`, ssh -F /dev/null -G): a Ciphers line in the user's or the
 * system's ssh_config is a choice we keep. The default list follows, so a server without
 * AES-GCM still agrees on a cipher.
 */
export function preferredCiphers(effective: string | undefined, defaults: string | undefined): string | undefined {
  if (!effective || effective !== defaults) return undefined;
  const list = effective.split(',');
  if (!list.includes(AES_GCM) || list[0] === AES_GCM) return undefined;
  return [AES_GCM, ...list.filter((c) => c !== AES_GCM)].join(',');
}

/** The `ciphers` line of `ssh -G` output. */
function ciphersLine(text: string): string | undefined {
  return /^ciphers (\S+)$/m.exec(text)?.[1];
}

/** Why the first connection failed, as one line that says what to do. */
export function connectFailure(where: string, stderr: string): string {
  const last = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
  if (/No .* host key is known/i.test(stderr)) {
    const host = where.replace(/^[^@]*@/, '').replace(/:(\d+)$/, '');
    const port = /:(\d+)$/.exec(where)?.[1];
    return `the builder ${where} is not in known_hosts yet (a first connection; BatchMode never asks): get its key with ssh-keyscan${port ? ` -p ${port}` : ''} ${host}, compare the fingerprint (ssh-keygen -lf) with the one the builder's console shows (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add it to ~/.ssh/known_hosts`;
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key .* differs/i.test(stderr)) {
    return `refused the builder ${where}: its host key is not the one in known_hosts (Host key verification failed); check that it is the right machine, then fix known_hosts (ssh-keyscan, or ssh-keygen -R HOST)`;
  }
  if (/Permission denied/i.test(stderr)) {
    return `the builder ${where} refused the login (${last}); add your public key to its authorized_keys or load it into ssh-agent (no password prompts: BatchMode)`;
  }
  return `cannot connect to the builder ${where} over SSH (${last || 'ssh failed'}); check the address, that sshd runs there, and ssh -p PORT USER@HOST true`;
}

export class SshHost implements BuilderHost {
  readonly where: string;
  private readonly dir: string;
  private readonly socket: string;
  private readonly streams = new Set<ChildProcess>();
  /** What went wrong producing a stream's input (e.g. a flavour file unreadable while the tar is made). */
  private readonly inputErrors = new Map<ChildProcess, Error>();
  private connected = false;
  private lost: string | undefined;
  /** `-o Ciphers=…` when we choose (decided at connect). */
  private ciphers: string[] = [];

  constructor(private readonly options: SshHostOptions) {
    this.where = options.target.where;
    // A short path: the control socket's name must fit sun_path (~104 bytes).
    this.dir = mkdtempSync(join(tmpdir(), 'pot-image-ssh-'));
    this.socket = join(this.dir, 'control');
  }

  /** Options every ssh invocation shares (the master adds its own before them: ssh keeps the first value). */
  private common(): string[] {
    const t = this.options.target;
    return [
      ...(this.options.configFile ? ['-F', this.options.configFile] : []),
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `ControlPath=${this.socket}`,
      '-o', 'ServerAliveInterval=5',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'ConnectTimeout=20',
      ...this.ciphers,
      ...(t.port ? ['-p', String(t.port)] : []),
      ...(t.user ? ['-l', t.user] : []),
    ];
  }

  /** A client of the master; when the master is gone (it timed out, or the connection dropped) ssh connects anew. */
  private client(): string[] {
    return ['-o', 'ControlMaster=no', ...this.common(), '-T'];
  }

  /** Open the multiplexed connection: authenticates (or refuses the host key) before anything runs. */
  async connect(): Promise<void> {
    if (this.options.preferAesGcm !== false && process.arch !== 'ia32' && process.arch !== 'arm') {
      const config = this.options.configFile ? ['-F', this.options.configFile] : [];
      const [effective, defaults] = await Promise.all([sshConfig([...config, '-G', this.options.target.host]), sshConfig(['-F', '/dev/null', '-G', this.options.target.host])]);
      const ciphers = preferredCiphers(ciphersLine(effective), ciphersLine(defaults));
      this.options.runner.log(`\n# ciphers: ${ciphers ? `${ciphers} (AES-GCM first: cheaper per byte with AES instructions)` : 'as ssh_config says'}\n`);
      if (ciphers) this.ciphers = ['-o', `Ciphers=${ciphers}`];
    }
    const errFile = join(this.dir, 'master.err');
    const fd = openSync(errFile, 'w');
    const args = ['-M', '-N', '-f', '-o', 'ControlMaster=yes', '-o', `ControlPersist=${this.options.persistSeconds ?? 300}`, ...this.common(), this.options.target.host];
    this.options.runner.log(`\n$ ${commandLine('ssh', args)}\n`);
    // -f: ssh forks into the background once authenticated; its exit is the moment the connection is ready.
    const code = await new Promise<number>((resolve) => {
      const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', fd], env: withoutSecrets() });
      child.on('error', () => resolve(-1));
      child.on('exit', (c) => resolve(c ?? 255));
    });
    closeSync(fd);
    const stderr = readFileSync(errFile, 'utf8');
    this.options.runner.log(stderr);
    if (code === -1) throw new UserError(`'ssh' is not installed or not on PATH; install OpenSSH's client to build on ${this.where}`);
    if (code !== 0) throw new UserError(connectFailure(this.where, stderr));
    this.connected = true;
  }

  private shown(command: string, args: readonly string[]): string {
    return `[${this.where}] ${commandLine(command, args)}`;
  }

  /** The line the remote login shell runs: the wrapper around the command (with its env and folder). */
  private remoteLine(command: string, args: readonly string[], options: RunOptions, wrap: boolean): string {
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const argv = [...(env.length ? ['env', ...env] : []), command, ...args];
    const inner = options.cwd ? ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', options.cwd, ...argv] : argv;
    return wrap ? ['sh', '-c', REMOTE_WRAPPER, 'pot-image', ...inner].map(q).join(' ') : inner.map(q).join(' ');
  }

  private lostError(during: string, stderr: string): UserError {
    const line = stderr.trim().split('\n').filter(Boolean).pop() || 'ssh exited 255';
    this.lost ??= line;
    return new UserError(`lost the connection to the builder ${this.where} during '${during}' (${line}); what ran there was stopped; the cleanup and the next build's preflight name what is left`);
  }

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const display = this.shown(command, args);
    const wrap = options.input === undefined;
    const sshArgs = [...this.client(), this.options.target.host, '--', this.remoteLine(command, args, options, wrap)];
    const result = await this.options.runner.run('ssh', sshArgs, { ...options, env: undefined, cwd: undefined, display, allowFailure: true, dropEnv: secretEnvNames() });
    if (result.exitCode === LOST) {
      const own = wrap ? ownExit255(result.stderr) : { own: false, stderr: result.stderr };
      if (!own.own) throw this.lostError(commandLine(command, args), result.stderr);
      result.stderr = own.stderr;
    }
    const out = { ...result, command, args };
    if (out.exitCode !== 0 && !options.allowFailure) {
      const secrets = [...this.options.runner.secrets, ...(options.secrets ?? [])];
      const last = redact(result.stderr.trim().split('\n').pop() ?? '', secrets);
      const what = options.purpose ? `could not ${options.purpose}: ` : '';
      const log = this.options.runner.logFile ? `; see ${this.options.runner.logFile}` : '';
      throw new UserError(`${what}'${redact(display, secrets)}' exited ${out.exitCode}${last ? ` (${last})` : ''}${log}`);
    }
    return out;
  }

  /** A remote shell snippet: `sh -c SCRIPT sh ARGS…`. */
  private sh(script: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.run('sh', ['-c', script, 'sh', ...args], options);
  }

  abort(): void {
    this.options.runner.abort();
    for (const child of this.streams) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }
  }

  /** An ssh process whose stdout (a file's bytes) streams back; stdin from `input` when given. */
  private stream(command: string, args: string[], input?: Readable): ChildProcess {
    const line = this.remoteLine(command, args, {}, input === undefined);
    this.options.runner.log(`\n$ ${this.shown(command, args)}\n`);
    const child = spawn('ssh', [...this.client(), this.options.target.host, '--', line], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: withoutSecrets(),
    });
    this.streams.add(child);
    child.on('close', () => this.streams.delete(child));
    if (input) {
      // A remote end that stops reading (tar failed, /tmp full, a drop) makes our writes fail with
      // EPIPE: not a crash, ssh's exit status says what happened (finished()).
      child.stdin!.on('error', () => undefined);
      input.on('error', (error) => {
        this.inputErrors.set(child, error);
        child.stdin!.destroy();
      });
      input.pipe(child.stdin!);
    }
    return child;
  }

  private finished(child: ChildProcess, what: string): Promise<void> {
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    return new Promise((resolve, reject) => {
      child.on('error', (e) => reject(new UserError(`ssh failed during '${what}': ${oneLine(e)}`)));
      child.on('close', (code) => {
        this.options.runner.log(stderr + `# exit ${code}\n`);
        const inputError = this.inputErrors.get(child);
        if (inputError) reject(new UserError(`could not send '${what}' to the builder ${this.where}: ${oneLine(inputError)}`));
        else if (code === 0) resolve();
        else if (code === LOST && !ownExit255(stderr).own) reject(this.lostError(what, stderr));
        else reject(new UserError(`'[${this.where}] ${what}' exited ${code} (${stderr.trim().split('\n').pop() ?? ''})`));
      });
    });
  }

  async makeTempDir(prefix: string, mode?: number): Promise<string> {
    const r = await this.sh('umask 077; mktemp -d "${TMPDIR:-/tmp}/$1XXXXXX"', [prefix], { purpose: 'make a temporary folder on the builder' });
    const dir = r.stdout.trim();
    if (mode !== undefined) await this.run('chmod', [mode.toString(8).padStart(4, '0'), dir]);
    return dir;
  }

  async listTemp(prefix: string): Promise<string[]> {
    const r = await this.sh('for d in "${TMPDIR:-/tmp}/$1"*; do [ -e "$d" ] && printf "%s\\n" "$d"; done; true', [prefix]);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  async makeDir(path: string, mode?: number): Promise<void> {
    await this.run('mkdir', ['-p', ...(mode === undefined ? [] : ['-m', mode.toString(8).padStart(4, '0')]), path], { purpose: `make ${path}` });
  }

  async writeFolder(dir: string, tar: Readable, what: string): Promise<void> {
    const args = ['-x', '-p', '--no-same-owner', '-f', '-', '-C', dir];
    const child = this.stream('tar', args, tar);
    const done = this.finished(child, `tar -xpf - -C ${dir}   # ${what}`);
    child.stdout!.resume();
    await done;
  }

  async writeFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    await this.run('sh', ['-c', 'cat > "$1.tmp" && chmod "$2" "$1.tmp" && mv "$1.tmp" "$1"', 'sh', path, mode.toString(8)], {
      input: typeof data === 'string' ? data : Buffer.from(data).toString('utf8'),
      purpose: `write ${path}`,
    });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    if (!(await this.exists(path))) return undefined;
    const { stream } = await this.openRead(path, false);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async openRead(path: string, sized = true): Promise<FileStream> {
    let size = -1;
    if (sized) {
      const r = await this.sh('wc -c < "$1"', [path], { purpose: `read the size of ${path}` });
      size = Number(r.stdout.trim());
    }
    const child = this.stream('cat', [path]);
    const done = this.finished(child, `cat ${path}`);
    return { size, stream: untilExit(child.stdout!, done) };
  }

  /** One remote command: a line per file (its size, or '-' when missing), then the files' bytes back to back. */
  async openReadAll(paths: readonly string[]): Promise<FilesStream> {
    const script = 'for f; do if [ -f "$f" ]; then wc -c < "$f"; else echo -; fi; done; for f; do if [ -f "$f" ]; then cat "$f"; fi; done';
    const child = this.stream('sh', ['-c', script, 'sh', ...paths]);
    const done = this.finished(child, `cat ${paths.join(' ')}`);
    const out = child.stdout!;
    // The header: one line per file, read off the front of the stream; the rest is the files' bytes.
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        let nl: number;
        while (lines.length < paths.length && (nl = head.indexOf(10)) >= 0) {
          lines.push(head.subarray(0, nl).toString('utf8').trim());
          head = head.subarray(nl + 1);
        }
        if (lines.length < paths.length) return;
        out.off('data', onData);
        out.pause();
        if (head.length) out.unshift(head);
        resolve();
      };
      out.on('data', onData);
      done.then(() => reject(new UserError(`the builder ${this.where} did not list ${paths.join(', ')}`)), reject);
    });
    return { sizes: lines.map((l) => (l === '-' ? undefined : Number(l))), stream: untilExit(out, done) };
  }

  async exists(path: string): Promise<boolean> {
    return (await this.run('test', ['-e', path], { allowFailure: true })).exitCode === 0;
  }

  async writable(path: string): Promise<boolean> {
    return (await this.run('test', ['-w', path], { allowFailure: true })).exitCode === 0;
  }

  async rename(from: string, to: string): Promise<void> {
    await this.run('mv', [from, to], { purpose: `rename ${from}` });
  }

  async remove(path: string): Promise<void> {
    await this.run('rm', ['-rf', path], { purpose: `remove ${path}` });
  }

  async inProcess<T>(line: string, work: () => Promise<T>): Promise<T> {
    this.options.runner.log(`\n$ ${line}   # in-process, on this machine\n`);
    return work();
  }

  /** Forward a free local port through the connection to ip:port as the builder sees it. */
  async reach(ip: string, port: number): Promise<string> {
    const local = await freeLocalPort();
    const args = [...this.common(), '-O', 'forward', '-L', `127.0.0.1:${local}:${ip}:${port}`, this.options.target.host];
    const r = await this.options.runner.run('ssh', args, { allowFailure: true, display: `ssh -O forward -L 127.0.0.1:${local}:${ip}:${port} ${this.where}`, dropEnv: secretEnvNames() });
    if (r.exitCode !== 0) throw new UserError(`could not forward a port to ${ip}:${port} through the connection to ${this.where} (${r.stderr.trim().split('\n').pop() ?? ''})`);
    return `http://127.0.0.1:${local}`;
  }

  async close(): Promise<void> {
    if (this.connected) {
      this.connected = false;
      await this.options.runner.run('ssh', [...this.common(), '-O', 'exit', this.options.target.host], { allowFailure: true, display: `ssh -O exit ${this.where}`, dropEnv: secretEnvNames() }).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The bytes of `out` (an ssh process's stdout), ending only once `done` (its exit) says the
 * transfer succeeded and failing with its reason otherwise: the pipe's end comes before
 * ssh's exit status, and a dropped connection (exit 255) must not read as a short file.
 */
function untilExit(out: Readable, done: Promise<void>): Readable {
  const stream = new Readable({
    highWaterMark: 1024 * 1024,
    read: () => { out.resume(); },
    destroy: (error, callback) => {
      out.destroy();
      callback(error);
    },
  });
  out.on('data', (chunk: Buffer) => { if (!stream.push(chunk)) out.pause(); });
  out.on('end', () => { done.then(() => stream.push(null), () => undefined); });
  out.on('error', (error) => stream.destroy(error));
  done.catch((error: unknown) => stream.destroy(error as Error));
  return stream;
}

/** What `ssh ARGS` prints ('' when it fails: then ssh's own choice stands). */
function sshConfig(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'ignore'], env: withoutSecrets() });
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', () => resolve(''));
    child.on('close', (code) => resolve(code === 0 ? out : ''));
  });
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
