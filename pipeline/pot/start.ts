import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot start -p NAME`: for a non-persistent pot this blocks until the start command exits. */
export function startArgs(name: string): string[] {
  return ['start', '-p', name];
}

export function potStart(runner: CommandRunner, name: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, startArgs(name), { purpose: `start ${name}`, ...options });
}
