import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot exec -p NAME CMD…` (the pot must be running). */
export function execArgs(name: string, command: readonly string[]): string[] {
  return ['exec', '-p', name, ...command];
}

export function potExec(runner: CommandRunner, name: string, command: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, execArgs(name, command), options);
}
