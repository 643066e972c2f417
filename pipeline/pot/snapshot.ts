import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot snapshot -p NAME` (the pot must be stopped; it is after create). */
export function snapshotArgs(name: string): string[] {
  return ['snapshot', '-p', name];
}

export function potSnapshot(runner: CommandRunner, name: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, snapshotArgs(name), { purpose: `snapshot the pot ${name}`, ...options });
}
