// The --dry-run runner: records every command instead of running it and
// answers as if it succeeded with no output, so the build's steps can walk
// through the whole build on any OS, without root, and leave a plan behind.
import { commandLine } from './shell-quote.js';
import { redact } from './redact.js';
import type { CommandRunner, RunOptions, RunResult } from './types.js';

export class PlanRunner implements CommandRunner {
  /** The plan so far: one fully resolved, shell-quoted command per line, in order. */
  readonly lines: string[] = [];

  constructor(private readonly secrets: readonly string[] = []) {}

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.record(commandLine(command, args), options.secrets);
    return { command, args, exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
  }

  /** Add a line written by an in-process step (ctx.note), already in shell form. */
  record(line: string, secrets: readonly string[] = []): void {
    this.lines.push(redact(line, [...this.secrets, ...secrets]));
  }

  abort(): void {
    // Nothing runs, so nothing to kill.
  }
}
