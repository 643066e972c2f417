// An in-process CommandRunner that plays the few pot, pkg and tail commands the
// acceptance step uses, following pot 0.16's argument contract, and records
// every call. `pot start` of a non-persistent pot blocks until `pot stop`, as pot does.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../pipeline/errors.js';
import type { CommandRunner, RunOptions, RunResult } from '../../pipeline/runner/types.js';

export interface Call { command: string; args: string[]; options: RunOptions }

export interface FakeRunnerOptions {
  /** Pots that exist before the test (the built pot). */
  pots: string[];
  /** pot's fs_root: a real temp folder, so logs can be read with tail. */
  fsRoot: string;
  /** What `pot info -E` reports as _POT_IP ('' → none, as with network inherit). */
  ip?: string;
  /** Called by `pot start` with the pot's environment (the jail "boots"). */
  onStart?: (pot: string, env: Record<string, string>) => void;
  /** `pot start` returns at once with this exit code (cook died). */
  startExitCode?: number;
  /** Lines cook and Synapse "wrote" into the clone's logs. */
  cookLog?: string;
  synapseLog?: string;
  /** `pot exec` handler: (pot, command) → exit code and output. */
  exec?: (pot: string, command: string[]) => { exitCode: number; stdout?: string; stderr?: string };
  /** `pkg query` output and `pkg audit` result. */
  packagesTsv?: string;
  audit?: { exitCode: number; stdout: string; stderr?: string };
  /** Make these pot verbs fail (exit 1). */
  failing?: string[];
  /** `ssh` handler (the jail's sshd): default key login as control works, password is not offered. */
  ssh?: (args: string[]) => { exitCode: number; stdout?: string; stderr?: string };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function flags(args: string[], name: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => { if (a === name && args[i + 1] !== undefined) out.push(args[i + 1]!); });
  return out;
}

export class FakeRunner implements CommandRunner {
  readonly calls: Call[] = [];
  readonly pots: Set<string>;
  readonly running = new Set<string>();
  readonly env = new Map<string, Record<string, string>>();
  readonly attributes = new Map<string, Record<string, string>>();
  readonly mounts = new Map<string, { dir: string; mountpoint: string }[]>();
  readonly cmd = new Map<string, string>();
  readonly copied = new Map<string, { source: string; destination: string; text: string }[]>();
  private readonly stops = new Map<string, (r: RunResult) => void>();

  constructor(readonly o: FakeRunnerOptions) {
    this.pots = new Set(o.pots);
  }

  /** What cook reads from /secrets/matrix-synapse.env: the file in the folder mounted at /secrets. */
  secretsFile(p: string): Record<string, string> {
    const dir = this.mounts.get(p)?.find((m) => m.mountpoint === '/secrets')?.dir;
    const file = dir ? join(dir, 'matrix-synapse.env') : undefined;
    if (!file || !existsSync(file)) return {};
    const out: Record<string, string> = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    return out;
  }

  /** The pot sub-commands called, in order ("clone", "set-env", …). */
  potVerbs(): string[] {
    return this.calls.filter((c) => c.command === 'pot').map((c) => c.args[0]!);
  }

  /** What abort() does to `pot start` on a real runner: the process is killed (the jail itself keeps running). */
  stopAll(): void {
    for (const [p, wake] of this.stops) wake(this.done('pot', ['start', '-p', p], 143, '', 'killed by SIGTERM'));
    this.stops.clear();
  }

