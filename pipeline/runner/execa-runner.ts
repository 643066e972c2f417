// The real runner: execa, with every command, its exit code, duration and
// output appended to the build log (secrets redacted).
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { UserError } from '../errors.js';
import { redact } from './redact.js';
import { commandLine } from './shell-quote.js';
import type { CommandRunner, RunOptions, RunResult } from './types.js';

export interface ExecaRunnerOptions {
  /** Build log file; undefined → no log. */
  logFile?: string;
  /** Secrets redacted from everything this runner logs or reports. */
  secrets?: string[];
  /** Also stream command output to stderr (--verbose). */
  verbose?: boolean;
  /** Extra PATH entries in front (tests put stand-ins there). */
  pathPrefix?: string[];
}

/**
 * The line that says why a command failed. pot prints its errors as `###>  …` lines
 * on stdout, usually followed by the sub-command's help, so the last of those lines
 * wins; otherwise the last line of stderr, else of stdout.
 */
export function failureLine(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`.split('\n');
  const potError = lines.filter((l) => l.startsWith('###>')).pop();
  if (potError !== undefined) return potError.replace(/^###>\s*/, '').trim();
  return (stderr || stdout).trim().split('\n').slice(-1)[0] ?? '';
}

/**
 * Every command runs as the leader of its own process group, and signals go to the
 * whole group: pot re-runs create/clone as a child under `lockf`, so signalling only
 * the process we started would leave the real work running while cleanup destroys
 * the pot. Whatever still runs when this process exits is terminated too.
 */
const liveGroups = new Set<ResultPromise>();
function signalGroup(child: ResultPromise, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
process.once('exit', () => {
  for (const child of liveGroups) signalGroup(child, 'SIGTERM');
});

export class ExecaRunner implements CommandRunner {
  private readonly running = new Set<ResultPromise>();
  constructor(private readonly options: ExecaRunnerOptions = {}) {
    if (options.logFile) mkdirSync(dirname(options.logFile), { recursive: true });
  }

  /** The build log file, when there is one. */
  get logFile(): string | undefined {
    return this.options.logFile;
  }

  /** Secrets this runner blanks out. */
  get secrets(): readonly string[] {
    return this.options.secrets ?? [];
  }

  log(text: string, secrets: readonly string[] = []): void {
    if (!this.options.logFile) return;
    appendFileSync(this.options.logFile, redact(text, [...(this.options.secrets ?? []), ...secrets]));
  }

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const secrets = [...(this.options.secrets ?? []), ...(options.secrets ?? [])];
    const shown = redact(options.display ?? commandLine(command, args), secrets);
    const started = Date.now();
    this.log(`\n$ ${shown}\n`, secrets);
    const env: Record<string, string | undefined> = { ...options.env };
    // undefined: execa merges this over process.env and Node leaves such a variable out.
    for (const name of options.dropEnv ?? []) env[name] = undefined;
    if (this.options.pathPrefix?.length) {
      env.PATH = [...this.options.pathPrefix, process.env.PATH ?? ''].join(':');
    }
    const child = execa(command, args, {
      cwd: options.cwd,
      env,
      input: options.input,
      reject: false,
      all: true,
      detached: true,
      timeout: options.timeoutMs,
      forceKillAfterDelay: 5000,
      cleanup: true,
    });
    this.running.add(child);
    liveGroups.add(child);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.log(text, secrets);
      if (this.options.verbose) process.stderr.write(redact(text, secrets));
      if (options.onLine) for (const line of text.split('\n')) if (line.trim()) options.onLine(redact(line, secrets));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let result;
    try {
      result = await child;
    } finally {
      this.running.delete(child);
      liveGroups.delete(child);
    }
    const durationMs = Date.now() - started;
    const exitCode = result.exitCode ?? (result.failed ? 1 : 0);
    this.log(`# exit ${exitCode} after ${(durationMs / 1000).toFixed(1)}s${result.signal ? ` (signal ${result.signal})` : ''}\n`, secrets);
    const out: RunResult = {
      command,
      args,
      exitCode,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      durationMs,
    };
    if (result.failed && 'code' in result && (result as { code?: string }).code === 'ENOENT') {
      throw new UserError(`'${command}' is not installed or not on PATH; install it and run again`);
    }
    if (exitCode !== 0 && !options.allowFailure) {
      const last = redact(failureLine(out.stdout, out.stderr), secrets);
      const what = options.purpose ? `could not ${options.purpose}: ` : '';
      const log = this.options.logFile ? `; see ${this.options.logFile}` : '';
      throw new UserError(`${what}'${shown}' exited ${exitCode}${last ? ` (${last})` : ''}${log}`);
    }
    return out;
  }

  abort(): void {
    for (const child of this.running) signalGroup(child, 'SIGTERM');
  }
}
