// The --dry-run runner: records every command instead of running it and
// answers as if it succeeded with no output, so the build's steps can walk
// through the whole build on any OS, without root, and leave a plan behind.
// The plan is grouped by step, each naming where its commands would run, and
// printed as a shell script whose comments make clear that nothing has run.
import { commandLine } from './shell-quote.js';
import { redact } from './redact.js';
import type { CommandRunner, RunOptions, RunResult } from './types.js';

/** Where a recorded line would run. */
export type PlanHost = 'builder' | 'pot-image';

export interface PlanStep {
  title: string;
  /** Set when the step would not run (its skip reason). */
  skipped?: string;
  lines: Array<{ line: string; host: PlanHost }>;
}

export class PlanRunner implements CommandRunner {
  readonly steps: PlanStep[] = [];

  constructor(private readonly secrets: readonly string[] = []) {}

  /** The plan so far: one fully resolved, shell-quoted command per line, in order. */
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

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.add(commandLine(command, args), 'builder', options.secrets);
    return { command, args, exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
  }

  /** Add a line written by an in-process step (ctx.note), already in shell form. */
  record(line: string, secrets: readonly string[] = []): void {
    this.add(line, 'pot-image', secrets);
  }

  private add(line: string, host: PlanHost, secrets: readonly string[] = []): void {
    if (this.steps.length === 0) this.step('before the first step');
    this.steps[this.steps.length - 1]!.lines.push({ line: redact(line, [...this.secrets, ...secrets]), host });
  }

  abort(): void {
    // Nothing runs, so nothing to kill.
  }
}

const HOSTS: Record<PlanHost, string> = {
  builder: 'run on the builder (this host) as root',
  'pot-image': 'done by pot-image itself on this host',
};

/** The plan as text: a heading, each step with where it would run, then its commands. */
export function formatPlan(steps: readonly PlanStep[], what: string): string {
  const out = [
    `# PLAN: nothing has been run. ${what} would run these commands, step by step:`,
  ];
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
    const where = hosts.length === 0 ? 'nothing' : hosts.map((h) => HOSTS[h]).join('; ');
    out.push(`# step ${i + 1}: ${step.title} -- would be ${where}`);
    for (const { line } of step.lines) out.push(line);
  });
  out.push('', `# end of plan: ${commands} commands in ${steps.length} steps; nothing has been run`);
  return out.join('\n');
}
