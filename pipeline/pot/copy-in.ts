import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot copy-in -p NAME -s SOURCE -d DESTINATION` (DESTINATION absolute inside the jail). */
export function copyInArgs(name: string, source: string, destination: string): string[] {
  return ['copy-in', '-p', name, '-s', source, '-d', destination];
}

export function potCopyIn(runner: CommandRunner, name: string, source: string, destination: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, copyInArgs(name, source, destination), { purpose: `copy ${source} to ${destination} in ${name}`, ...options });
}
