import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot stop -p NAME` */
export function stopArgs(name: string): string[] {
  return ['stop', '-p', name];
}

export function potStop(runner: CommandRunner, name: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, stopArgs(name), { purpose: `stop ${name}`, ...options });
}