  abort(): void {
    this.stopAll();
  }

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ command, args, options });
    const result = await this.play(command, args);
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new UserError(`${options.purpose ? `could not ${options.purpose}: ` : ''}'${command} ${args.join(' ')}' exited ${result.exitCode} (${result.stderr.trim()})`);
    }
    return result;
  }

  private done(command: string, args: string[], exitCode = 0, stdout = '', stderr = ''): RunResult {
    return { command, args, exitCode, stdout, stderr, durationMs: 0 };
  }

  private async play(command: string, args: string[]): Promise<RunResult> {
    const fail = (msg: string, code = 1) => this.done(command, args, code, '', `${msg}\n`);
    if (command === 'tail') {
      const file = args[args.length - 1]!;
      if (!existsSync(file)) return fail(`tail: cannot open '${file}' for reading: No such file or directory`);
      const n = Number(flag(args, '-n') ?? 10);
      const lines = readFileSync(file, 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return this.done(command, args, 0, `${lines.slice(-n).join('\n')}\n`);
    }
    if (command === 'pkg') {
      const root = flag(args, '-c');
      if (root !== undefined && !existsSync(root)) return fail(`pkg: chroot failed: ${root}: No such file or directory`);
      if (args.includes('query')) return this.done(command, args, 0, this.o.packagesTsv ?? '');
      if (args.includes('audit')) {
        const a = this.o.audit ?? { exitCode: 0, stdout: '{"pkg_count": 0}\n' };
        return this.done(command, args, a.exitCode, a.stdout, a.stderr ?? '');
      }
      return fail(`pkg: unknown command ${args.join(' ')}`, 64);
    }
    if (command === 'chroot') {
      // The image's runtime-check helper in the built pot's root: every program answers.
      if (!existsSync(args[0]!)) return fail(`chroot: ${args[0]}: No such file or directory`);
      return this.done(command, args, 0, 'ok   net-im/py-matrix-synapse: synapse 1.116.0\nok   net/py-matrix-synapse-ldap3: ldap_auth_provider 0.3.0\nok   www/nginx: nginx version: nginx/1.26.2\nok   security/acme.sh: v3.0.7\n');
    }
    if (command === 'ssh-keygen') {
      const key = flag(args, '-f')!;
      writeFileSync(key, 'fake private key\n', { mode: 0o600 });
      writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAAfake pot-image-smoke-test\n');
      return this.done(command, args);
    }
    if (command === 'ssh') {
      const r = this.o.ssh?.(args) ?? (args.includes('-i')
        ? { exitCode: 0, stdout: 'control\n' }
        : { exitCode: 255, stderr: 'control@127.0.0.1: Permission denied (publickey).\n' });
      return this.done(command, args, r.exitCode, r.stdout ?? '', r.stderr ?? '');
    }
    if (command !== 'pot') return fail(`${command}: not found`, 127);

    const verb = args[0]!;
    if (this.o.failing?.includes(verb)) return fail(`pot ${verb}: injected failure`);
    const p = flag(args, '-p');
    switch (verb) {
      case 'config':
        return flag(args, '-g') === 'fs_root' ? this.done(command, args, 0, `${this.o.fsRoot}\n`) : fail('bad config name');
      case 'clone': {
        const base = flag(args, '-P');
        if (!p || !base) return fail('pot name is missing (option -p)');
        if (!this.pots.has(base)) return fail(`reference pot ${base} not found`);
        if (this.pots.has(p)) return fail(`pot ${p} already exists`);
        if (p.includes('.')) return fail(`${p} is not a valid name for a pot ('.' is the only character not allowed)`);
        this.pots.add(p);
        const logDir = join(this.o.fsRoot, 'jails', p, 'm', 'var', 'log');
        mkdirSync(join(logDir, 'matrix-synapse'), { recursive: true });
        if (this.o.cookLog !== undefined) writeFileSync(join(logDir, 'cook.log'), this.o.cookLog);
        if (this.o.synapseLog !== undefined) writeFileSync(join(logDir, 'matrix-synapse', 'homeserver.log'), this.o.synapseLog);
        return this.done(command, args);
      }
      case 'set-attribute': {
        if (!p || !this.pots.has(p)) return fail(`pot ${p} is not valid`);
        const attr = flag(args, '-A');
        const value = flag(args, '-V');
        if (!attr || value === undefined) return fail('-A and -V are mandatory');
        this.attributes.set(p, { ...(this.attributes.get(p) ?? {}), [attr]: value });
        return this.done(command, args);
      }
      case 'set-cmd':
        if (!p || !this.pots.has(p)) return fail(`pot ${p} is not valid`);
        this.cmd.set(p, flag(args, '-c') ?? '');
        return this.done(command, args);
      case 'mount-in': {
        const dir = flag(args, '-d');
        const mnt = flag(args, '-m');
        if (!p || !this.pots.has(p)) return fail(`pot ${p} is not valid`);
        if (!dir || !existsSync(dir)) return fail(`${dir} is not a directory`);
        if (!mnt || !mnt.startsWith('/')) return fail('The mount point has to be an absolute pathname');
        this.mounts.set(p, [...(this.mounts.get(p) ?? []), { dir, mountpoint: mnt }]);
        return this.done(command, args);
      }
      case 'copy-in': {
        const source = flag(args, '-s');
        const destination = flag(args, '-d');
        if (!p || !this.pots.has(p)) return fail(`pot ${p} is not valid`);
        if (!source || !existsSync(source)) return fail(`The source ${source} is not valid`);
        if (!destination || !destination.startsWith('/')) return fail('The destination has to be an absolute pathname');
        this.copied.set(p, [...(this.copied.get(p) ?? []), { source, destination, text: readFileSync(source, 'utf8') }]);
        return this.done(command, args);
      }
      case 'set-env': {
        if (!p || !this.pots.has(p)) return fail(`pot ${p} is not valid`);
        const env: Record<string, string> = {};
        for (const e of flags(args, '-E')) {
          const at = e.indexOf('=');
          if (at <= 0) return fail(`${e} not in a valid form`);
          env[e.slice(0, at)] = e.slice(at + 1);
        }
        this.env.set(p, env);
        return this.done(command, args);
      }
      case 'info':
        if (!p || !this.pots.has(p)) return fail(`${p} is not a pot`);
        if (args.includes('-r')) return this.done(command, args, this.running.has(p) ? 0 : 1);
        return this.done(command, args, 0, `export _POT_NAME=${p}\n${this.o.ip === '' ? '' : `export _POT_IP=${this.o.ip ?? '127.0.0.1'}\n`}`);
      case 'start': {
        if (!p || !this.pots.has(p)) return fail(`pot ${p} not found`);
        this.running.add(p);
        this.o.onStart?.(p, { ...this.env.get(p), ...this.secretsFile(p) });
        if (this.o.startExitCode !== undefined) {
          this.running.delete(p);
          return this.done(command, args, this.o.startExitCode);
        }
        return new Promise((resolve) => this.stops.set(p, resolve));
      }
      case 'stop': {
        if (!p || !this.pots.has(p)) return fail(`pot ${p} not found`);
        this.running.delete(p);
        const wake = this.stops.get(p);
        this.stops.delete(p);
        wake?.(this.done('pot', ['start', '-p', p], 0));
        return this.done(command, args);
      }
      case 'destroy': {
        if (!p || !this.pots.has(p)) return fail(`pot ${p} not found or corrupted. Try to use the -F flag`);
        if (this.running.has(p) && !args.includes('-F')) return fail(`pot ${p} is running`);
        this.running.delete(p);
        this.pots.delete(p);
        rmSync(join(this.o.fsRoot, 'jails', p), { recursive: true, force: true });
        return this.done(command, args);
      }
      case 'exec': {
        if (!p || !this.running.has(p)) return fail('The pot is not running');
        const rest = args.slice(args.indexOf(p) + 1);
        const r = this.o.exec?.(p, rest) ?? { exitCode: 127, stderr: `${rest[0]}: not found` };
        return this.done(command, args, r.exitCode, r.stdout ?? '', r.stderr ?? '');
      }
      default:
        return fail(`pot: unknown command ${verb}`);
    }
  }
}
