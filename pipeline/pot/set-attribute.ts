import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot set-attribute -p NAME -A ATTR -V VALUE` (share/pot/set-attribute.sh). */
export function setAttributeArgs(name: string, attr: string, value: string): string[] {
  return ['set-attribute', '-p', name, '-A', attr, '-V', value];
}

export function potSetAttribute(runner: CommandRunner, name: string, attr: string, value: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, setAttributeArgs(name, attr, value), { purpose: `set ${attr}=${value} on ${name}`, ...options });
}
