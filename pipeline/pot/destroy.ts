import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot destroy [-F] -p NAME`; -F stops a running pot first. */
export function destroyArgs(name: string, force = false): string[] {
  return ['destroy', ...(force ? ['-F'] : []), '-p', name];
}

export function potDestroy(runner: CommandRunner, name: string, force = false, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, destroyArgs(name, force), { purpose: `destroy the pot ${name}`, ...options });
}
