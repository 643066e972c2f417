// The --dry-run host: records every operation as the shell command it amounts
// to and answers as if it succeeded with no output (results are marked
// `planned`, so no verdict is drawn from them). The steps run unchanged; what
// they did is the plan. A remote builder's lines name the host they run on.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Readable as ReadableStream } from 'node:stream';
import { redact } from '../runner/redact.js';
import { commandLine, shellQuote } from '../runner/shell-quote.js';
import type { RunOptions, RunResult } from '../runner/types.js';
import type { BuilderHost, FileStream, FilesStream } from './host.js';
import { modeFlag } from './local-host.js';

const q = shellQuote;

/** One step of the plan: its title, why it would be skipped, and its lines with where each runs. */
export interface PlanStep {
  title: string;
  /** Set when the step would not run (its skip reason). */
  skipped?: string;
  lines: Array<{ line: string; host: string }>;
}

/** Where in-process work (signing, hashing, uploads) is done, in the plan's step headings. */
export const IN_PROCESS = 'done by pot-image itself on this host';

/** The plan, shared by the hosts of one build (the builder and this machine): steps in order, lines in order. */
export class PlanBook {
  readonly steps: PlanStep[] = [];
  constructor(private readonly secrets: readonly string[] = []) {}

  /** Every line, in order (the plan as a flat list). */
  get lines(): string[] {
    return this.steps.flatMap((s) => s.lines.map((l) => l.line));
  }

  /** Lines recorded from now on belong to this step. */
  step(title: string): void {
    this.steps.push({ title, lines: [] });
  }

  /** A step that would not run, with the reason. */
  skipped(title: string, reason: string): void {
    this.steps.push({ title, skipped: reason, lines: [] });
  }

  record(line: string, secrets: readonly string[] = [], host = IN_PROCESS): void {
    if (this.steps.length === 0) this.step('before the first step');
    this.steps[this.steps.length - 1]!.lines.push({ line: redact(line, [...this.secrets, ...secrets]), host });
  }
}

/** The plan as text: a heading, each step with where it would run, then its commands. */
export function formatPlan(steps: readonly PlanStep[], what: string): string {
  const out = [`# PLAN: nothing has been run. ${what} would run these commands, step by step:`];
  const commands = steps.reduce((n, s) => n + s.lines.length, 0);
  steps.forEach((step, i) => {
    out.push('');
    if (step.skipped !== undefined) {
      // Reasons read "publish: skipped (--no-publish)" in the progress view; the plan needs the why only.
      const why = step.skipped.replace(/^[^(]*\bskipped\b\s*/, '').replace(/^\((.*)\)$/, '$1') || 'skipped';
      out.push(`# step ${i + 1}: ${step.title} -- would be skipped: ${why}`);
      return;
    }
    const hosts = [...new Set(step.lines.map((l) => l.host))];
    const where = hosts.length === 0 ? 'nothing' : hosts.length === 1 ? hosts[0]! : `${hosts.slice(0, -1).join(', ')} and ${hosts[hosts.length - 1]!}`;
    out.push(`# step ${i + 1}: ${step.title} -- would be ${where}`);
    for (const { line } of step.lines) out.push(line);
  });
  out.push('', `# end of plan: ${commands} commands in ${steps.length} steps; nothing has been run`);
  return out.join('\n');
}

/** Where the plan's temporary folders are shown (the real one is the host's $TMPDIR or /tmp). */
export const PLAN_TMP = '/tmp';

/** The prefix of a plan line that runs on a remote builder: `[root@builder:22] `. */
export function wherePrefix(where: string): string {
  return where ? `[${where}] ` : '';
}

export class PlanHost implements BuilderHost {
  /** where: the SSH builder this host stands for ('' for this machine); role: how the plan's headings name it. */
  constructor(readonly book: PlanBook, readonly where = '', private readonly role = where ? `run on the builder ${where} over SSH` : 'run on this host') {}

  get lines(): string[] {
    return this.book.lines;
  }

  /** Add a line to the plan, marked with the host it runs on. */
  record(line: string, secrets: readonly string[] = [], host = this.role): void {
    this.book.record(`${line.startsWith('#') ? '' : wherePrefix(this.where)}${line}`, secrets, host);
  }

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.record(commandLine(command, args), options.secrets);
    return { command, args, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned: true };
  }

  abort(): void {
    // Nothing runs, so nothing to kill.
  }

  async makeTempDir(prefix: string, mode?: number): Promise<string> {
    const dir = join(PLAN_TMP, `${prefix}XXXXXX`);
    this.record(`mktemp -d ${q(dir)}${mode === undefined ? '' : ` && chmod ${mode.toString(8).padStart(4, '0')} ${q(dir)}`}`);
    return dir;
  }

  async listTemp(prefix: string): Promise<string[]> {
    this.record(`ls -d ${q(join(PLAN_TMP, prefix))}*`);
    return [];
  }

  async makeDir(path: string, mode?: number): Promise<void> {
    this.record(`mkdir -p ${modeFlag(mode)}${q(path)}`);
  }

  async writeFolder(dir: string, stream: Readable, what: string): Promise<void> {
    // Nothing is sent: drain the stream so its producer finishes cleanly.
    stream.resume();
    await finished(stream);
    this.record(`tar -xpf - -C ${q(dir)}   # ${what}`);
  }

  async writeFile(path: string, _data: string | Uint8Array, mode = 0o644): Promise<void> {
    this.record(`install -m ${mode.toString(8).padStart(4, '0')} /dev/stdin ${q(path)}`);
  }

  async readFile(path: string): Promise<Buffer> {
    this.record(`cat ${q(path)}`);
    return Buffer.alloc(0);
  }

  async openRead(path: string): Promise<FileStream> {
    this.record(`cat ${q(path)}`);
    return { size: 0, stream: ReadableStream.from([]) };
  }

  async openReadAll(paths: readonly string[]): Promise<FilesStream> {
    this.record(`cat ${paths.map(q).join(' ')}`);
    return { sizes: paths.map(() => 0), stream: ReadableStream.from([]) };
  }

  async exists(path: string): Promise<boolean> {
    this.record(`test -e ${q(path)}`);
    return false;
  }

  async writable(path: string): Promise<boolean> {
    this.record(`test -w ${q(path)}`);
    return true;
  }

  async rename(from: string, to: string): Promise<void> {
    this.record(`mv ${q(from)} ${q(to)}`);
  }

  async remove(path: string): Promise<void> {
    this.record(`rm -rf ${q(path)}`);
  }

  async inProcess<T>(line: string, _work?: () => Promise<T>): Promise<T | undefined> {
    this.record(line, [], IN_PROCESS);
    return undefined;
  }

  async reach(ip: string, port: number): Promise<string> {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    if (!this.where) return port === 80 ? `http://${host}` : `http://${host}:${port}`;
    // A remote builder's jail is reached through a port forwarded over the connection (SshHost.reach).
    this.book.record(`ssh -O forward -L 127.0.0.1:<free port>:${ip}:${port} ${this.where}`, [], 'run on this host');
    return 'http://127.0.0.1:<free port>';
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
